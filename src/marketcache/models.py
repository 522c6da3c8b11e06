"""Domain types: a ticker, a series of candles, a series of trades.

Each type turns into bytes and back (`to_bytes` / `from_bytes`) so the cache can
hold it with an exact size and share it with other replicas through Redis.
Candles and trades are numpy columns; decoding is a zero-copy view.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import orjson

FloatArray = npt.NDArray[np.float64]

_HEADER = struct.Struct("<II")  # rows, length of the JSON metadata


def _pack(meta: dict[str, Any], table: FloatArray) -> bytes:
    meta_bytes = orjson.dumps(meta)
    rows = int(table.shape[0])
    return _HEADER.pack(rows, len(meta_bytes)) + meta_bytes + table.astype("<f8").tobytes()


def _unpack(data: bytes, columns: int) -> tuple[dict[str, Any], FloatArray]:
    rows, meta_len = _HEADER.unpack_from(data, 0)
    start = _HEADER.size
    meta = orjson.loads(data[start : start + meta_len])
    table = np.frombuffer(data, dtype="<f8", offset=start + meta_len, count=rows * columns)
    return meta, table.reshape(rows, columns)


_STREAMED = b'"streamed":true'


def is_streamed(data: bytes) -> bool:
    """Whether a ticker's or a series' bytes were made from stream messages (no decoding)."""
    if data[:1] == b"{":  # a ticker: JSON, `streamed` last when present
        return data.endswith(_STREAMED + b"}")
    _, meta_len = _HEADER.unpack_from(data, 0)
    return _STREAMED in data[_HEADER.size : _HEADER.size + meta_len]


@dataclass(frozen=True, slots=True)
class Ticker:
    """The 24-hour ticker of one market."""

    symbol: str
    timestamp: int  # exchange time, ms since the epoch
    last: float
    bid: float | None
    ask: float | None
    open: float | None
    high: float | None
    low: float | None
    change: float | None
    change_percent: float | None
    base_volume: float | None
    quote_volume: float | None
    streamed: bool = False  # made from the exchange's stream messages, not a REST answer

    def to_bytes(self) -> bytes:
        """Serialize for the cache (`streamed` only when true: a REST ticker's bytes as before)."""
        fields = asdict(self)
        if not self.streamed:
            del fields["streamed"]
        return orjson.dumps(fields)

    @classmethod
    def from_bytes(cls, data: bytes) -> Ticker:
        """Rebuild from `to_bytes`."""
        return cls(**orjson.loads(data))


@dataclass(frozen=True, slots=True)
class Candles:
    """OHLCV candles of one market and timeframe, oldest first, as numpy columns.

    `taker_buy_volume` is NaN where the exchange does not report it.
    """

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "close_time",
        "quote_volume",
        "trades",
        "taker_buy_volume",
        "taker_buy_quote_volume",
    )

    symbol: str
    timeframe: str
    table: FloatArray  # shape (rows, len(COLUMNS)), float64
    streamed: bool = False  # the live end came from the exchange's stream messages

    def __len__(self) -> int:
        return int(self.table.shape[0])

    def column(self, name: str) -> FloatArray:
        """One column by name."""
        return self.table[:, self.COLUMNS.index(name)]

    @property
    def open_time(self) -> FloatArray:
        return self.table[:, 0]

    @property
    def open(self) -> FloatArray:
        return self.table[:, 1]

    @property
    def high(self) -> FloatArray:
        return self.table[:, 2]

    @property
    def low(self) -> FloatArray:
        return self.table[:, 3]

    @property
    def close(self) -> FloatArray:
        return self.table[:, 4]

    @property
    def volume(self) -> FloatArray:
        return self.table[:, 5]

    @property
    def close_time(self) -> FloatArray:
        return self.table[:, 6]

    @property
    def taker_buy_volume(self) -> FloatArray:
        return self.table[:, 9]

    def closed(self, now_ms: float) -> Candles:
        """Only the candles whose close time has passed at `now_ms`."""
        keep = self.close_time < now_ms
        return Candles(self.symbol, self.timeframe, self.table[keep])

    def tail(self, count: int) -> Candles:
        """The last `count` candles."""
        return Candles(
            self.symbol, self.timeframe, self.table[-count:] if count else self.table[:0]
        )

    def to_bytes(self) -> bytes:
        """Serialize for the cache."""
        meta: dict[str, Any] = {"symbol": self.symbol, "timeframe": self.timeframe}
        if self.streamed:
            meta["streamed"] = True
        return _pack(meta, self.table)

    @classmethod
    def from_bytes(cls, data: bytes) -> Candles:
        """Rebuild from `to_bytes` (a read-only view on `data`)."""
        meta, table = _unpack(data, len(cls.COLUMNS))
        return cls(meta["symbol"], meta["timeframe"], table, bool(meta.get("streamed", False)))

    @classmethod
    def from_rows(cls, symbol: str, timeframe: str, rows: list[list[float]]) -> Candles:
        """Build from rows of `COLUMNS` values."""
        table = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(cls.COLUMNS))
        return cls(symbol, timeframe, table)


@dataclass(frozen=True, slots=True)
class Trades:
    """Recent trades of one market, oldest first, as numpy columns.

    `is_buyer_maker` is 1.0 when the buyer was the maker (an aggressive sell).
    """

    COLUMNS: ClassVar[tuple[str, ...]] = ("id", "time", "price", "amount", "is_buyer_maker")

    symbol: str
    table: FloatArray

    def __len__(self) -> int:
        return int(self.table.shape[0])

    def column(self, name: str) -> FloatArray:
        """One column by name."""
        return self.table[:, self.COLUMNS.index(name)]

    def to_bytes(self) -> bytes:
        """Serialize for the cache."""
        return _pack({"symbol": self.symbol}, self.table)

    @classmethod
    def from_bytes(cls, data: bytes) -> Trades:
        """Rebuild from `to_bytes` (a read-only view on `data`)."""
        meta, table = _unpack(data, len(cls.COLUMNS))
        return cls(meta["symbol"], table)

    @classmethod
    def from_rows(cls, symbol: str, rows: list[list[float]]) -> Trades:
        """Build from rows of `COLUMNS` values."""
        table = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(cls.COLUMNS))
        return cls(symbol, table)


@dataclass(frozen=True, slots=True)
class Market:
    """One market of the exchange, as the service needs it."""

    symbol: str  # unified, e.g. BTC/USDT
    id: str  # the exchange's, e.g. BTCUSDT
    base: str
    quote: str
    active: bool | None = None  # trading now, when the exchange says
    precision: Mapping[str, float | None] = field(default_factory=dict, hash=False)
    limits: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """The market as `/markets` lists it."""
        return {
            "symbol": self.symbol,
            "id": self.id,
            "base": self.base,
            "quote": self.quote,
            "active": self.active,
            "precision": dict(self.precision),
            "limits": {name: dict(bounds) for name, bounds in self.limits.items()},
        }
