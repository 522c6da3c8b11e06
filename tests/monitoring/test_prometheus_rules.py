"""deploy/prometheus/alerts.yml: the checklist's thresholds, over metrics the service exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from marketcache.cache.stats import TaskState
from marketcache.monitoring import alerts
from marketcache.monitoring.alerts import Alert
from marketcache.monitoring.memory import MB, MemoryLimit
from marketcache.monitoring.metrics import Metrics, StatsCollector
from marketcache.monitoring.requests import MARKET_PATHS
from marketcache.sources.base import UpstreamStats
from tests.monitoring.rows import cache_stats

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMTOOL_TESTS = Path(__file__).with_name("prometheus_alerts_test.yml")
COMPARISON = re.compile(r"(<=|>=|==|!=|<|>)\s*([0-9]+(?:\.[0-9]+)?)")
METRIC = re.compile(r"\b((?:marketcache|process)_[a-z_]+)\b")

# The deployment checklist, "Alert Thresholds":
#   Warning: Hit rate < 70%, Memory > 80%; Critical: Hit rate < 50%, Memory > 90%, Error rate > 5%
CHECKLIST = {
    "hit_rate_warning": 0.70,
    "memory_warning": 0.80,
    "hit_rate_critical": 0.50,
    "memory_critical": 0.90,
    "error_rate_critical": 0.05,
}
EXPECTED: dict[str, tuple[str, set[tuple[str, float]]]] = {
    "MarketcacheHitRateLow": (
        "warning",
        {("<", alerts.HIT_RATE_WARNING), (">=", alerts.MIN_MARKET_REQUESTS)},
    ),
    "MarketcacheHitRateCritical": (
        "critical",
        {("<", alerts.HIT_RATE_CRITICAL), (">=", alerts.MIN_MARKET_REQUESTS)},
    ),
    "MarketcacheMemoryHigh": ("warning", {(">", alerts.MEMORY_WARNING)}),
    "MarketcacheMemoryCritical": ("critical", {(">", alerts.MEMORY_CRITICAL)}),
    "MarketcacheErrorRateHigh": (
        "critical",
        {(">", alerts.ERROR_RATE_CRITICAL), (">=", alerts.MIN_REQUESTS)},
    ),
    "MarketcacheServingStaleExchangeFailing": (
        "warning",
        {(">", 0), (">=", alerts.STALE_UPSTREAM_ERROR_SHARE)},
    ),
    "MarketcacheBackgroundTaskFailing": ("warning", {(">", 0)}),
}


def rules() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    found: dict[str, dict[str, Any]] = {}
    for group in document["groups"]:
        for rule in group["rules"]:
            found[rule["alert"]] = rule
    return found


def exported_names() -> set[str]:
    """Every sample name the service's /metrics produces (with a cache, traffic and a task)."""
    upstream = UpstreamStats()
    upstream.record("ticker", 2, failed=True)
    tasks = {"cache.purge": TaskState(runs=1, errors=1, last_run=1.0)}
    alert = Alert("memory_high", "warning", 0.0, 85.0, 80.0, "m", "percent")
    memory = (100 * MB, MemoryLimit(512 * MB, "setting"))
    metrics = Metrics(
        StatsCollector(
            lambda: cache_stats(),
            lambda: upstream,
            lambda: tasks,
            lambda: [alert],
            memory=lambda: memory,
        )
    )
    metrics.observe("/price", "POST", 200, "hit", 0.001)
    text = metrics.exposition().decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_the_service_alert_constants_are_the_checklists() -> None:
    for name, value in CHECKLIST.items():
        assert getattr(alerts.AlertRules(), name) == value, name


def test_every_checklist_rule_is_there_with_its_severity_and_thresholds() -> None:
    found = rules()
    assert set(found) == set(EXPECTED)
    for name, (severity, comparisons) in EXPECTED.items():
        rule = found[name]
        assert rule["labels"]["severity"] == severity, name
        seen = {(op, float(value)) for op, value in COMPARISON.findall(rule["expr"])}
        assert seen == {(op, float(value)) for op, value in comparisons}, name
        assert rule["annotations"]["summary"], name


def test_every_metric_the_rules_name_is_exported() -> None:
    exported = exported_names()
    named = {m for rule in rules().values() for m in METRIC.findall(rule["expr"])}
    assert named, "the rules name no metric"
    assert named <= exported, sorted(named - exported)


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (scripts/ensure-promtool.sh)")
def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    assert PROMTOOL is not None
    check = subprocess.run(
        [PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run(
        [PROMTOOL, "test", "rules", str(PROMTOOL_TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROMTOOL_TESTS.parent,
    )
    assert test.returncode == 0, test.stdout + test.stderr


MARKET_SELECTOR = re.compile(r'endpoint=~"([^"]+)"')


def test_the_hit_rate_rules_count_exactly_the_market_paths() -> None:
    for name in ("MarketcacheHitRateLow", "MarketcacheHitRateCritical"):
        selectors = MARKET_SELECTOR.findall(rules()[name]["expr"])
        assert selectors, name
        for selector in selectors:
            assert set(selector.split("|")) == MARKET_PATHS, name
