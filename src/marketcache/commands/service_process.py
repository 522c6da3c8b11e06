"""`ServiceProcess`: `marketcache serve` as a child process, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from types import TracebackType

import httpx

from marketcache import procutil
from marketcache.netutil import free_port

# tests and micro-benchmarks want an instant offline exchange, unless they say otherwise
INSTANT_EMULATOR = {"EMULATOR_LATENCY_MS": "0", "EMULATOR_JITTER_MS": "0"}


class ServiceProcess:
    """Start the real server on a free loopback port; wait until `/health` answers.

    Its offline emulator answers at once (`INSTANT_EMULATOR`) unless `env` sets the
    latency; `serve --offline` itself defaults to Binance-like latency.
    """

    def __init__(
        self,
        args: Sequence[str] = ("--offline",),
        *,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        start_timeout_s: float = 120.0,  # a loaded machine imports ccxt slowly
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.url = f"http://{self.host}:{self.port}"
        self.args = list(args)
        self.env = {**os.environ, **INSTANT_EMULATOR, **(env or {})}
        self.start_timeout_s = start_timeout_s
        self._log = tempfile.NamedTemporaryFile(prefix="marketcache-serve-", suffix=".log")  # noqa: SIM115 (closed in __exit__)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> ServiceProcess:
        """Start and wait until the service answers `/health`; raise with its log if not."""
        command = [sys.executable, "-m", "marketcache", "serve", "--host", self.host]
        command += ["--port", str(self.port), *self.args]
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env
        )
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"marketcache serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2.0).status_code in (200, 503):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"marketcache serve did not answer in {self.start_timeout_s}s:\n{self.log()}"
        )

    def log(self) -> str:
        """Everything the server printed so far."""
        with open(self._log.name, "rb") as handle:
            return handle.read().decode(errors="replace")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Terminate, wait, kill if it will not go."""
        if self._process is not None:
            procutil.stop(self._process, timeout_s)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()
