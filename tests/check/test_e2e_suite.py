"""The deployment suite, run as `python cache_test_suite.py`, against the real service:
`marketcache serve --offline` passes; the same service with `--no-cache` gets its cache
tests as failed or n/a, never passed, and a lower performance grade."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from marketcache.commands.service_process import ServiceProcess

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GRADES = "ABCDF-"


def run_suite(url: str, report: Path) -> tuple[int, dict[str, Any], str]:
    """The root script with bounded load: ~300 requests in bursts of up to 100 clients."""
    command = [
        sys.executable,
        str(ROOT / "cache_test_suite.py"),
        "--url",
        url,
        "--quick",
        "--bursts",
        "10,100",
        "--burst-requests",
        "2",
        "--no-progress",
        "--json",
        str(report),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, json.loads(report.read_text()), done.stdout + done.stderr


def failing(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (t["name"], t["measured"], t["details"])
        for t in report["tests"]
        if t["status"] in ("fail", "error")
    ]


def test_cached_passes_and_uncached_is_graded_lower(tmp_path: Path) -> None:
    with ServiceProcess(["--offline"]) as cached:
        code, report, output = run_suite(cached.url, tmp_path / "cached.json")
    assert failing(report) == [], output
    assert report["critical_failures"] == []
    assert report["mode"] == "cached"
    assert report["score"] >= 80
    assert code == 0
    assert report["performance_grade"] in ("A", "B")
    assert report["reliability_grade"] in ("A", "B")
    assert "Overall score:" in output
    assert "PASS" in output

    with ServiceProcess(["--offline", "--no-cache"]) as uncached:
        code_u, plain, output_u = run_suite(uncached.url, tmp_path / "uncached.json")
    assert plain["mode"] == "uncached", output_u
    cache_tests = {t["name"]: t["status"] for t in plain["tests"] if t["category"] == "cache"}
    assert cache_tests.pop("cache enabled") == "fail"
    assert set(cache_tests.values()) == {"n/a"}
    assert GRADES.index(plain["performance_grade"]) > GRADES.index(report["performance_grade"])
    improvements = [t for t in plain["tests"] if t["name"].startswith("improvement")]
    assert len(improvements) == 4
    assert all(t["status"] == "fail" for t in improvements)
    assert code_u == 1
    assert plain["passed"] is False
