"""Sampling during a run: the emulator's counters and the service's memory, once a second."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 if it is gone)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


@dataclass(frozen=True, slots=True)
class UpstreamSample:
    """The emulator's cumulative counters at one moment (t: seconds since the run began)."""

    t: float
    requests: int
    weight: int
    weight_this_minute: int


@dataclass
class Samples:
    """What the monitor saw: upstream counters, the service's RSS, and both end snapshots."""

    upstream: list[UpstreamSample] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)
    first_stats: dict[str, Any] = field(default_factory=dict)
    last_stats: dict[str, Any] = field(default_factory=dict)


class Monitor:
    """Polls one side's emulator `/_emulator/stats` and its service's RSS until stopped."""

    def __init__(self, emulator_url: str, service_pid: int, interval_s: float = 1.0) -> None:
        self.emulator_url = emulator_url.rstrip("/")
        self.service_pid = service_pid
        self.interval_s = interval_s
        self.samples = Samples()
        self._client = httpx.AsyncClient(timeout=5.0)
        self._task: asyncio.Task[None] | None = None
        self._origin = 0.0

    async def start(self, origin: float) -> None:
        """Take the first sample now (t measured from `origin`, a perf_counter) and go on."""
        self._origin = origin
        self.samples.first_stats = await self._sample()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> Samples:
        """Stop polling and take the last sample."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.samples.last_stats = await self._sample()
        await self._client.aclose()
        return self.samples

    async def _loop(self) -> None:
        next_at = time.perf_counter() + self.interval_s
        while True:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += self.interval_s
            await self._sample()

    async def _sample(self) -> dict[str, Any]:
        response = await self._client.get(f"{self.emulator_url}/_emulator/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        t = time.perf_counter() - self._origin
        self.samples.upstream.append(
            UpstreamSample(
                t,
                int(stats["total_requests"]),
                int(stats["total_weight"]),
                int(stats["weight_this_minute"]),
            )
        )
        self.samples.rss.append((t, rss_bytes(self.service_pid)))
        return stats


def counter_delta(before: dict[str, Any], after: dict[str, Any], key: str) -> dict[str, int]:
    """Per-path growth of one of the emulator's per-path counters between two snapshots."""
    old: dict[str, int] = before.get(key, {})
    new: dict[str, int] = after.get(key, {})
    grown = {path: int(n) - int(old.get(path, 0)) for path, n in new.items()}
    return {path: n for path, n in sorted(grown.items()) if n}
