"""The checklist's alert rules and the lifecycle of alerts."""

from __future__ import annotations

import logging

import pytest

from marketcache.clock import ManualClock
from marketcache.monitoring.alerts import (
    AlertBook,
    AlertRules,
    ExchangeWatch,
    Observation,
    evaluate,
)


def observe(**changes: object) -> Observation:
    base: dict[str, object] = {
        "market_requests": 1000,
        "hit_rate": 0.9,
        "memory_fraction": 0.2,
        "requests": 1000,
        "error_rate": 0.0,
        "stale_answers": 0,
        "upstream_calls": 10,
        "upstream_errors": 0,
    }
    base.update(changes)
    return Observation(**base)  # type: ignore[arg-type]


def fired(obs: Observation) -> dict[str, str]:
    return {c.name: c.severity for c in evaluate(obs)}


def test_a_healthy_observation_fires_nothing() -> None:
    assert fired(observe()) == {}


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.70, None), (0.69, "warning"), (0.50, "warning"), (0.49, "critical"), (0.0, "critical")],
)
def test_hit_rate_thresholds(rate: float, expected: str | None) -> None:
    assert fired(observe(hit_rate=rate)).get("hit_rate_low") == expected


def test_a_cold_cache_is_not_alerted_on() -> None:
    rules = AlertRules()
    assert rules.min_market_requests == 20
    few, enough = rules.min_market_requests - 1, rules.min_market_requests
    assert fired(observe(hit_rate=0.0, market_requests=few)) == {}
    assert fired(observe(hit_rate=0.0, market_requests=enough)) == {"hit_rate_low": "critical"}


def test_the_hit_rate_alert_speaks_of_market_requests() -> None:
    [condition] = evaluate(observe(hit_rate=0.4, market_requests=25))
    assert condition.message == (
        "client hit rate 40.0% is under 50.0% over the last 25 market requests"
    )


def test_the_memory_alert_names_the_process_memory_and_its_limit() -> None:
    obs = observe(
        memory_fraction=0.85, rss_mb=435.2, memory_limit_mb=512.0, memory_limit_source="cgroup"
    )
    [condition] = evaluate(obs)
    assert (condition.name, condition.severity, condition.value) == ("memory_high", "warning", 85.0)
    assert "RSS 435.2 MB" in condition.message
    assert "512 MB limit (cgroup" in condition.message


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [(0.80, None), (0.81, "warning"), (0.90, "warning"), (0.91, "critical"), (1.0, "critical")],
)
def test_memory_thresholds(fraction: float, expected: str | None) -> None:
    assert fired(observe(memory_fraction=fraction)).get("memory_high") == expected


@pytest.mark.parametrize(("rate", "expected"), [(0.05, None), (0.051, "critical")])
def test_error_rate_threshold(rate: float, expected: str | None) -> None:
    assert fired(observe(error_rate=rate)).get("error_rate_high") == expected


def test_error_rate_needs_enough_requests() -> None:
    assert fired(observe(error_rate=1.0, requests=AlertRules().min_requests - 1)) == {}


def test_stale_answers_while_the_exchange_fails_are_alerted() -> None:
    failing = observe(stale_answers=3, upstream_calls=4, upstream_errors=3, exchange_failing=True)
    [condition] = evaluate(failing)
    assert (condition.name, condition.severity) == ("serving_stale_exchange_failing", "warning")
    assert (condition.value, condition.threshold) == (75.0, 50.0)
    # stale-while-revalidate with a healthy exchange is normal
    assert fired(observe(stale_answers=50, upstream_calls=40, upstream_errors=1)) == {}
    # a failing exchange but nothing served stale: the error rate speaks instead
    assert fired(observe(stale_answers=0, upstream_errors=4, exchange_failing=True)) == {}


def test_the_exchange_is_failing_when_most_calls_since_the_last_check_failed() -> None:
    watch = ExchangeWatch()
    assert watch.check(calls=5, errors=0) is False  # the first check only sets the baseline
    assert watch.check(calls=7, errors=2) is True  # both new calls failed
    assert watch.check(calls=7, errors=2) is True  # no call since: still failing
    assert watch.check(calls=11, errors=3) is False  # 3 of 4 new calls succeeded
    assert watch.check(calls=13, errors=4) is True  # one of two failed: half


def test_l2_down_and_failing_tasks_are_warnings() -> None:
    found = fired(observe(backend_down=True, task_errors={"purge": (2, "boom"), "ok": (0, None)}))
    assert found == {"l2_unavailable": "warning", "task_failing:purge": "warning"}


async def test_an_alert_keeps_its_start_escalates_and_clears(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock(start=1000.0)
    book = AlertBook(clock)
    caplog.set_level(logging.INFO, logger="marketcache.monitoring.alerts")
    [alert] = book.update(evaluate(observe(memory_fraction=0.85)))
    assert (alert.severity, alert.since, alert.value, alert.threshold) == (
        "warning",
        1000.0,
        85.0,
        80.0,
    )
    await clock.advance(30)
    [alert] = book.update(evaluate(observe(memory_fraction=0.95)))
    assert (alert.severity, alert.since, alert.value, alert.threshold) == (
        "critical",
        1000.0,
        95.0,
        90.0,
    )
    await clock.advance(30)
    assert book.update(evaluate(observe())) == []
    [resolved] = book.resolved
    assert resolved.resolved_at == 1060.0
    assert resolved.to_dict()["resolved_at"].endswith("Z")
    messages = [r.getMessage() for r in caplog.records]
    assert any("alert firing: memory_high" in m for m in messages)
    assert any("now critical" in m for m in messages)
    assert any("alert resolved: memory_high" in m for m in messages)
    await clock.advance(30)
    [again] = book.update(evaluate(observe(memory_fraction=0.85)))
    assert again.since == 1090.0  # a new episode, a new start


def test_alerts_are_listed_critical_first() -> None:
    book = AlertBook(ManualClock())
    alerts = book.update(evaluate(observe(memory_fraction=0.85, error_rate=0.5)))
    assert [a.severity for a in alerts] == ["critical", "warning"]
    shown = alerts[0].to_dict()
    assert set(shown) >= {"name", "severity", "since", "value", "threshold", "message"}


def test_a_stream_down_past_its_limit_is_a_warning_naming_it() -> None:
    assert fired(observe(streams_down={})) == {}
    [condition] = evaluate(observe(streams_down={"ticker BTC/USDT": 42.0}))
    assert condition.name == "stream_down:ticker BTC/USDT"
    assert condition.severity == "warning"
    assert condition.value == 42.0
    assert "REST" in condition.message
