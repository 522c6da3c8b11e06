"""The suite run against the fake service: it passes a sound one and names the faults of
a broken one (wrong shapes, 500s, slow answers), an uncached one and an absent one."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from marketcache.check import runner
from marketcache.check.context import RunConfig
from marketcache.check.report import Report
from marketcache.check.results import Category, Status
from marketcache.netutil import free_port

StartFake = Callable[[str], str]
GRADES = "ABCDF-"


def small(url: str) -> RunConfig:
    """A bounded run: one symbol, few samples, small bursts."""
    return RunConfig(
        url=url,
        symbols=("BTC/USDT",),
        samples=3,
        cold_samples=2,
        bursts=(5, 10),
        burst_requests=2,
        timeout_s=5.0,
        progress=False,
    )


def by_name(report: Report) -> dict[str, Status]:
    return {r.name: r.status for r in report.results}


def criticals(report: Report) -> set[str]:
    return {r.name for r in report.verdict.critical_failures}


async def test_sound_service_passes(fake_service: StartFake) -> None:
    report = await runner.execute(small(fake_service("good")))
    verdict = report.verdict
    failed = [
        (r.name, r.measured, r.details)
        for r in report.results
        if r.status in (Status.FAIL, Status.ERROR)
    ]
    assert failed == []
    assert verdict.exit_code == 0
    assert verdict.score == 100.0
    assert (verdict.performance_grade, verdict.reliability_grade) == ("A", "A")
    assert report.mode == "cached"
    assert report.cold_mode == "cache cleared"
    # n/a only where the run had no admin token; never counted as passed
    assert [r.name for r in report.results if r.status is Status.NA] == [
        "admin endpoints refuse a missing or wrong token"
    ]


async def test_uncached_service_gets_cache_tests_na_and_fails(fake_service: StartFake) -> None:
    good = await runner.execute(small(fake_service("good")))
    report = await runner.execute(small(fake_service("uncached")))
    statuses = by_name(report)
    cache_tests = [r for r in report.results if r.category is Category.CACHE]
    assert statuses["cache enabled"] is Status.FAIL
    assert all(r.status is Status.NA for r in cache_tests if r.name != "cache enabled")
    assert all("uncached" in r.details for r in cache_tests if r.status is Status.NA)
    assert report.mode == "uncached"
    for path in ("/price", "/comprehensive_analysis", "/volume_spike", "/cvd"):
        assert statuses[f"improvement warm over cold {path}"] is Status.FAIL
    verdict = report.verdict
    assert GRADES.index(verdict.performance_grade) > GRADES.index(good.verdict.performance_grade)
    assert verdict.exit_code == 1
    assert not verdict.critical_failures


async def test_wrong_shapes_are_critical(fake_service: StartFake) -> None:
    report = await runner.execute(small(fake_service("wrong_shapes")))
    assert criticals(report) == {
        "POST /price shape",
        "POST /comprehensive_analysis shape",
        "POST /volume_spike shape",
    }
    details = {r.name: r.details for r in report.results}
    assert "data.last: missing" in details["POST /price shape"]
    assert "data.indicators.rsi: missing" in details["POST /comprehensive_analysis shape"]
    assert "X-Cache header: missing" in details["POST /volume_spike shape"]
    assert report.verdict.exit_code == 1


async def test_server_errors_are_critical(fake_service: StartFake) -> None:
    report = await runner.execute(small(fake_service("errors_500")))
    found = criticals(report)
    assert {
        "POST /cvd shape",
        "malformed JSON → 400",
        "no 5xx during the run",
        "error rate under the bursts",
    } <= found
    assert "POST /price shape" not in found
    assert report.verdict.reliability_grade in ("D", "F")
    assert report.verdict.exit_code == 1


async def test_slow_answers_are_critical(fake_service: StartFake) -> None:
    report = await runner.execute(small(fake_service("slow")))
    assert criticals(report) == {"warm latency /comprehensive_analysis"}
    statuses = by_name(report)
    assert statuses["warm latency /price"] is Status.PASS
    assert statuses["improvement warm over cold /comprehensive_analysis"] is Status.FAIL
    assert report.verdict.performance_grade in ("D", "F")
    assert report.verdict.exit_code == 1


async def test_absent_service_is_no_run() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(runner.NoService) as caught:
        await runner.execute(small(url))
    assert str(caught.value) == (
        f"no service at {url} — start it with `make run` (or `marketcache serve`) or pass --url"
    )


def test_run_prints_the_table_and_writes_json(
    fake_service: StartFake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fake_service("wrong_shapes")
    out = tmp_path / "report.json"
    args = argparse.Namespace(
        url=url,
        json=out,
        symbols="BTC/USDT",
        timeframe="15m",
        samples=3,
        cold_samples=2,
        bursts="5",
        burst_requests=2,
        timeout=5.0,
        admin_token=None,
        cold_mode="fresh-keys",
        quick=False,
        no_progress=True,
    )
    assert runner.run(args) == 1
    printed = capsys.readouterr().out
    for text in (
        "POST /price shape",
        "CRITICAL",
        "Overall score:",
        "Performance grade:",
        "Reliability grade:",
        "Critical failures:",
        "A ≥ 90 %",
        "FAIL",
    ):
        assert text in printed
    report = json.loads(out.read_text())
    assert report["exit_code"] == 1
    assert report["passed"] is False
    assert "POST /price shape" in report["critical_failures"]
    assert report["cold_mode"] == "unused keys"
    names = [t["name"] for t in report["tests"]]
    assert len(names) == len(set(names)) > 40
    test = report["tests"][0]
    assert set(test) >= {"name", "category", "measured", "target", "status", "critical", "details"}
