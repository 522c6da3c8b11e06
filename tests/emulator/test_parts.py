"""Small parts of the emulator: weights table, clock parsing, the bounded LRU, noise."""

from __future__ import annotations

import json

import numpy as np
import pytest

from marketcache.emulator import noise
from marketcache.emulator.clock import EmulatorClock, parse_clock_start
from marketcache.emulator.lru import LRU
from marketcache.emulator.weights import WeightMeter, request_weight


@pytest.mark.parametrize(
    ("path", "query", "weight"),
    [
        ("/api/v3/ping", {}, 1),
        ("/api/v3/time", {}, 1),
        ("/api/v3/exchangeInfo", {}, 20),
        ("/api/v3/klines", {"symbol": "BTCUSDT"}, 2),
        ("/api/v3/aggTrades", {"symbol": "BTCUSDT"}, 2),
        ("/api/v3/depth", {"symbol": "BTCUSDT"}, 5),
        ("/api/v3/depth", {"limit": "500"}, 25),
        ("/api/v3/depth", {"limit": "1000"}, 50),
        ("/api/v3/depth", {"limit": "5000"}, 250),
        ("/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}, 2),
        ("/api/v3/ticker/24hr", {"symbols": json.dumps(["A"] * 20)}, 2),
        ("/api/v3/ticker/24hr", {"symbols": json.dumps(["A"] * 21)}, 40),
        ("/api/v3/ticker/24hr", {"symbols": json.dumps(["A"] * 101)}, 80),
        ("/api/v3/ticker/24hr", {}, 80),
        ("/api/v3/ticker/price", {"symbol": "BTCUSDT"}, 2),
        ("/api/v3/ticker/price", {}, 4),
    ],
)
def test_weights_follow_binance(path: str, query: dict[str, str], weight: int) -> None:
    assert request_weight(path, query) == weight


def test_weight_minute_rolls_over() -> None:
    now = [120.0]
    meter = WeightMeter(10, wall_clock=lambda: now[0])
    meter.charge("/api/v3/klines", 8)
    meter.charge("/api/v3/klines", 4)
    assert meter.over_limit()
    assert meter.seconds_to_next_minute() == 60
    now[0] = 180.5
    assert not meter.over_limit()
    assert meter.used_this_minute() == 0
    assert meter.stats()["total_weight"] == 12


def test_clock_start_parsing() -> None:
    assert parse_clock_start("1704067200000") == 1704067200000
    assert parse_clock_start("2024-01-01T00:00:00Z") == 1704067200000
    assert parse_clock_start("2024-01-01T01:00:00+01:00") == 1704067200000
    assert parse_clock_start("2024-01-01") == 1704067200000
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_clock_start("yesterday")


def test_frozen_clock_moves_only_when_told() -> None:
    clock = EmulatorClock(1000, frozen=True)
    assert clock.now_ms() == 1000
    assert clock.advance(500) == 1500
    assert clock.set(42) == 42
    assert clock.now_ms() == 42


def test_lru_is_bounded_by_weight_and_keeps_recent() -> None:
    cache: LRU[str, list[int]] = LRU(10, len)
    cache.get_or_make("a", lambda: [1] * 4)
    cache.get_or_make("b", lambda: [1] * 4)
    cache.get_or_make("a", lambda: pytest.fail("a is cached"))
    cache.get_or_make("c", lambda: [1] * 4)  # evicts b, the least recently used
    assert len(cache) == 2
    assert cache.weight == 8
    made = []
    cache.get_or_make("b", lambda: made.append(1) or [1])
    assert made == [1]


def test_noise_is_addressed_not_sequential() -> None:
    idx = np.arange(10_000, dtype=np.int64)
    whole = noise.uniform(7, 3, idx)
    assert np.array_equal(whole[5000:5010], noise.uniform(7, 3, idx[5000:5010]))
    assert whole.min() >= 0.0
    assert whole.max() < 1.0
    assert abs(whole.mean() - 0.5) < 0.02
    assert not np.array_equal(whole, noise.uniform(8, 3, idx))
    normals = noise.normal(7, 1, idx)
    assert abs(normals.mean()) < 0.05
    assert abs(normals.std() - 1) < 0.05
    assert noise.seed_of("BTCUSDT") == noise.seed_of("BTCUSDT") != noise.seed_of("ETHUSDT")
