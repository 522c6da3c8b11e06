"""Replicas behind a load balancer sharing Redis: one upstream load, shared clears, Redis
failures that clients never see, and a lease holder that dies mid-load."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter

import httpx
import pytest
import redis

from marketcache.cache.redis import FORMAT
from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess
from tests.cache.redis_server import RedisServer

from .conftest import StartReplicas, emulator_requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ANALYSIS = {"symbol": "BTC/USDT", "timeframe": "15m"}


def stats(replica: ServiceProcess) -> dict[str, object]:
    return dict(httpx.get(f"{replica.url}/cache/stats", timeout=5).json()["data"])


def alerts(replica: ServiceProcess) -> set[str]:
    health = httpx.get(f"{replica.url}/cache/health", timeout=5).json()
    return {alert["name"] for alert in health["alerts"]}


def entries_in_redis(server: RedisServer) -> int:
    with redis.Redis.from_url(server.url) as client:
        return len(client.keys(f"*:v{FORMAT}:e:*"))


def eventually(condition: object, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition never held")


def test_thirty_cold_requests_over_three_replicas_make_one_klines_request_and_clear_empties_all(
    start_replicas: StartReplicas, emulator: EmulatorProcess
) -> None:
    replicas = start_replicas(3)
    before = emulator_requests(emulator)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{replicas[i % 3].url}/comprehensive_analysis", json=ANALYSIS)
                    for i in range(30)
                )
            )

    answers = asyncio.run(burst())
    assert [a.status_code for a in answers] == [200] * 30
    assert len({a.json()["data"]["signal"]["score"] for a in answers}) == 1
    assert Counter(a.headers["x-cache"] for a in answers)["miss"] == 1
    assert emulator_requests(emulator) - before == 1

    for replica in replicas:
        httpx.post(f"{replica.url}/price", json={"symbol": "ETH/USDT"}, timeout=10)
    assert all(stats(r)["cache_stats"]["entries"] > 0 for r in replicas)  # type: ignore[index]
    cleared = httpx.post(f"{replicas[1].url}/cache/clear", json={}, timeout=10)
    assert cleared.status_code == 200
    eventually(lambda: all(stats(r)["cache_stats"]["entries"] == 0 for r in replicas))  # type: ignore[index]
    drops = [stats(r)["cache_levels"]["l2"]["fanout_drops"] for r in replicas]  # type: ignore[index]
    assert drops[0] > 0
    assert drops[2] > 0


def test_redis_stopped_mid_load_costs_no_client_an_error(
    start_replicas: StartReplicas, redis_server: RedisServer
) -> None:
    replicas = start_replicas(2, {"REDIS_TIMEOUT_MS": "50"})
    symbols = ["BTC/USDT", "ETH/USDT", "BNB/USDT", "XRP/USDT"]
    statuses: Counter[int] = Counter()
    phase = {"stop": False}

    async def user(client: httpx.AsyncClient, n: int) -> None:
        i = n
        while not phase["stop"]:
            replica = replicas[i % 2]
            symbol = symbols[i % len(symbols)]
            path, body = (
                ("/price", {"symbol": symbol})
                if i % 3
                else ("/comprehensive_analysis", {"symbol": symbol, "timeframe": "15m"})
            )
            try:
                response = await client.post(f"{replica.url}{path}", json=body)
                statuses[response.status_code] += 1
            except httpx.HTTPError:
                statuses[0] += 1
            i += 1
            await asyncio.sleep(0.01)

    async def scenario() -> set[str]:
        async with httpx.AsyncClient(timeout=20) as client:
            users = [asyncio.create_task(user(client, n)) for n in range(6)]
            await asyncio.sleep(1.5)
            redis_server.stop()
            await asyncio.sleep(2.5)  # load goes on against L1 alone
            raised = await asyncio.to_thread(lambda: alerts(replicas[0]) | alerts(replicas[1]))
            redis_server.start()  # restarted, empty
            await asyncio.sleep(2.0)
            phase["stop"] = True
            await asyncio.gather(*users)
            return raised

    raised = asyncio.run(scenario())
    assert set(statuses) == {200}, statuses
    assert sum(statuses.values()) > 50
    assert "l2_unavailable" in raised
    eventually(lambda: all("l2_unavailable" not in alerts(r) for r in replicas))
    for symbol in ("SOL/USDT", "ADA/USDT"):  # new loads fill L2 again
        httpx.post(f"{replicas[0].url}/price", json={"symbol": symbol}, timeout=10)
    eventually(lambda: entries_in_redis(redis_server) >= 2)
    l2 = stats(replicas[1])["cache_levels"]["l2"]  # type: ignore[index]
    assert l2["state"] == "up"
    assert l2["errors"] > 0


def test_a_killed_lease_holder_is_taken_over_within_every_deadline(
    start_replicas: StartReplicas, emulator: EmulatorProcess
) -> None:
    deadline_s = 6.0
    holder, other = start_replicas(
        2, {"REDIS_LEASE_TTL_S": "1.5", "CACHE_WAIT_DEADLINE_S": str(deadline_s)}
    )
    control = EmulatorControl(emulator.url)
    control.set_faults("hang", count=1, path="/api/v3/klines")
    before = emulator_requests(emulator)

    async def scenario() -> list[tuple[int, float]]:
        async with httpx.AsyncClient(timeout=30) as client:
            doomed = asyncio.create_task(
                client.post(f"{holder.url}/comprehensive_analysis", json=ANALYSIS)
            )
            for _ in range(200):  # until the holder's klines request hangs at the emulator
                if emulator_requests(emulator) > before:
                    break
                await asyncio.sleep(0.02)

            async def timed() -> tuple[int, float]:
                started = time.monotonic()
                response = await client.post(f"{other.url}/comprehensive_analysis", json=ANALYSIS)
                return response.status_code, time.monotonic() - started

            waiting = [asyncio.create_task(timed()) for _ in range(10)]
            await asyncio.sleep(0.3)
            os.kill(holder.pid, signal.SIGKILL)
            with pytest.raises(httpx.HTTPError):
                await doomed
            return await asyncio.gather(*waiting)

    results = asyncio.run(scenario())
    assert [status for status, _ in results] == [200] * 10
    assert max(elapsed for _, elapsed in results) < deadline_s
    assert emulator_requests(emulator) - before == 2  # the hung one, then the takeover
    l2 = stats(other)["cache_levels"]["l2"]  # type: ignore[index]
    assert l2["lease_takeovers"] >= 1
