"""The deployment checklist, run literally and in its order on the compose stack.

Run by `make test-deploy` (scripts/test-deploy.sh), which starts the Docker engine, sets
COMPOSE_FILE to the stack with the offline exchange, MIGRATION_PORT and PROMETHEUS_PORT,
and tears everything down afterwards. Each test is one stage of the checklist and
depends on the ones before it (pytest runs them in file order, with -x).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "http://127.0.0.1:8001"
MIGRATION = f"http://127.0.0.1:{os.environ.get('MIGRATION_PORT', '8002')}"
PROMETHEUS = f"http://127.0.0.1:{os.environ.get('PROMETHEUS_PORT', '9090')}"
CACHED, ORIGINAL = "market-data-cached", "market-data"
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT", "XRP/USDT"]
# what one stage measured and a later one compares with
RECORDED: dict[str, float] = {}


def sh(command: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one of the checklist's commands as written, in bash, from the repository root."""
    result = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"`{command}` exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}"
            f"\n--- stderr\n{result.stderr[-3000:]}"
        )
    return result


def curl_json(command: str) -> Any:
    """The JSON a literal curl command printed."""
    return json.loads(sh(command).stdout)


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll `check` until it holds; the seconds it took."""
    started = time.monotonic()
    last_error = ""
    while time.monotonic() - started < timeout_s:
        try:
            if check():
                return time.monotonic() - started
        except (httpx.HTTPError, ValueError, KeyError, subprocess.SubprocessError) as error:
            last_error = repr(error)
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s} s {last_error}")


def health_of(service: str) -> str:
    """Docker's health status of a compose service's container."""
    command = (
        f"docker inspect --format '{{{{.State.Health.Status}}}}' $(docker-compose ps -q {service})"
    )
    return sh(command).stdout.strip()


def get(url: str) -> Any:
    """GET a JSON answer."""
    return httpx.get(url, timeout=10).json()


Outcome = tuple[int, str]


def request_once(client: httpx.Client, base: str, i: int, prices_only: bool = False) -> Outcome:
    """One market request; (status, who served it), status 0 when it failed outright.

    `prices_only` keeps the original service's exchange traffic light (a ticker each), so
    a split is measured on answers, not on an exchange that a loaded machine slows down.
    """
    symbol = SYMBOLS[i % len(SYMBOLS)]
    path, body = (
        ("/price", {"symbol": symbol})
        if i % 2 or prices_only
        else ("/comprehensive_analysis", {"symbol": symbol, "timeframe": "15m"})
    )
    try:
        reply = client.post(base + path, json=body)
    except httpx.HTTPError as error:
        return 0, repr(error)
    return reply.status_code, reply.headers.get("x-served-by", "")


def burst(base: str, count: int, concurrency: int = 10, prices_only: bool = False) -> list[Outcome]:
    """`count` market requests, `concurrency` at a time."""
    with httpx.Client(timeout=20) as client, ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(lambda i: request_once(client, base, i, prices_only), range(count)))


@contextmanager
def steady_load(base: str, threads: int = 4, prices_only: bool = False) -> Iterator[list[Outcome]]:
    """Requests in a loop on a few threads while the block runs; every outcome recorded."""
    outcomes: list[Outcome] = []
    stop = threading.Event()

    def worker(offset: int) -> None:
        with httpx.Client(timeout=20) as client:
            i = offset
            while not stop.is_set():
                outcomes.append(request_once(client, base, i, prices_only))
                i += threads

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    try:
        yield outcomes
    finally:
        stop.set()
        for thread in pool:
            thread.join(timeout=30)


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    """The outcomes that were not a 200."""
    return [outcome for outcome in outcomes if outcome[0] != 200]


def test_pre_deployment_original_running_and_monitoring_ready() -> None:
    """Environment set-up; the original service running and healthy; monitoring ready."""
    sh("docker --version && docker-compose --version")
    sh("docker-compose up -d market-data prometheus", timeout=1500)
    wait_for(lambda: health_of("market-data") == "healthy", 120, "original healthy")
    wait_for(
        lambda: get(f"{SERVICE}/health")["service"] == ORIGINAL,
        30,
        "the original answers on 8001 (the front door routes to it while it is alone)",
    )
    wait_for(lambda: httpx.get(f"{PROMETHEUS}/-/ready").status_code == 200, 60, "Prometheus")


def test_step1_deploy_cached_service() -> None:
    """Build, start in parallel, `docker ps | grep`; healthy within 30 seconds."""
    sh("docker-compose build market-data-cached", timeout=1500)
    sh("docker-compose up -d market-data-cached", timeout=300)
    took = wait_for(lambda: health_of("market-data-cached") == "healthy", 60, "cached healthy")
    assert "crypto-market-data-cached" in sh("docker ps | grep crypto-market-data-cached").stdout
    assert took <= 30, f"the cached service took {took:.1f} s to be healthy (checklist: 30 s)"
    wait_for(lambda: get(f"{SERVICE}/health")["service"] == "cached-market-data", 30, "8001")


def test_step2_health_check() -> None:
    """200, the documented shape, cache_enabled, no error messages in the logs."""
    result = sh("curl -s -o /dev/stderr -w '%{http_code}' http://localhost:8001/health")
    assert result.stdout == "200"
    health = json.loads(result.stderr)
    assert health["status"] == "healthy"
    assert health["service"] == "cached-market-data"
    assert health["version"] == "2.0.0"
    assert health["cache_enabled"] is True
    assert set(health["cache_stats"]) >= {"hit_rate", "entries", "memory_mb"}
    logs = sh("docker-compose logs --no-color market-data-cached").stdout
    assert not re.search(r"\bERROR\b|Traceback", logs), logs[-3000:]


def test_step3_cache_statistics() -> None:
    """/cache/stats answers; a cold cache counts zero."""
    stats = curl_json("curl -s http://localhost:8001/cache/stats")
    assert stats["success"] is True
    counters = stats["data"]["cache_stats"]
    for name in ("hit_rate", "entries", "memory_mb", "hits", "misses", "evictions"):
        assert counters[name] == 0, (name, counters)


def test_step4_functional_testing() -> None:
    """Price and comprehensive analysis answer valid data; the baseline time is recorded."""
    price = curl_json(
        """curl -X POST http://localhost:8001/price \\
          -H "Content-Type: application/json" \\
          -d '{"symbol": "BTC/USDT"}' -s"""
    )
    assert price["success"] is True
    assert price["data"]["symbol"] == "BTC/USDT"
    assert price["data"]["last"] > 0
    result = sh(
        """curl -X POST http://localhost:8001/comprehensive_analysis \\
          -H "Content-Type: application/json" \\
          -d '{"symbol": "BTC/USDT", "timeframe": "15m"}' -s -w '\\n%{time_total}'"""
    )
    body, _, took = result.stdout.rpartition("\n")
    analysis = json.loads(body)
    assert analysis["success"] is True
    assert analysis["meta"]["cache"] == "miss"
    assert analysis["data"]["indicators"]["rsi"] is not None
    RECORDED["baseline_analysis_s"] = float(took)


def test_step5_performance_testing_inside_the_container() -> None:
    """Step 5 inside the container: score > 80 %, grades B or better, nothing critical."""
    result = sh(
        "docker-compose exec -T market-data-cached sh -c "
        "'cd /services/market-data && python cache_test_suite.py'",
        timeout=600,
        check=False,
    )
    output = result.stdout
    score = re.search(r"Overall score: ([\d.]+) %", output)
    grades = re.search(r"Performance grade: (\w)\s+Reliability grade: (\w)", output)
    assert score, output[-4000:] + result.stderr[-2000:]
    assert grades, output[-4000:]
    assert float(score.group(1)) > 80, output[-4000:]
    assert grades.group(1) in "AB", output[-4000:]
    assert grades.group(2) in "AB", output[-4000:]
    assert "Critical failures: none" in output, output[-4000:]
    assert result.returncode == 0, output[-4000:]


def test_step6_cache_warming() -> None:
    """Warming completes, adds entries, and the warmed keys then hit."""
    # from inside the container: through the front door, without ADMIN_TOKEN, clear is refused
    sh(
        "docker-compose exec -T market-data-cached python -c "
        "\"import urllib.request as u; u.urlopen(u.Request('http://localhost:8001/cache/clear', "
        "b'{}', {'Content-Type': 'application/json'}))\""
    )
    before = get(f"{SERVICE}/cache/stats")["data"]["cache_stats"]
    warm = curl_json(
        """curl -X POST http://localhost:8001/cache/warm \\
          -H "Content-Type: application/json" \\
          -d '{"symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT"]}' -s"""
    )
    assert warm["success"] is True
    assert warm["data"]["warmed"] == 3, warm
    assert warm["data"]["failed"] == 0, warm
    after = get(f"{SERVICE}/cache/stats")["data"]["cache_stats"]
    assert after["entries"] > before["entries"]
    for symbol in ("ETH/USDT", "SOL/USDT"):
        reply = httpx.post(
            f"{SERVICE}/comprehensive_analysis", json={"symbol": symbol, "timeframe": "15m"}
        )
        assert reply.headers["x-cache"] in {"hit", "stale"}, (symbol, reply.headers)
    later = get(f"{SERVICE}/cache/stats")["data"]["cache_stats"]
    assert later["hits"] > after["hits"]


def test_step7_performance_validation() -> None:
    """Five timed repeats: warm answers under 200 ms, 80 %+ faster than the cold baseline."""
    result = sh(
        """for i in {1..5}; do
          curl -w "Time: %{time_total}s\\n" -o /dev/null -s \\
            -X POST http://localhost:8001/comprehensive_analysis \\
            -H "Content-Type: application/json" \\
            -d '{"symbol": "BTC/USDT", "timeframe": "15m"}'
        done"""
    )
    times = [float(t) for t in re.findall(r"Time: ([\d.]+)s", result.stdout)]
    assert len(times) == 5, result.stdout
    subsequent = times[1:]
    assert max(subsequent) < 0.2, times
    baseline = RECORDED["baseline_analysis_s"]
    improvement = 1 - statistics.median(subsequent) / baseline
    assert improvement >= 0.8, (baseline, times)


def test_step8_monitor_cache_health() -> None:
    """Healthy, hit rate > 50 % after warm-up, memory < 80 %, no active alerts."""
    health = curl_json("curl -s http://localhost:8001/cache/health")
    assert health["status"] == "healthy", health
    assert health["metrics"]["hit_rate"] > 50, health["metrics"]
    assert health["metrics"]["memory_usage_percent"] < 80, health["metrics"]
    assert health["active_alerts"] == 0, health["alerts"]


def test_step9_performance_monitoring() -> None:
    """Trends and recommendations answer; no critical recommendation."""
    performance = curl_json("curl -s http://localhost:8001/cache/performance?hours=1")
    assert performance["success"] is True
    assert performance["data"]["buckets"]
    recommendations = curl_json("curl -s http://localhost:8001/cache/recommendations")
    assert recommendations["success"] is True
    critical = [
        r for r in recommendations["data"]["recommendations"] if r.get("severity") == "critical"
    ]
    assert not critical, critical


def test_step10_stress_testing() -> None:
    """Ten concurrent analyses all succeed; the service stays healthy."""
    result = sh(
        """for i in {1..10}; do
          curl -X POST http://localhost:8001/comprehensive_analysis \\
            -H "Content-Type: application/json" \\
            -d '{"symbol": "BTC/USDT", "timeframe": "15m"}' -s &
        done
        wait"""
    )
    decoder, text, answers = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        answer, end = decoder.raw_decode(text)
        answers.append(answer)
        text = text[end:].strip()
    assert len(answers) == 10, result.stdout[-2000:]
    assert all(a["success"] for a in answers), result.stdout[-2000:]
    assert health_of("market-data-cached") == "healthy"


def test_redis_stopped_mid_load_costs_no_client_an_error() -> None:
    """Redis stops and comes back under load: every request is answered 200."""
    with steady_load(SERVICE) as outcomes:
        wait_for(lambda: len(outcomes) >= 40, 60, "load running")
        sh("docker-compose stop redis")
        stopped_at = len(outcomes)
        wait_for(lambda: len(outcomes) >= stopped_at + 40, 60, "load while Redis is down")
        sh("docker-compose start redis")
        wait_for(lambda: health_of("redis") == "healthy", 60, "redis")
        restarted_at = len(outcomes)
        wait_for(lambda: len(outcomes) >= restarted_at + 40, 60, "load after Redis is back")
    assert not failures(outcomes), failures(outcomes)[:10]
    wait_for(
        lambda: (
            not any(a["name"] == "l2_unavailable" for a in get(f"{SERVICE}/cache/health")["alerts"])
        ),
        60,
        "the L2 alert clears once Redis answers",
    )


def test_step11b_gradual_migration() -> None:
    """20 % (± 8 %) of 500 requests to the cached service; raised to 100 % with no error."""
    first = burst(MIGRATION, 500, prices_only=True)
    assert not failures(first), failures(first)[:10]
    served = Counter(who for _, who in first)
    assert set(served) <= {CACHED, ORIGINAL}, served
    share = served[CACHED] / 500
    assert 0.12 <= share <= 0.28, served
    with steady_load(MIGRATION, prices_only=True) as outcomes:
        wait_for(lambda: len(outcomes) >= 20, 60, "load running")
        for percent in (50, 100):
            sh(f"bash deploy/traffic-split.sh {percent}")
            at = len(outcomes)
            wait_for(lambda at=at: len(outcomes) >= at + 20, 60, f"load at {percent} %")
    assert not failures(outcomes), failures(outcomes)[:10]
    after = burst(MIGRATION, 500, prices_only=True)
    assert not failures(after), failures(after)[:10]
    assert Counter(who for _, who in after) == {CACHED: 500}


def test_step11a_direct_cutover() -> None:
    """`docker-compose stop market-data`: both ports serve from the cached one, no error."""
    with (
        steady_load(MIGRATION, threads=2, prices_only=True) as migration,
        steady_load(SERVICE, threads=2) as service,
    ):
        wait_for(lambda: len(service) >= 20, 60, "load running")
        sh("docker-compose stop market-data")
        at = len(service)
        wait_for(lambda: len(service) >= at + 20, 60, "load after the original stopped")
    assert not failures(migration + service), failures(migration + service)[:10]
    after = burst(SERVICE, 50) + burst(MIGRATION, 50)
    assert Counter(who for _, who in after) == {CACHED: 100}


def test_step12_final_validation() -> None:
    """Every endpoint through the cached service, as step 12 writes them."""
    health = curl_json("curl -s http://localhost:8001/health")
    assert health["service"] == "cached-market-data"
    assert health["status"] == "healthy"
    for endpoint in ("price", "comprehensive_analysis", "volume_spike", "cvd"):
        answer = curl_json(
            f"curl -s -X POST http://localhost:8001/{endpoint} "
            """-H "Content-Type: application/json" -d '{"symbol": "BTC/USDT"}'"""
        )
        assert answer["success"] is True, (endpoint, answer)
        assert answer["data"]["symbol"] == "BTC/USDT"
    stats = get(f"{SERVICE}/cache/stats")["data"]["cache_stats"]
    assert stats["hit_rate"] > 50, stats


def test_prometheus_scrapes_the_service_and_loaded_every_rule() -> None:
    """The cached service is an `up` target; every alert of alerts.yml is loaded."""

    def cached_up() -> bool:
        targets = get(f"{PROMETHEUS}/api/v1/targets")["data"]["activeTargets"]
        return any(t["labels"].get("service") == CACHED and t["health"] == "up" for t in targets)

    wait_for(cached_up, 60, "Prometheus scrapes market-data-cached")
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    wanted = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    loaded = {
        rule["name"]
        for group in get(f"{PROMETHEUS}/api/v1/rules")["data"]["groups"]
        for rule in group["rules"]
    }
    assert wanted
    assert wanted <= loaded, wanted - loaded


def test_rollback_restores_the_original_on_8001() -> None:
    """The emergency rollback; then `curl http://localhost:8001/health` is the original."""
    sh("bash deploy/rollback.sh", timeout=300)
    health = curl_json("curl -s http://localhost:8001/health")
    assert health["service"] == "market-data", health
    assert health["cache_enabled"] is False
    assert "crypto-market-data-cached" not in sh("docker ps").stdout
    logs = sh("docker-compose logs --no-color --tail=50 market-data").stdout
    assert "GET /health" in logs
