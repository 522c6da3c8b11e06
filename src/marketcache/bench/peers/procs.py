"""Daemons the peers bench starts: a command, a readiness check, a log file, a sure stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from marketcache import procutil


class DaemonError(RuntimeError):
    """A daemon of the bench did not come up."""


def http_ready(url: str) -> Callable[[], bool]:
    """Ready once `url` answers any HTTP status."""

    def check() -> bool:
        try:
            httpx.get(url, timeout=2.0)
        except httpx.HTTPError:
            return False
        return True

    return check


def tcp_ready(port: int, host: str = "127.0.0.1") -> Callable[[], bool]:
    """Ready once `host:port` accepts a connection."""

    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    return check


class Daemon:
    """One child process: started, polled until ready, stopped (and killed if need be)."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        ready: Callable[[], bool],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        start_timeout_s: float = 60.0,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.ready = ready
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.start_timeout_s = start_timeout_s
        self.stop_signal = stop_signal
        self._log = tempfile.NamedTemporaryFile(prefix=f"peers-{name}-", suffix=".log")  # noqa: SIM115 (closed in stop)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The process id (once started)."""
        assert self._process is not None, f"{self.name} is not started"
        return self._process.pid

    def start(self) -> Self:
        """Start the command and wait until it is ready; raise with its log if it is not."""
        self._process = subprocess.Popen(
            self.command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            preexec_fn=procutil.die_with_parent(),
        )
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = self.log()
                self.stop()
                raise DaemonError(f"{self.name} exited early:\n{log}")
            if self.ready():
                return self
            time.sleep(0.05)
        log = self.log()
        self.stop()
        raise DaemonError(f"{self.name} not ready after {self.start_timeout_s:g}s:\n{log}")

    def log(self) -> str:
        """What the process printed so far (its last 4 KiB; empty once stopped)."""
        if self._log.closed:
            return ""
        with open(self._log.name, "rb") as handle:
            return handle.read()[-4096:].decode(errors="replace")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Signal, wait, kill if it will not go; close the log."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(self.stop_signal)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout_s)
        if not self._log.closed:
            self._log.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
