"""The documented response shapes (notes/API.md, the checklist), and a checker for them.

A shape is a dict of member name → expected kind, or → a nested shape. Extra members are
allowed (the contract may grow); missing ones and wrong kinds are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marketcache.check.client import Reply

Kind = Callable[[Any], bool]
Shape = Mapping[str, "Kind | Shape"]


def number(value: Any) -> bool:
    """An int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def integer(value: Any) -> bool:
    """An int, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def number_or_null(value: Any) -> bool:
    """A number, or null where the data is too short to compute it."""
    return value is None or number(value)


def text(value: Any) -> bool:
    """A string."""
    return isinstance(value, str)


def boolean(value: Any) -> bool:
    """A bool."""
    return isinstance(value, bool)


def array(value: Any) -> bool:
    """A list."""
    return isinstance(value, list)


def obj(value: Any) -> bool:
    """A JSON object of any members."""
    return isinstance(value, dict)


def anything(value: Any) -> bool:
    """Present, whatever its value."""
    return True


def one_of(*choices: str) -> Kind:
    """A string among the choices."""
    allowed = frozenset(choices)
    return lambda value: isinstance(value, str) and value in allowed


CACHE_MODES = ("hit", "stale", "miss", "coalesced", "bypass")

HEALTH: Shape = {
    "status": one_of("healthy", "degraded", "unhealthy"),
    "service": text,
    "version": text,
    "cache_enabled": boolean,
    "cache_stats": {"hit_rate": number, "entries": integer, "memory_mb": number},
}
STATS: Shape = {
    "success": boolean,
    "data": {
        "cache_stats": {
            "hit_rate": number,
            "entries": integer,
            "memory_mb": number,
            "hits": integer,
            "misses": integer,
            "evictions": integer,
        }
    },
}
CACHE_HEALTH: Shape = {
    "status": one_of("healthy", "degraded", "unhealthy"),
    "metrics": {
        "hit_rate": number,
        "memory_usage_percent": number,
        "avg_response_time_ms": number_or_null,
    },
    "active_alerts": integer,
}
PERFORMANCE: Shape = {
    "success": boolean,
    "data": {"hours": integer, "buckets": array, "summary": obj, "trend": obj},
}
RECOMMENDATIONS: Shape = {"success": boolean, "data": {"recommendations": array}}
RECOMMENDATION: Shape = {
    "id": text,
    "severity": one_of("info", "warning", "critical"),
    "message": text,
}
WARM: Shape = {
    "success": boolean,
    "data": {
        "results": obj,
        "entries_before": integer,
        "entries_after": integer,
        "entries_added": integer,
        "duration_ms": number,
    },
}
ERROR: Shape = {"success": boolean, "error": {"code": text, "message": text}}
META: Shape = {"cache": one_of(*CACHE_MODES), "age_ms": number, "source": text}

PRICE: Shape = {
    "symbol": text,
    "last": number,
    "bid": number_or_null,
    "ask": number_or_null,
    "open": number_or_null,
    "high": number_or_null,
    "low": number_or_null,
    "change": number_or_null,
    "change_percent": number_or_null,
    "base_volume": number_or_null,
    "quote_volume": number_or_null,
    "timestamp": integer,
    "datetime": text,
}
ANALYSIS: Shape = {
    "symbol": text,
    "timeframe": text,
    "candles": {"closed": integer},
    "price": {"last": number_or_null},
    "indicators": {
        "rsi": number_or_null,
        "macd": obj,
        "bollinger": obj,
        "moving_averages": {
            "ema_9": number_or_null,
            "ema_21": number_or_null,
            "ema_50": number_or_null,
            "ema_200": number_or_null,
            "sma_20": number_or_null,
            "sma_50": number_or_null,
        },
        "atr": number_or_null,
        "stochastic": obj,
        "adx": obj,
        "obv": number_or_null,
        "vwap": number_or_null,
    },
    "volume": obj,
    "levels": {"support": array, "resistance": array},
    "trend": {"direction": text, "strength": anything},
    "signal": {
        "signal": one_of("strong_buy", "buy", "neutral", "sell", "strong_sell"),
        "score": number,
        "reasons": array,
    },
}
VOLUME_SPIKE: Shape = {
    "symbol": text,
    "timeframe": text,
    "lookback": integer,
    "threshold": number,
    "is_spike": boolean,
    "ratio": number_or_null,
    "z_score": number_or_null,
    "volume": number_or_null,
    "mean": number_or_null,
    "std": number_or_null,
    "direction": anything,
    "recent_spikes": array,
}
CVD: Shape = {
    "symbol": text,
    "timeframe": text,
    "series": array,
    "latest": anything,
    "trend": anything,
    "divergence": anything,
}
CVD_POINT: Shape = {"time": anything, "delta": number, "cvd": number}


def problems(value: Any, shape: Shape, where: str = "") -> list[str]:
    """Every way `value` departs from `shape`, as `path: problem` strings."""
    if not isinstance(value, dict):
        return [f"{where or 'body'}: expected an object, got {type(value).__name__}"]
    found: list[str] = []
    for key, kind in shape.items():
        path = f"{where}.{key}" if where else key
        if key not in value:
            found.append(f"{path}: missing")
        elif isinstance(kind, Mapping):
            found += problems(value[key], kind, path)
        elif not kind(value[key]):
            found.append(f"{path}: unexpected {value[key]!r:.40}")
    return found


def market_problems(reply: Reply, data_shape: Shape) -> list[str]:
    """Problems of a market answer: status, envelope, meta, X-Cache and the data shape."""
    if not reply.answered:
        return [reply.describe()]
    if reply.status != 200:
        return [f"{reply.describe()} ({reply.error_code or reply.text[:80]!r})"]
    found = problems(reply.body, {"success": boolean, "data": obj, "meta": META})
    if found:
        return found
    if reply.body["success"] is not True:
        found.append("success: not true")
    header = {k.lower(): v for k, v in reply.headers.items()}.get("x-cache")
    if header is None:
        found.append("X-Cache header: missing")
    elif header.lower() != reply.meta_cache:
        found.append(f"X-Cache header {header!r} differs from meta.cache {reply.meta_cache!r}")
    return found + problems(reply.data, data_shape, "data")


def error_problems(reply: Reply, status: int, code: str) -> list[str]:
    """Problems of an error answer expected with `status` and `error.code == code`."""
    if not reply.answered:
        return [reply.describe()]
    found = []
    if reply.status != status:
        found.append(f"{reply.describe()}, expected {status}")
    found += problems(reply.body, ERROR)
    if not found and reply.body["success"] is not False:
        found.append("success: not false")
    if not found and reply.error_code != code:
        found.append(f"error.code {reply.error_code!r}, expected {code!r}")
    return found
