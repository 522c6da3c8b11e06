"""`/metrics` and the per-request log line."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from marketcache.logs import JsonFormatter
from marketcache.monitoring import memory
from marketcache.monitoring.memory import MB
from tests.api.conftest import Harness, HarnessFactory


async def scrape(h: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await h.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


async def test_metrics_count_requests_by_endpoint_and_cache_status(harness: Harness) -> None:
    h = harness
    for _ in range(3):
        await h.client.post("/price", json={"symbol": "BTC/USDT"})
    await h.client.get("/no/such/path")
    samples = await scrape(h)
    price = {"endpoint": "/price", "method": "POST", "status": "200"}
    assert samples[("marketcache_requests_total", labels(**price, cache="miss"))] == 1
    assert samples[("marketcache_requests_total", labels(**price, cache="hit"))] == 2
    unknown = labels(endpoint="other", method="GET", status="404", cache="none")
    assert samples[("marketcache_requests_total", unknown)] == 1
    count = ("marketcache_request_duration_seconds_count", labels(endpoint="/price", cache="hit"))
    assert samples[count] == 2
    stats = (await h.client.get("/cache/stats")).json()["data"]
    cache = stats["cache_stats"]
    assert samples[("marketcache_cache_lookups_total", ())] == cache["lookups"]
    assert samples[("marketcache_cache_hits_total", ())] == cache["hits"]
    assert samples[("marketcache_cache_entries", ())] == cache["entries"]
    assert samples[("marketcache_cache_max_bytes", ())] == cache["max_bytes"]
    ticker = labels(operation="ticker")
    assert samples[("marketcache_upstream_calls_total", ticker)] == 1
    assert samples[("marketcache_upstream_weight_total", ticker)] == 2
    assert ("marketcache_task_runs_total", labels(task="monitor.sampler")) in samples
    assert ("marketcache_task_errors_total", labels(task="cache.purge")) in samples


async def test_firing_alerts_and_the_process_memory_are_exported(
    make_harness: HarnessFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "memory.max").write_text(f"{16 * MB}\n")  # far below this process's RSS
    monkeypatch.setattr(memory, "CGROUP_ROOT", tmp_path)
    h = await make_harness()
    await h.client.get("/cache/health")
    samples = await scrape(h)
    assert samples[("marketcache_alerts_active", labels(alert="memory_high", severity="critical"))]
    assert samples[("marketcache_memory_limit_bytes", labels(source="cgroup"))] == 16 * MB
    assert samples[("marketcache_memory_rss_bytes", ())] > 16 * MB


async def test_the_uncached_service_exports_zero_cache_counters(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(no_cache=True)
    response = await h.client.post("/price", json={"symbol": "BTC/USDT"})
    assert response.headers["X-Cache"] == "bypass"
    samples = await scrape(h)
    assert samples[("marketcache_cache_enabled", ())] == 0
    assert samples[("marketcache_cache_lookups_total", ())] == 0
    bypass = labels(endpoint="/price", method="POST", status="200", cache="bypass")
    assert samples[("marketcache_requests_total", bypass)] == 1
    health = (await h.client.get("/cache/health")).json()
    assert health["cache_enabled"] is False
    assert health["status"] == "healthy"


async def test_one_structured_log_line_per_request(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="marketcache.access")
    await harness.client.post("/price", json={"symbol": "btcusdt"})
    await harness.client.post("/price", json={"symbol": "NOPE/USDT"})
    runtime = harness.client._transport.app.state.runtime  # type: ignore[attr-defined]
    runtime.access_log.flush()  # the lines are written off the request path
    records = [r for r in caplog.records if r.name == "marketcache.access"]
    assert len(records) == 2
    miss, unknown = (orjson.loads(JsonFormatter().format(r)) for r in records)
    assert {k: miss[k] for k in ("method", "path", "status", "cache", "symbol")} == {
        "method": "POST",
        "path": "/price",
        "status": 200,
        "cache": "miss",
        "symbol": "BTC/USDT",  # normalized: one tally per market whatever the spelling
    }
    assert miss["latency_ms"] >= 0
    assert miss["level"] == "info"
    assert "POST /price 200 miss" in miss["message"]
    assert (unknown["status"], unknown["cache"]) == (404, None)


async def test_label_values_stay_bounded_whatever_clients_send(harness: Harness) -> None:
    for i in range(5):
        await harness.client.request(f"BREW{i}", f"/pot/{i}")
    samples = await scrape(harness)
    odd = [key for key in samples if key[0] == "marketcache_requests_total"]
    assert {dict(labels)["method"] for _, labels in odd} == {"OTHER"}
    assert {dict(labels)["endpoint"] for _, labels in odd} == {"other"}
