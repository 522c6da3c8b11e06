"""The request recorder: outcomes, reads per kind, symbols, bounded tally."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketcache.monitoring.requests import Labels, RequestRecorder, is_error

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


def test_a_batch_is_counted_when_read_or_when_full() -> None:
    """Requests wait in a batch: any read counts them, and so does a full batch."""
    recorder = RequestRecorder(KINDS)
    seen: list[tuple[Labels, list[float]]] = []
    recorder.sinks.append(lambda labels, latencies: seen.append((labels, list(latencies))))
    labels: Labels = ("/price", 200, "hit", "BTC/USDT", "/price", "POST")
    recorder.add(labels, 0.001)
    recorder.add(labels, 0.002)
    assert seen == []  # not yet counted
    assert recorder.market_total == 2  # a read counts the batch, grouped by label set
    assert seen == [(labels, [0.001, 0.002])]
    for _ in range(RequestRecorder.SETTLE_AT):
        recorder.add(labels, 0.001)
    assert len(seen) == 2  # a full batch is counted
    assert len(seen[1][1]) == RequestRecorder.SETTLE_AT
    assert recorder.take().requests == 2 + RequestRecorder.SETTLE_AT


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["/price", "/cvd", "/cache/stats"]),
            st.sampled_from([200, 304, 404, 429, 503]),
            st.sampled_from(["hit", "stale", "miss", None]),
            st.sampled_from(["BTC/USDT", "ETH/USDT", None]),
            st.floats(0, 100),
        ),
        max_size=60,
    ),
    st.integers(1, 7),
)
def test_batches_count_as_requests_one_by_one_would(
    requests: list[tuple[str, int, str | None, str | None, float]], every: int
) -> None:
    """However the batches fall (a read every `every` requests), the counts are the same."""
    one_by_one, batched = RequestRecorder(KINDS), RequestRecorder(KINDS)
    for i, (path, status, cache, symbol, ms) in enumerate(requests):
        one_by_one.record(path, status, cache, ms, symbol)
        one_by_one.settle()
        batched.record(path, status, cache, ms, symbol)
        if i % every == 0:
            assert batched.current.requests == i + 1
    for recorder in (one_by_one, batched):
        recorder.settle()
    a, b = one_by_one.take(), batched.take()
    assert (a.requests, a.errors, a.client_errors, a.market, a.market_cached) == (
        b.requests,
        b.errors,
        b.client_errors,
        b.market,
        b.market_cached,
    )
    assert (a.by_cache, a.reads, a.latency.counts, a.latency.total) == (
        b.by_cache,
        b.reads,
        b.latency.counts,
        b.latency.total,
    )
    assert a.latency.sum_ms == pytest.approx(b.latency.sum_ms)
    assert {s: (t.answers, t.cold) for s, t in one_by_one.symbols.items()} == {
        s: (t.answers, t.cold) for s, t in batched.symbols.items()
    }
