"""Binance kline intervals: their lengths and how open times align."""

from __future__ import annotations

from datetime import UTC, datetime

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
MONDAY_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday; Binance weeks open on Monday 00:00 UTC

INTERVAL_MS: dict[str, int] = {
    "1s": SECOND,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": WEEK,
    "1M": 31 * DAY,  # nominal; months are calendar months, see `month_open`
}


def _month_index(ms: int) -> int:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.year * 12 + dt.month - 1


def _month_start(index: int) -> int:
    year, month = divmod(index, 12)
    return int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp() * 1000)


def align(interval: str, ms: int) -> int:
    """The open time of the candle of `interval` that contains `ms`."""
    if interval == "1M":
        return _month_start(_month_index(ms))
    length = INTERVAL_MS[interval]
    offset = MONDAY_OFFSET if interval == "1w" else 0
    return (ms - offset) // length * length + offset


def shift(interval: str, open_ms: int, count: int) -> int:
    """The open time `count` candles after (or before, if negative) the aligned `open_ms`."""
    if interval == "1M":
        return _month_start(_month_index(open_ms) + count)
    return open_ms + count * INTERVAL_MS[interval]


def opens_between(interval: str, first_open: int, count: int) -> list[int]:
    """`count + 1` consecutive open times from `first_open` (the last is the final close + 1)."""
    if interval == "1M":
        start = _month_index(first_open)
        return [_month_start(start + i) for i in range(count + 1)]
    length = INTERVAL_MS[interval]
    return [first_open + i * length for i in range(count + 1)]


def count_opens(interval: str, first: int, last: int) -> int:
    """How many candles open in [first, last], both aligned open times."""
    if last < first:
        return 0
    if interval == "1M":
        return _month_index(last) - _month_index(first) + 1
    return (last - first) // INTERVAL_MS[interval] + 1
