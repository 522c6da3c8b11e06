"""The Zipf sampler and the workload drawn from it."""

from __future__ import annotations

import json
import random
from collections import Counter
from importlib import resources

import pytest

from marketcache.bench.workload import (
    DEFAULT_SYMBOLS,
    Workload,
    ZipfSampler,
    user_rng,
)


def test_probabilities_follow_one_over_rank_to_the_s() -> None:
    sampler = ZipfSampler(["a", "b", "c", "d"], s=1.0)
    harmonic = 1 + 1 / 2 + 1 / 3 + 1 / 4
    expected = [1 / harmonic, 1 / 2 / harmonic, 1 / 3 / harmonic, 1 / 4 / harmonic]
    assert sampler.probabilities == pytest.approx(expected)
    assert sum(sampler.probabilities) == pytest.approx(1.0)


def test_exponent_zero_is_uniform() -> None:
    sampler = ZipfSampler(["a", "b", "c"], s=0.0)
    assert sampler.probabilities == pytest.approx([1 / 3] * 3)


def test_larger_exponent_concentrates_on_the_head() -> None:
    items = [str(i) for i in range(10)]
    assert ZipfSampler(items, 2.0).probabilities[0] > ZipfSampler(items, 1.0).probabilities[0]


def test_draws_match_the_distribution() -> None:
    sampler = ZipfSampler(["a", "b", "c", "d", "e"], s=1.1)
    rng = random.Random(7)
    draws = 50_000
    counts = Counter(sampler.sample(rng) for _ in range(draws))
    for item, probability in sampler.distribution().items():
        assert counts[item] / draws == pytest.approx(probability, abs=0.01)


def test_every_item_is_reachable_and_nothing_else() -> None:
    sampler = ZipfSampler(["x", "y"], s=3.0)
    rng = random.Random(1)
    assert {sampler.sample(rng) for _ in range(2_000)} == {"x", "y"}


@pytest.mark.parametrize(("items", "s"), [([], 1.0), (["a"], -0.5)])
def test_bad_arguments_are_refused(items: list[str], s: float) -> None:
    with pytest.raises(ValueError, match="Zipf"):
        ZipfSampler(items, s)


def test_price_requests_carry_no_timeframe_and_others_do() -> None:
    workload = Workload()
    rng = random.Random(3)
    requests = [workload.next_request(rng) for _ in range(500)]
    assert {r.endpoint for r in requests} == set(workload.endpoints)
    for request in requests:
        assert request.body["symbol"] in workload.symbols
        assert request.path == f"/{request.endpoint}"
        if request.endpoint == "price":
            assert set(request.body) == {"symbol"}
        else:
            assert request.body["timeframe"] in workload.timeframes


def test_each_user_replays_the_same_stream_for_the_same_seed() -> None:
    workload = Workload()

    def stream(seed: int, user: int) -> list[object]:
        rng = user_rng(seed, user)
        return [workload.next_request(rng) for _ in range(50)]

    assert stream(1, 0) == stream(1, 0)
    assert stream(1, 0) != stream(1, 1)
    assert stream(1, 0) != stream(2, 0)


def test_think_time_is_zero_or_exponential_with_the_mean_asked() -> None:
    rng = random.Random(5)
    assert Workload(think_ms=0).think_s(rng) == 0.0
    pauses = [Workload(think_ms=200).think_s(rng) for _ in range(20_000)]
    assert min(pauses) >= 0
    assert sum(pauses) / len(pauses) == pytest.approx(0.2, rel=0.05)


def test_unknown_endpoints_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown endpoints"):
        Workload(endpoints=("price", "orderbook"))


def test_describe_lists_the_distributions_in_force() -> None:
    described = Workload(zipf_s=1.3, think_ms=50).describe()
    assert described["zipf_s"] == 1.3
    assert described["think_ms_mean"] == 50
    for key in ("endpoints", "symbols", "timeframes"):
        assert sum(described[key].values()) == pytest.approx(1.0)
    assert next(iter(described["endpoints"])) == "price"
    assert next(iter(described["timeframes"])) == "15m"


def test_default_symbols_exist_in_the_emulators_markets() -> None:
    data = resources.files("marketcache.emulator") / "data"
    info_file = next(p for p in data.iterdir() if p.name.startswith("exchangeInfo"))
    listed = {s["symbol"] for s in json.loads(info_file.read_text())["symbols"]}
    assert {s.replace("/", "") for s in DEFAULT_SYMBOLS} <= listed
    assert len(set(DEFAULT_SYMBOLS)) == len(DEFAULT_SYMBOLS) == 20
