"""The Binance endpoints over HTTP: shapes, Binance errors, weights and headers."""

from __future__ import annotations

import json

import pytest

from .conftest import START_MS, ServerFactory


async def test_ping_time_info_and_marker_header(serve: ServerFactory) -> None:
    client = await serve()
    ping = await client.get("/api/v3/ping")
    assert ping.status_code == 200
    assert ping.json() == {}
    assert ping.headers["X-Emulator"] == "marketcache"
    assert (await client.get("/api/v3/time")).json() == {"serverTime": START_MS}
    info = (await client.get("/_emulator/info")).json()
    ws = info.pop("ws_url")
    assert ws.startswith("ws://127.0.0.1:")
    assert ws.endswith("/ws")
    assert info == {"emulator": "marketcache", "symbols": 315, "now": START_MS, "frozen": True}


async def test_exchange_info_is_the_recorded_file_with_our_time(serve: ServerFactory) -> None:
    client = await serve()
    answer = await client.get("/api/v3/exchangeInfo")
    body = answer.json()
    assert body["serverTime"] == START_MS
    assert len(body["symbols"]) == 315
    assert body["symbols"][0]["symbol"] == "BTCUSDT"
    assert answer.headers["x-mbx-used-weight-1m"] == "20"
    one = (await client.get("/api/v3/exchangeInfo", params={"symbol": "ETHUSDT"})).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"symbol": "NOPEUSDT", "interval": "1m"}, 400, -1121),
        ({"symbol": "BTCUSDT", "interval": "7m"}, 400, -1120),
        ({"interval": "1m"}, 400, -1102),
        ({"symbol": "BTCUSDT"}, 400, -1102),
        ({"symbol": "BTCUSDT", "interval": "1m", "limit": "ten"}, 400, -1100),
        ({"symbol": "BTCUSDT", "interval": "1m", "limit": "0"}, 400, -1100),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "x"}, 400, -1100),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "5", "endTime": "4"}, 400, -1023),
    ],
)
async def test_bad_kline_parameters_get_binance_errors(
    serve: ServerFactory, params: dict[str, str], status: int, code: int
) -> None:
    client = await serve()
    answer = await client.get("/api/v3/klines", params=params)
    assert answer.status_code == status
    body = answer.json()
    assert body["code"] == code
    assert isinstance(body["msg"], str)
    assert body["msg"]


async def test_duplicate_parameter_is_rejected(serve: ServerFactory) -> None:
    client = await serve()
    answer = await client.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&interval=5m")
    assert answer.status_code == 400
    assert answer.json()["code"] == -1101


async def test_invalid_symbol_message_is_binances(serve: ServerFactory) -> None:
    client = await serve()
    answer = await client.get("/api/v3/ticker/24hr", params={"symbol": "FOO"})
    assert answer.status_code == 400
    assert answer.json() == {"code": -1121, "msg": "Invalid symbol."}


async def test_klines_limits_and_windows(serve: ServerFactory) -> None:
    client = await serve()
    default = (
        await client.get("/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1m"})
    ).json()
    assert len(default) == 500
    capped = await client.get(
        "/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1m", "limit": "5000"}
    )
    assert len(capped.json()) == 1000
    future = await client.get(
        "/api/v3/klines",
        params={"symbol": "ETHUSDT", "interval": "1m", "startTime": str(START_MS + 3_600_000)},
    )
    assert future.json() == []
    lower = await client.get(
        "/api/v3/klines", params={"symbol": "ethusdt", "interval": "1h", "limit": "3"}
    )
    assert lower.status_code == 400
    assert lower.json()["code"] == -1100  # Binance takes upper-case symbols only


async def test_tickers_one_some_and_all(serve: ServerFactory) -> None:
    client = await serve()
    one = await client.get("/api/v3/ticker/24hr", params={"symbol": "ETHUSDT"})
    assert one.json()["symbol"] == "ETHUSDT"
    assert one.headers["x-mbx-used-weight"] == "2"
    some = await client.get(
        "/api/v3/ticker/24hr", params={"symbols": json.dumps(["ETHUSDT", "BTCUSDT"])}
    )
    assert [t["symbol"] for t in some.json()] == ["ETHUSDT", "BTCUSDT"]
    everything = await client.get("/api/v3/ticker/24hr")
    assert len(everything.json()) == 315
    assert everything.headers["x-mbx-used-weight"] == str(2 + 2 + 80)
    bad = await client.get("/api/v3/ticker/24hr", params={"symbols": "ETHUSDT"})
    assert bad.status_code == 400
    assert bad.json()["code"] == -1100
    price = (await client.get("/api/v3/ticker/price", params={"symbol": "ETHUSDT"})).json()
    assert price["price"] == one.json()["lastPrice"]
    prices = (await client.get("/api/v3/ticker/price")).json()
    assert len(prices) == 315


async def test_agg_trades_queries(serve: ServerFactory) -> None:
    client = await serve()
    recent = (await client.get("/api/v3/aggTrades", params={"symbol": "ETHUSDT"})).json()
    assert len(recent) == 500
    assert all(t["T"] <= START_MS for t in recent)
    assert [t["a"] for t in recent] == sorted(t["a"] for t in recent)
    assert set(recent[0]) == {"a", "p", "q", "f", "l", "T", "m", "M"}
    start = START_MS - 10 * 60_000
    window = await client.get(
        "/api/v3/aggTrades",
        params={
            "symbol": "ETHUSDT",
            "startTime": str(start),
            "endTime": str(start + 60_000),
            "limit": "1000",
        },
    )
    rows = window.json()
    assert rows
    assert all(start <= t["T"] <= start + 60_000 for t in rows)
    from_id = await client.get(
        "/api/v3/aggTrades", params={"symbol": "ETHUSDT", "fromId": str(rows[3]["a"]), "limit": "4"}
    )
    assert from_id.json() == rows[3:7]
    too_long = await client.get(
        "/api/v3/aggTrades",
        params={"symbol": "ETHUSDT", "startTime": str(start), "endTime": str(start + 7_200_000)},
    )
    assert too_long.status_code == 400
    assert too_long.json()["code"] == -1127


async def test_depth_has_sorted_sides_and_weight_by_limit(serve: ServerFactory) -> None:
    client = await serve()
    answer = await client.get("/api/v3/depth", params={"symbol": "ETHUSDT", "limit": "500"})
    book = answer.json()
    assert answer.headers["x-mbx-used-weight"] == "25"
    bids = [float(p) for p, _ in book["bids"]]
    asks = [float(p) for p, _ in book["asks"]]
    assert len(asks) == 500
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]


async def test_stats_count_requests_and_weight_per_path(serve: ServerFactory) -> None:
    client = await serve()
    for _ in range(3):
        await client.get(
            "/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1m", "limit": "2"}
        )
    await client.get("/api/v3/ticker/24hr", params={"symbol": "ETHUSDT"})
    await client.get("/_emulator/info")
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["requests"] == {"/api/v3/klines": 3, "/api/v3/ticker/24hr": 1}
    assert stats["weight"] == {"/api/v3/klines": 6, "/api/v3/ticker/24hr": 2}
    assert stats["total_requests"] == 4
    assert stats["total_weight"] == 8
    assert stats["weight_this_minute"] == 8
    assert (await client.post("/_emulator/reset")).json() == {"ok": True}
    zeroed = (await client.get("/_emulator/stats")).json()
    assert zeroed["total_requests"] == 0
    assert zeroed["requests"] == {}
    assert zeroed["weight_this_minute"] == 0


async def test_clock_control_moves_a_frozen_clock(serve: ServerFactory) -> None:
    client = await serve()
    moved = await client.post("/_emulator/clock", json={"advance_ms": 90_000})
    assert moved.json() == {"now": START_MS + 90_000, "frozen": True}
    assert (await client.get("/api/v3/time")).json()["serverTime"] == START_MS + 90_000
    put = await client.post("/_emulator/clock", json={"set_ms": START_MS})
    assert put.json()["now"] == START_MS
    bad = await client.post("/_emulator/clock", json={"advance_ms": "soon"})
    assert bad.status_code == 400
