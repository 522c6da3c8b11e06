"""Time the analytics on the recorded 500 BTCUSDT 30m candles (run once, not a test).

.venv/bin/python bench/analytics_timing.py
"""

from __future__ import annotations

import platform
import timeit
from importlib import resources

import orjson

from marketcache.analytics import (
    comprehensive_analysis,
    cvd_from_candles,
    cvd_from_trades,
    volume_spike,
)
from marketcache.models import Candles, Trades

KLINES = "BTCUSDT-30m-klines-2019-04.json"


def load() -> Candles:
    data = resources.files("marketcache").joinpath("emulator", "data", KLINES).read_bytes()
    rows = [[float(value) for value in row[:11]] for row in orjson.loads(data)]
    return Candles.from_rows("BTC/USDT", "30m", rows)


def best_ms(call, repeat: int = 7, number: int = 200) -> float:
    """The best of `repeat` runs of `number` calls, per call, in milliseconds."""
    return min(timeit.repeat(call, repeat=repeat, number=number)) / number * 1000


def main() -> None:
    candles = load()
    now = float(candles.close_time[-1]) + 1
    trades = Trades.from_rows(
        "BTC/USDT",
        [
            [i, 1_000 + i, 5000.0 + (i % 7), 0.01 * (i % 13 + 1), float(i % 3 == 0)]
            for i in range(1000)
        ],
    )
    cases = {
        "comprehensive_analysis, 500 candles": lambda: comprehensive_analysis(candles, now_ms=now),
        "comprehensive_analysis + orjson.dumps": lambda: orjson.dumps(
            comprehensive_analysis(candles, now_ms=now)
        ),
        "volume_spike, 500 candles (lookback 20, window 50)": lambda: volume_spike(candles),
        "cvd_from_candles, limit 100": lambda: cvd_from_candles(candles, limit=100),
        "cvd_from_trades, 1000 trades in 100 buckets": lambda: cvd_from_trades(trades),
    }
    print(f"python {platform.python_version()}, {platform.machine()}, best of 7 x 200 calls")
    print("| operation | ms per call |")
    print("|---|---|")
    for name, call in cases.items():
        print(f"| {name} | {best_ms(call):.3f} |")


if __name__ == "__main__":
    main()
