"""Run the emulator as a child process on a free loopback port (for serve --offline, tests)."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import IO, Self

import httpx

from marketcache import procutil
from marketcache.errors import MarketCacheError

_BANNER = "emulator listening on "


class EmulatorStartError(MarketCacheError):
    """The emulator process did not come up."""


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


class EmulatorProcess:
    """`python -m marketcache emulator --port 0 ...` as a child; `.url` once started."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        weight_limit: int | None = None,
        frozen: bool = False,
        clock_start: str | int | None = None,
        seed: int | None = None,
        start_timeout: float = 30.0,
        extra_args: list[str] | None = None,
        die_with_parent: bool = False,
    ) -> None:
        self.die_with_parent = die_with_parent
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        args = ["--host", host, "--port", str(port)]
        if latency_ms:
            args += ["--latency-ms", str(latency_ms)]
        if jitter_ms:
            args += ["--jitter-ms", str(jitter_ms)]
        if weight_limit is not None:
            args += ["--weight-limit", str(weight_limit)]
        if frozen:
            args.append("--frozen")
        if clock_start is not None:
            args += ["--clock-start", str(clock_start)]
        if seed is not None:
            args += ["--seed", str(seed)]
        self.command = [sys.executable, "-m", "marketcache", "emulator", *args, *(extra_args or [])]
        self._process: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self.output: list[str] = []

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:41234` (only once started)."""
        if self._url is None:
            raise EmulatorStartError("the emulator is not running; call start() first")
        return self._url

    @property
    def ws_url(self) -> str:
        """Websocket base of the raw streams, e.g. `ws://127.0.0.1:41234/ws`."""
        from marketcache.emulator.ccxt_urls import ws_url

        return ws_url(self.url)

    @property
    def pid(self) -> int:
        """The child's process id (only once started)."""
        if self._process is None:
            raise EmulatorStartError("the emulator is not running; call start() first")
        return self._process.pid

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the child, read its URL, wait until it answers (uncounted `/_emulator/info`)."""
        if self.running:
            return self
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            preexec_fn=procutil.die_with_parent() if self.die_with_parent else None,
        )
        assert self._process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(
            target=_read_lines, args=(self._process.stdout, lines), daemon=True
        ).start()
        deadline = time.monotonic() + self.start_timeout
        try:
            self._url = self._await_banner(lines, deadline)
            self._await_ping(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _await_banner(self, lines: queue.Queue[str | None], deadline: float) -> str:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EmulatorStartError(f"no URL from the emulator: {''.join(self.output)}")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise EmulatorStartError(f"the emulator exited: {''.join(self.output)}")
            self.output.append(line)
            if line.startswith(_BANNER):
                return line[len(_BANNER) :].strip()

    def _await_ping(self, deadline: float) -> None:
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/_emulator/info").status_code == 200:
                        return
                time.sleep(0.05)
        raise EmulatorStartError("the emulator does not answer /_emulator/info")

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the child; kill it if it has not exited after `timeout` seconds."""
        process, self._process = self._process, None
        self._url = None
        if process is None:
            return
        procutil.stop(process, timeout)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        import asyncio

        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)
