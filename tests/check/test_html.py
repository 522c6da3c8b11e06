"""The deployment suite's HTML page: verdict, plot, every test; written beside the JSON."""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
from collections.abc import Callable
from pathlib import Path

from marketcache.check import runner
from marketcache.check.context import RunConfig
from marketcache.check.html import latencies, render
from marketcache.check.report import Report
from marketcache.check.results import Category, Status, TestResult

P = Category.PERFORMANCE


def summary(p50: float, p95: float) -> dict[str, float]:
    return {"count": 5, "p50": p50, "p95": p95, "p99": p95 * 1.2}


def synthetic() -> Report:
    results = [
        TestResult("POST /price shape", Category.FUNCTIONAL, Status.PASS, "ok", "shape", weight=2),
        TestResult(
            "cold latency /price", P, Status.PASS, "x", "y", data={"cold": summary(150, 180)}
        ),
        TestResult("warm latency /price", P, Status.PASS, "x", "y", data={"warm": summary(1, 2)}),
        TestResult("cold latency /cvd", P, Status.NA, "-", "y", details="no <b>cold</b> sample"),
        TestResult(
            "burst of 10 concurrent clients",
            P,
            Status.FAIL,
            "p95 450 ms",
            "p95 < 200 ms",
            critical=True,
            data={"clients": 10, "latency": summary(100, 450)},
        ),
    ]
    return Report(
        RunConfig(url="http://127.0.0.1:1"),
        "2026-12-01T00:00:00Z",
        1.5,
        "cached",
        "cache cleared",
        {"service": "cached-market-data", "version": "2.0.0"},
        results,
    )


def test_latencies_are_taken_from_the_tests_data() -> None:
    found = latencies(synthetic().to_json()["tests"])
    assert set(found["endpoints"]) == {"/price"}
    assert found["endpoints"]["/price"]["cold"]["p95"] == 180
    assert found["endpoints"]["/price"]["warm"]["p50"] == 1
    assert [clients for clients, _ in found["bursts"]] == [10]


def test_the_page_shows_the_verdict_the_plot_and_every_test() -> None:
    page = render(synthetic().to_json())
    assert page.startswith("<!doctype html>")
    assert "FAIL" in page
    assert "Critical failures: <span" in page
    assert "FAIL CRITICAL" in page
    for name in ("POST /price shape", "warm latency /price", "burst of 10 concurrent clients"):
        assert name in page
    assert "no &lt;b&gt;cold&lt;/b&gt; sample" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 1
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<script" not in page
    assert re.findall(r'(?:src|href)="(?!data:)', page) == []


def test_a_run_without_latencies_has_no_plot() -> None:
    report = synthetic()
    report.results = report.results[:1]
    page = render(report.to_json())
    assert "data:image/png" not in page
    assert "Every test" in page


def test_run_writes_the_page_beside_the_json(
    fake_service: Callable[[str], str], tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    options = "--samples 3 --cold-samples 2 --bursts 5 --burst-requests 2 --timeout 5"
    options += " --symbols BTC/USDT --cold-mode fresh-keys --no-progress"
    args = parser.parse_args(["--url", fake_service("good"), "--json", str(out), *options.split()])
    runner.run(args)
    page = (tmp_path / "report.html").read_text()
    report = json.loads(out.read_text())
    for test in report["tests"]:
        assert html.escape(test["name"]) in page
    assert f"score {report['score']:.1f} %" in page
    assert "data:image/png;base64," in page
    assert ("PASS: ready for cutover" in page) is report["passed"]
