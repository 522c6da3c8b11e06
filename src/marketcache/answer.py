"""An answer of the service: the `data` JSON bytes and how they were served.

In the cache an answer is `fetched_at` (the wall time at which its raw data left
the exchange), `fresh_until` and `stale_until` (when that data stops being fresh,
and may no longer be served stale), 8 bytes each, followed by the `data` JSON; a
hit is framed into the response body without parsing or re-serializing anything.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

CacheStatus = Literal["hit", "stale", "miss", "coalesced", "bypass"]

_STAMPS = struct.Struct("<ddd")
_STREAMED = b"\x01"


@dataclass(frozen=True, slots=True)
class Stamps:
    """When an answer's raw data was fetched, and its windows."""

    fetched_at: float
    fresh_until: float
    stale_until: float
    streamed: bool = False  # the raw data came from the exchange's stream, not a REST call


def encode(data: Any, stamps: Stamps) -> bytes:
    """Serialize `data` for the cache, stamped with its raw data's age and windows.

    Streamed data carries one marker byte between the stamps and the JSON (which
    never starts with it), so answers cached before streams existed decode as before.
    """
    head = _STAMPS.pack(stamps.fetched_at, stamps.fresh_until, stamps.stale_until)
    return head + (_STREAMED if stamps.streamed else b"") + orjson.dumps(data)


def decode(value: bytes) -> tuple[Stamps, bytes]:
    """`(stamps, data JSON)` from `encode`'s bytes."""
    fetched_at, fresh_until, stale_until = _STAMPS.unpack_from(value, 0)
    streamed = value[_STAMPS.size : _STAMPS.size + 1] == _STREAMED
    start = _STAMPS.size + streamed
    return Stamps(fetched_at, fresh_until, stale_until, streamed), value[start:]


def is_streamed(value: bytes) -> bool:
    """Whether `encode`'s bytes are of an answer computed from streamed data."""
    return value[_STAMPS.size : _STAMPS.size + 1] == _STREAMED


@functools.lru_cache(maxsize=4096)  # every hit of one entry formats the same instant
def iso(epoch_seconds: float) -> str:
    """`2026-11-25T17:30:00.123Z`."""
    stamp = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a market operation returns to the API."""

    data: bytes  # the `data` JSON
    cache: CacheStatus
    stamps: Stamps  # when the raw data was fetched from the exchange, and its windows
    source: str  # where the data came from: `binance`, `emulator`, ...
    exchange: str
    symbol: str | None = None  # the normalized market, for logs and tallies

    @property
    def fetched_at(self) -> float:
        """Wall time the raw data left the exchange."""
        return self.stamps.fetched_at

    def meta(self, now: float) -> dict[str, Any]:
        """The `meta` object of the response; `"stream": true` when the data was streamed
        (its `age_ms` counts from the stream message's exchange time)."""
        meta: dict[str, Any] = {
            "cache": self.cache,
            "age_ms": max(0, round((now - self.fetched_at) * 1000)),
            "source": self.source,
            "exchange": self.exchange,
            "fetched_at": iso(self.fetched_at),
        }
        if self.stamps.streamed:
            meta["stream"] = True
        return meta

    def age_ms(self, now: float) -> int:
        """`meta.age_ms` at wall time `now`."""
        return max(0, round((now - self.stamps.fetched_at) * 1000))

    def body(self, now: float) -> bytes:
        """The whole response body at wall time `now` (see `framed`)."""
        return self.framed(max(0, round((now - self.stamps.fetched_at) * 1000)))

    def framed(self, age_ms: int) -> bytes:
        """The whole response body, framed around the cached data bytes, `age_ms` old.

        `meta` is spliced in as bytes (the same bytes `orjson.dumps(self.meta(now))`
        gives, a test holds them equal): a hit builds no dict and serializes nothing.
        """
        return (_STREAMED_BODY if self.stamps.streamed else _BODY) % (
            self.data,
            _CACHE[self.cache],
            age_ms,
            _json_text(self.source),
            _json_text(self.exchange),
            _iso_bytes(self.stamps.fetched_at),
        )


_BODY = (
    b'{"success":true,"data":%b,"meta":{"cache":"%b","age_ms":%d,"source":%b,'
    b'"exchange":%b,"fetched_at":"%b"}}'
)
_STREAMED_BODY = _BODY[:-2] + b',"stream":true}}'
_CACHE = {status: status.encode() for status in ("hit", "stale", "miss", "coalesced", "bypass")}


@functools.lru_cache(maxsize=64)
def _json_text(text: str) -> bytes:
    return orjson.dumps(text)


@functools.lru_cache(maxsize=4096)
def _iso_bytes(epoch_seconds: float) -> bytes:
    return iso(epoch_seconds).encode()
