"""Injected faults, latency and the request-weight limit, seen from an HTTP client."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from .conftest import ServerFactory

KLINES = "/api/v3/klines?symbol=ETHUSDT&interval=1m&limit=3"


@pytest.mark.parametrize(("fault", "status"), [("429", 429), ("418", 418)])
async def test_rate_faults_answer_with_retry_after(
    serve: ServerFactory, fault: str, status: int
) -> None:
    client = await serve()
    await client.post("/_emulator/faults", json={"fault": fault, "count": 2, "retry_after": 7})
    for _ in range(2):
        asked_ms = time.time() * 1000
        answer = await client.get(KLINES)
        answered_ms = time.time() * 1000
        assert answer.status_code == status
        assert answer.headers["Retry-After"] == "7"
        assert answer.json()["code"] == -1003
        assert answer.headers["X-Emulator"] == "marketcache"
        if fault == "418":  # Binance's ban message, with the time the ban ends (ms)
            message = answer.json()["msg"]
            banned = re.fullmatch(
                r"Way too much request weight used; IP banned until (\d+)\. "
                r"Please use WebSocket Streams for live updates to avoid bans\.",
                message,
            )
            assert banned is not None, message
            # 7 s from when it answered: between asking and hearing, however slow
            assert asked_ms + 7_000 - 1 <= int(banned[1]) <= answered_ms + 7_000 + 1
    assert (await client.get(KLINES)).status_code == 200  # the count is used up


@pytest.mark.parametrize("fault", ["500", "503"])
async def test_server_faults(serve: ServerFactory, fault: str) -> None:
    client = await serve()
    await client.post("/_emulator/faults", json={"fault": fault, "count": 1})
    answer = await client.get(KLINES)
    assert answer.status_code == int(fault)
    assert (await client.get(KLINES)).status_code == 200


async def test_malformed_is_a_truncated_200(serve: ServerFactory) -> None:
    client = await serve()
    good = await client.get(KLINES)
    await client.post("/_emulator/faults", json={"fault": "malformed", "count": 1})
    bad = await client.get(KLINES)
    assert bad.status_code == 200
    assert 0 < len(bad.content) < len(good.content)
    assert good.content.startswith(bad.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.content)


async def test_hang_holds_the_answer_until_the_client_gives_up(serve: ServerFactory) -> None:
    client = await serve()
    await client.post("/_emulator/faults", json={"fault": "hang", "count": 1})
    with pytest.raises(httpx.ReadTimeout):
        await client.get(KLINES, timeout=0.3)
    assert (await client.get(KLINES)).status_code == 200


async def test_faults_limited_to_a_path(serve: ServerFactory) -> None:
    client = await serve()
    body = {"fault": "503", "count": 5, "path": "/api/v3/klines"}
    await client.post("/_emulator/faults", json=body)
    assert (await client.get("/api/v3/ping")).status_code == 200
    assert (await client.get(KLINES)).status_code == 503


async def test_ratio_fails_about_that_share(serve: ServerFactory) -> None:
    client = await serve(seed=3)
    await client.post("/_emulator/faults", json={"fault": "500", "ratio": 0.5})
    statuses = [(await client.get("/api/v3/ping")).status_code for _ in range(200)]
    failed = statuses.count(500)
    assert set(statuses) == {200, 500}
    assert 60 <= failed <= 140


async def test_rules_combine_and_delete_clears_them(serve: ServerFactory) -> None:
    client = await serve()
    await client.post("/_emulator/faults", json={"fault": "429", "count": 1})
    await client.post("/_emulator/faults", json={"fault": "503", "count": 1})
    configured = await client.post("/_emulator/faults", json={"latency_ms": 1, "jitter_ms": 0})
    assert [r["fault"] for r in configured.json()["faults"]] == ["429", "503"]
    assert (await client.get(KLINES)).status_code == 429
    assert (await client.get(KLINES)).status_code == 503
    await client.post("/_emulator/faults", json={"fault": "500", "ratio": 1.0})
    assert (await client.get(KLINES)).status_code == 500
    assert (await client.delete("/_emulator/faults")).status_code == 200
    assert (await client.get("/_emulator/faults")).json() == {
        "latency_ms": 0.0,
        "jitter_ms": 0.0,
        "faults": [],
    }
    assert (await client.get(KLINES)).status_code == 200


async def test_reset_removes_faults_too(serve: ServerFactory) -> None:
    client = await serve()
    await client.post("/_emulator/faults", json={"fault": "500", "ratio": 1.0})
    await client.post("/_emulator/reset")
    assert (await client.get(KLINES)).status_code == 200


async def test_latency_delays_answers(serve: ServerFactory) -> None:
    client = await serve()
    await client.post("/_emulator/faults", json={"latency_ms": 5000})
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/api/v3/ping", timeout=0.2)
    await client.delete("/_emulator/faults")
    assert (await client.get("/api/v3/ping", timeout=5)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"fault": "404", "count": 1},
        {"fault": "500"},
        {"fault": "500", "count": 1, "ratio": 0.5},
        {"fault": "500", "count": 0},
        {"fault": "500", "ratio": 1.5},
        {"fault": "500", "count": 1, "path": "api/v3/klines"},
        {"latency_ms": -5},
        {"latency_ms": "slow"},
        {"fault": "500", "count": 1, "colour": "red"},
    ],
)
async def test_bad_fault_bodies_are_refused_clearly(serve: ServerFactory, body: object) -> None:
    client = await serve()
    answer = await client.post("/_emulator/faults", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]
    assert (await client.get("/_emulator/faults")).json()["faults"] == []


async def test_non_json_fault_body_is_refused(serve: ServerFactory) -> None:
    client = await serve()
    answer = await client.post("/_emulator/faults", content=b"{not json")
    assert answer.status_code == 400
    assert "JSON" in answer.json()["error"]


async def test_weight_limit_answers_429_with_retry_after(serve: ServerFactory) -> None:
    client = await serve(weight_limit=10)
    for used in (2, 4, 6, 8, 10):
        answer = await client.get(KLINES)
        assert answer.status_code == 200
        assert answer.headers["x-mbx-used-weight-1m"] == str(used)
    over = await client.get(KLINES)
    assert over.status_code == 429
    assert over.json()["code"] == -1003
    assert "10 request weight" in over.json()["msg"]
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.headers["x-mbx-used-weight"] == "12"
    # control endpoints are never limited nor counted
    assert (await client.get("/_emulator/stats")).json()["total_requests"] == 6
    await client.post("/_emulator/reset")
    assert (await client.get(KLINES)).status_code == 200
