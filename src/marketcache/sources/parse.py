"""What the exchange returned, checked and turned into our models.

A 200 with a malformed or truncated body may come back from ccxt as a string, as
rows of `None` or as a ticker of `None`s rather than as an error; everything here
checks numbers are finite, rows complete and times increasing, and raises
`BadResponse` otherwise. Pure functions: no ccxt, no network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from marketcache.errors import BadResponse
from marketcache.models import Candles, FloatArray, Ticker, Trades

_CANDLE_COLUMNS = len(Candles.COLUMNS)
_OHLCV_COLUMNS = 6  # timestamp, open, high, low, close, volume: ccxt's unified candle


def _table(rows: Any, columns: int, what: str) -> FloatArray:
    """`rows` as a float table of exactly `columns` columns (extra columns dropped)."""
    if not isinstance(rows, list):
        raise BadResponse(f"{what}: expected a list, got {type(rows).__name__}")
    if not rows:
        return np.empty((0, columns), dtype=np.float64)
    try:
        if any(not isinstance(row, list | tuple) or len(row) < columns for row in rows):
            raise BadResponse(f"{what}: incomplete rows (fewer than {columns} fields)")
        table = np.array([row[:columns] for row in rows], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadResponse(f"{what}: non-numeric fields ({exc})") from exc
    return table


def _check_increasing(times: FloatArray, what: str, *, strictly: bool) -> None:
    steps = np.diff(times)
    if (steps <= 0).any() if strictly else (steps < 0).any():
        raise BadResponse(f"{what}: times out of order")


def _check_finite(table: FloatArray, what: str) -> None:
    if not np.isfinite(table).all():
        raise BadResponse(f"{what}: missing or non-finite values")


def candles_from_binance(rows: Any, symbol: str, timeframe: str) -> Candles:
    """Binance's 12-field klines → `Candles` with all 11 columns (the `ignore` field dropped)."""
    what = f"klines {symbol} {timeframe}"
    table = _table(rows, _CANDLE_COLUMNS, what)
    _check_finite(table, what)
    _check_increasing(table[:, 0], what, strictly=True)
    if (table[:, 6] < table[:, 0]).any():
        raise BadResponse(f"{what}: a candle closes before it opens")
    return Candles(symbol, timeframe, table)


def candles_from_ohlcv(rows: Any, symbol: str, timeframe: str, period_ms: int) -> Candles:
    """ccxt's unified `[t, o, h, l, c, v]` candles → `Candles`; columns it lacks are NaN.

    `close_time` is computed as Binance defines it: open time + period − 1 ms.
    """
    what = f"ohlcv {symbol} {timeframe}"
    ohlcv = _table(rows, _OHLCV_COLUMNS, what)
    _check_finite(ohlcv, what)
    _check_increasing(ohlcv[:, 0], what, strictly=True)
    table = np.full((ohlcv.shape[0], _CANDLE_COLUMNS), np.nan, dtype=np.float64)
    table[:, :_OHLCV_COLUMNS] = ohlcv
    table[:, 6] = ohlcv[:, 0] + period_ms - 1
    return Candles(symbol, timeframe, table)


def trades_from_binance(rows: Any, symbol: str) -> Trades:
    """Binance aggregate trades (`a`, `T`, `p`, `q`, `m`) → `Trades`, oldest first."""
    what = f"trades {symbol}"
    if not isinstance(rows, list):
        raise BadResponse(f"{what}: expected a list, got {type(rows).__name__}")
    try:
        table = np.array(
            [[row["a"], row["T"], row["p"], row["q"], _flag(row["m"], what)] for row in rows],
            dtype=np.float64,
        ).reshape(len(rows), len(Trades.COLUMNS))
    except (TypeError, ValueError, KeyError) as exc:
        raise BadResponse(f"{what}: incomplete or non-numeric trades ({exc!r})") from exc
    return _checked_trades(table, symbol, what)


def trades_from_unified(trades: Any, symbol: str) -> Trades:
    """ccxt's unified trades → `Trades`; `is_buyer_maker` is 1 for a `sell` (taker sold).

    A non-numeric trade id becomes NaN: the column is informative only.
    """
    what = f"trades {symbol}"
    if not isinstance(trades, list):
        raise BadResponse(f"{what}: expected a list, got {type(trades).__name__}")
    rows: list[list[float]] = []
    for trade in trades:
        if not isinstance(trade, Mapping) or trade.get("side") not in ("buy", "sell"):
            raise BadResponse(f"{what}: a trade without a side")
        rows.append(
            [
                _number_or_nan(trade.get("id")),
                _number(trade.get("timestamp"), what),
                _number(trade.get("price"), what),
                _number(trade.get("amount"), what),
                1.0 if trade["side"] == "sell" else 0.0,
            ]
        )
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(Trades.COLUMNS))
    return _checked_trades(table, symbol, what)


def _checked_trades(table: FloatArray, symbol: str, what: str) -> Trades:
    _check_finite(table[:, 1:], what)
    _check_increasing(table[:, 1], what, strictly=False)
    return Trades(symbol, table)


def _flag(value: Any, what: str) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    raise BadResponse(f"{what}: the buyer-maker flag is not a boolean")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadResponse(f"{what}: missing or non-finite value {value!r}")
    return float(value)


def _number_or_nan(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _optional(value: Any, what: str) -> float | None:
    return None if value is None else _number(value, what)


def ticker_from_unified(ticker: Any, symbol: str) -> Ticker:
    """ccxt's unified ticker → `Ticker`; `last` and the timestamp are required."""
    what = f"ticker {symbol}"
    if not isinstance(ticker, Mapping):
        raise BadResponse(f"{what}: expected an object, got {type(ticker).__name__}")
    timestamp = ticker.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp <= 0:
        raise BadResponse(f"{what}: no timestamp")
    return Ticker(
        symbol=symbol,
        timestamp=timestamp,
        last=_number(ticker.get("last"), what),
        bid=_optional(ticker.get("bid"), what),
        ask=_optional(ticker.get("ask"), what),
        open=_optional(ticker.get("open"), what),
        high=_optional(ticker.get("high"), what),
        low=_optional(ticker.get("low"), what),
        change=_optional(ticker.get("change"), what),
        change_percent=_optional(ticker.get("percentage"), what),
        base_volume=_optional(ticker.get("baseVolume"), what),
        quote_volume=_optional(ticker.get("quoteVolume"), what),
    )
