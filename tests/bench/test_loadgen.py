"""The load generator against a tiny local server: bounds, records and failures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from marketcache.bench.loadgen import LoadPlan, drive
from marketcache.bench.workload import Workload
from marketcache.netutil import free_port


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    """Answers every POST; every third one is a miss, every seventh a 503."""
    seen = {"n": 0}

    async def answer(request: web.Request) -> web.Response:
        await request.json()
        seen["n"] += 1
        if seen["n"] % 7 == 0:
            return web.json_response({"success": False}, status=503)
        label = "miss" if seen["n"] % 3 == 0 else "hit"
        return web.json_response({"success": True}, headers={"X-Cache": label})

    app = web.Application()
    app.router.add_post("/{endpoint}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_the_request_cap_bounds_the_run(server_url: str) -> None:
    plan = LoadPlan(users=5, duration_s=60.0, max_requests=123, seed=1)
    result = await drive(server_url, Workload(), plan)
    assert len(result.records) == 123
    assert {r.user for r in result.records} <= set(range(5))
    assert sum(1 for r in result.records if r.status == 503) == 123 // 7
    assert {r.cache for r in result.records if r.ok} == {"hit", "miss"}
    assert all(r.cache is None for r in result.records if not r.ok)
    assert all(r.latency_ms >= 0 for r in result.records)
    assert result.elapsed_s > 0


async def test_no_request_starts_after_the_deadline(server_url: str) -> None:
    plan = LoadPlan(users=2, duration_s=1.0, max_requests=1_000_000, seed=1)
    result = await drive(server_url, Workload(think_ms=20), plan)
    assert 0 < len(result.records) < 1_000_000
    assert all(r.start_s < plan.duration_s for r in result.records)


async def test_requests_follow_each_users_stream(server_url: str) -> None:
    plan = LoadPlan(users=1, duration_s=60.0, max_requests=30, seed=4)
    first = await drive(server_url, Workload(), plan)
    second = await drive(server_url, Workload(), plan)
    assert [r.endpoint for r in first.records] == [r.endpoint for r in second.records]


async def test_a_dead_service_gives_records_without_status() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    plan = LoadPlan(users=2, duration_s=5.0, max_requests=4, seed=1, timeout_s=2.0)
    result = await drive(url, Workload(), plan)
    assert len(result.records) == 4
    assert all(r.status is None and r.failure for r in result.records)


def test_a_plan_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoadPlan(users=0, duration_s=1.0, max_requests=1, seed=1)


@pytest.mark.parametrize(
    ("body", "age"),
    [
        (b'{"success": true, "data": {}, "meta": {"cache": "hit", "age_ms": 1234}}', 1234.0),
        (b'{"success": true, "data": {}}', None),
        (b"not json", None),
        (b'{"meta": {"age_ms": "old"}}', None),
    ],
)
def test_the_age_of_an_answer_is_read_from_its_meta(body: bytes, age: float | None) -> None:
    from marketcache.bench.loadgen import _age_ms

    assert _age_ms(body) == age
