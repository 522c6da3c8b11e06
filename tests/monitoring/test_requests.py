"""The request recorder: outcomes, reads per kind, symbols, bounded tally."""

from __future__ import annotations

from marketcache.monitoring.requests import RequestRecorder, is_error

KINDS = {"/price": "ticker", "/cvd": "ohlcv"}


def test_errors_are_what_the_service_failed() -> None:
    assert is_error(500)
    assert is_error(503)
    assert is_error(429)
    assert not is_error(200)
    assert not is_error(404)
    assert not is_error(422)


def test_requests_are_counted_by_outcome_and_kind() -> None:
    recorder = RequestRecorder(KINDS)
    recorder.record("/price", 200, "hit", 0.5, "BTC/USDT")
    recorder.record("/price", 200, "miss", 30.0, "BTC/USDT")
    recorder.record("/cvd", 200, "stale", 1.0, "ETH/USDT")
    recorder.record("/price", 503, None, 5.0, "BTC/USDT")
    recorder.record("/price", 404, None, 1.0, "NOPE/USDT")
    recorder.record("/cache/stats", 200, None, 0.2)
    counts = recorder.current
    assert counts.requests == 6
    assert counts.errors == 1
    assert counts.client_errors == 1
    assert counts.by_cache == {"hit": 1, "miss": 1, "stale": 1}
    assert counts.stale == 1
    assert counts.reads == {"ticker": 2, "ohlcv": 1}
    assert counts.latency.total == 6
    assert {s: (t.answers, t.cold) for s, t in recorder.symbols.items()} == {
        "BTC/USDT": (2, 1),
        "ETH/USDT": (1, 0),
    }


def test_take_closes_the_period() -> None:
    recorder = RequestRecorder(KINDS)
    recorder.record("/price", 200, "hit", 0.5, "BTC/USDT")
    closed = recorder.take()
    assert closed.requests == 1
    assert recorder.current.requests == 0
    assert recorder.symbols["BTC/USDT"].answers == 1  # the tally is kept since start


def test_the_symbol_tally_is_bounded() -> None:
    recorder = RequestRecorder(KINDS, max_symbols=3)
    for i in range(10):
        recorder.record("/price", 200, "miss", 1.0, f"S{i}/USDT")
    assert len(recorder.symbols) == 3
    assert recorder.symbols_dropped == 7
