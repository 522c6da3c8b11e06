"""Client traffic for the browser test: a thread of bot-like requests that can be paused."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from types import TracebackType

import httpx

MAX_REQUESTS = 20_000  # a bound on what one test sends, whatever happens
MAX_SECONDS = 150.0


class Traffic:
    """Prices and analyses of `symbols` in a loop on one thread, until stopped (bounded)."""

    def __init__(self, url: str, symbols: Sequence[str]) -> None:
        self.url = url
        self.symbols = list(symbols)
        self.sent = 0
        self.statuses: dict[int, int] = {}
        self._running = threading.Event()  # set: send; clear: pause
        self._stop = threading.Event()
        self._idle = threading.Event()  # set while the worker is not inside a request
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="dashboard-traffic", daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        requests = itertools.cycle(
            [(path, symbol) for symbol in self.symbols for path in ("/price", "/cvd")]
        )
        with httpx.Client(base_url=self.url, timeout=10) as http:
            while not self._stop.is_set() and self.sent < MAX_REQUESTS:
                if time.monotonic() > deadline:
                    return
                if not self._running.wait(timeout=0.1):
                    continue
                self._idle.clear()
                try:
                    if self._running.is_set():
                        path, symbol = next(requests)
                        status = http.post(path, json={"symbol": symbol}).status_code
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                        self.sent += 1
                finally:
                    self._idle.set()

    def resume(self) -> None:
        """Send (again)."""
        self._running.set()

    def pause(self) -> None:
        """Stop sending; returns once no request is in flight."""
        self._running.clear()
        if not self._idle.wait(timeout=15):
            raise TimeoutError("a request of the traffic did not finish in 15 s")

    def __enter__(self) -> Traffic:
        self._thread.start()
        self.resume()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._running.set()
        self._thread.join(timeout=15)
