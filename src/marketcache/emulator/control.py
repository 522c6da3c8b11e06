"""Clients of the emulator's `/_emulator/*` control endpoints (sync and async, httpx)."""

from __future__ import annotations

from typing import Any

import httpx


def _fault_body(
    fault: str | None,
    count: int | None,
    ratio: float | None,
    path: str | None,
    latency_ms: float | None,
    jitter_ms: float | None,
    retry_after: int | None,
) -> dict[str, Any]:
    pairs = {
        "fault": fault,
        "count": count,
        "ratio": ratio,
        "path": path,
        "latency_ms": latency_ms,
        "jitter_ms": jitter_ms,
        "retry_after": retry_after,
    }
    return {key: value for key, value in pairs.items() if value is not None}


def _checked(response: httpx.Response) -> Any:
    response.raise_for_status()
    return response.json()


class EmulatorControl:
    """Synchronous control of a running emulator at `url`."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout)

    def info(self) -> dict[str, Any]:
        """GET /_emulator/info."""
        return dict(_checked(self._client.get("/_emulator/info")))

    def stats(self) -> dict[str, Any]:
        """GET /_emulator/stats."""
        return dict(_checked(self._client.get("/_emulator/stats")))

    def reset(self) -> None:
        """POST /_emulator/reset: zero counters, remove latency and faults."""
        _checked(self._client.post("/_emulator/reset"))

    def set_faults(
        self,
        fault: str | None = None,
        *,
        count: int | None = None,
        ratio: float | None = None,
        path: str | None = None,
        latency_ms: float | None = None,
        jitter_ms: float | None = None,
        retry_after: int | None = None,
    ) -> dict[str, Any]:
        """POST /_emulator/faults with the given settings; returns the active configuration."""
        body = _fault_body(fault, count, ratio, path, latency_ms, jitter_ms, retry_after)
        return dict(_checked(self._client.post("/_emulator/faults", json=body)))

    def clear_faults(self) -> None:
        """DELETE /_emulator/faults."""
        _checked(self._client.delete("/_emulator/faults"))

    def advance_clock(self, ms: int) -> int:
        """Move the emulator's clock forward; returns its new time in ms."""
        return int(_checked(self._client.post("/_emulator/clock", json={"advance_ms": ms}))["now"])

    def set_clock(self, ms: int) -> int:
        """Put the emulator's clock at `ms`; returns it."""
        return int(_checked(self._client.post("/_emulator/clock", json={"set_ms": ms}))["now"])

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEmulatorControl:
    """Asynchronous control of a running emulator at `url`."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.url, timeout=timeout)

    async def info(self) -> dict[str, Any]:
        """GET /_emulator/info."""
        return dict(_checked(await self._client.get("/_emulator/info")))

    async def stats(self) -> dict[str, Any]:
        """GET /_emulator/stats."""
        return dict(_checked(await self._client.get("/_emulator/stats")))

    async def reset(self) -> None:
        """POST /_emulator/reset."""
        _checked(await self._client.post("/_emulator/reset"))

    async def set_faults(
        self,
        fault: str | None = None,
        *,
        count: int | None = None,
        ratio: float | None = None,
        path: str | None = None,
        latency_ms: float | None = None,
        jitter_ms: float | None = None,
        retry_after: int | None = None,
    ) -> dict[str, Any]:
        """POST /_emulator/faults."""
        body = _fault_body(fault, count, ratio, path, latency_ms, jitter_ms, retry_after)
        return dict(_checked(await self._client.post("/_emulator/faults", json=body)))

    async def clear_faults(self) -> None:
        """DELETE /_emulator/faults."""
        _checked(await self._client.delete("/_emulator/faults"))

    async def advance_clock(self, ms: int) -> int:
        """Move the emulator's clock forward; returns its new time in ms."""
        response = await self._client.post("/_emulator/clock", json={"advance_ms": ms})
        return int(_checked(response)["now"])

    async def set_clock(self, ms: int) -> int:
        """Put the emulator's clock at `ms`; returns it."""
        return int(
            _checked(await self._client.post("/_emulator/clock", json={"set_ms": ms}))["now"]
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def __aenter__(self) -> AsyncEmulatorControl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
