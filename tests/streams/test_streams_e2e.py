"""Upstream streams end to end: the real server (STREAMS=true) against the emulator's
websocket streams, through unmodified ccxt.pro.

A hot price is read for 60 s, as issue 16 asks, with the same checks on every answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

READS_S = 60.0
LAG_MS = 250
TICKER = "/api/v3/ticker/24hr"
STREAMS_ON = {
    "STREAMS": "true",
    "STREAMS_READS_PER_MIN": "5",
    "STREAMS_RETRY_S": "0.2",
    "LOG_LEVEL": "warning",
}


@pytest.fixture
def emulator() -> Iterator[EmulatorProcess]:
    """The emulator on a running clock (wall time): its tape moves as we read."""
    with EmulatorProcess(die_with_parent=True) as running:
        yield running


@pytest.fixture
def service(emulator: EmulatorProcess) -> Iterator[ServiceProcess]:
    with ServiceProcess(["--exchange-url", emulator.url], env=STREAMS_ON) as running:
        yield running


def rest_calls(emulator: EmulatorProcess, path: str = TICKER) -> int:
    return int(EmulatorControl(emulator.url).stats()["requests"].get(path, 0))


def price(client: httpx.Client, service: ServiceProcess) -> dict[str, Any]:
    answer = client.get(f"{service.url}/price", params={"symbol": "BTC/USDT"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["success"] is True
    return body


def until_streamed(client: httpx.Client, service: ServiceProcess, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if price(client, service)["meta"].get("stream"):
            return
        time.sleep(0.05)
    raise AssertionError("the price never came from the stream")


def tape(emulator: EmulatorProcess, start_ms: int, end_ms: int) -> list[tuple[int, float]]:
    """The emulator's trades of BTCUSDT between the two times: (time, price), oldest first."""
    out: list[tuple[int, float]] = []
    with httpx.Client(timeout=10) as client:
        since = start_ms
        while since <= end_ms:
            page = client.get(
                f"{emulator.url}/api/v3/aggTrades",
                params={"symbol": "BTCUSDT", "startTime": since, "endTime": end_ms, "limit": 1000},
            ).json()
            out += [(int(t["T"]), float(t["p"])) for t in page]
            if len(page) < 1000:
                break
            since = int(page[-1]["T"]) + 1
    return out


def last_at(trades: list[tuple[int, float]], ms: int) -> tuple[int, float] | None:
    found = None
    for trade in trades:
        if trade[0] > ms:
            break
        found = trade
    return found


def test_a_hot_price_is_the_tapes_last_trade_with_no_rest_calls(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    with httpx.Client(timeout=5) as client:
        until_streamed(client, service)
        calls = rest_calls(emulator)
        assert calls == 1  # the first read's, before the stream
        seen: list[tuple[int, int, dict[str, Any]]] = []
        started = time.time()
        while time.time() - started < READS_S:
            asked = int(time.time() * 1000)
            body = price(client, service)
            seen.append((asked, int(time.time() * 1000), body))
            time.sleep(0.02)
    assert rest_calls(emulator) == calls  # zero REST ticker calls after the first
    trades = tape(emulator, int(started * 1000) - 60_000, int(time.time() * 1000))
    moved = {p for t, p in trades if t >= started * 1000}
    assert len(moved) >= 2, "the price did not move while we read: nothing was tested"
    for asked, answered, body in seen:
        meta, data = body["meta"], body["data"]
        assert meta["stream"] is True
        assert meta["cache"] == "hit"
        message_ms = int(data["timestamp"])  # the stream message's exchange time
        # age_ms counts from that message: between when we asked and when we heard
        assert asked - message_ms - 5 <= meta["age_ms"] <= answered - message_ms + 5
        # the price is the tape's last trade at the message's instant ...
        last = last_at(trades, message_ms)
        assert last is not None
        assert data["last"] == last[1], (data, last)
        # ... and no trade older than LAG_MS before the answer is missing from it
        missed = [t for t in trades if message_ms < t[0] <= asked - LAG_MS]
        assert not missed, (message_ms, asked, missed[:3])


def test_a_dropped_stream_is_served_by_rest_in_its_fresh_window_and_comes_back(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    control = EmulatorControl(emulator.url)
    with httpx.Client(timeout=5) as client:
        until_streamed(client, service)
        calls = rest_calls(emulator)
        control.set_faults("drop", count=4, path="/ws")  # every connection it has
        dropped_at = time.time()
        rest_answer: dict[str, Any] | None = None
        while time.time() - dropped_at < 20:
            body = price(client, service)  # never an error
            if rest_answer is None and not body["meta"].get("stream"):
                rest_answer = body
                # within the ticker's fresh window (what the answer says, not the wall
                # clock: a slow machine may take longer to get here, never older data)
                assert body["meta"]["age_ms"] <= 2000
            if rest_answer is not None and body["meta"].get("stream"):
                break  # the stream is back
            time.sleep(0.02)
        assert rest_answer is not None, "no answer came from REST after the drop"
        assert body["meta"].get("stream"), "the stream never came back"
        assert rest_calls(emulator) > calls
        back = rest_calls(emulator)
        for _ in range(40):  # streamed again: no more REST calls
            assert price(client, service)["meta"].get("stream")
            time.sleep(0.05)
        assert rest_calls(emulator) == back
        streams = client.get(f"{service.url}/cache/stats").json()["data"]["streams"]
    ticker = streams["streams"]["ticker BTC/USDT"]
    assert ticker["state"] == "live"
    assert ticker["attempts"] >= 2
    assert ticker["last_error"] is not None  # why the first attempt ended


def test_hot_candles_are_streamed_across_a_candle_close_with_no_rest_calls(
    service: ServiceProcess, emulator: EmulatorProcess
) -> None:
    params = {"symbol": "ETH/USDT", "timeframe": "1m"}
    with httpx.Client(timeout=5) as client:

        def analysis() -> dict[str, Any]:
            answer = client.get(f"{service.url}/comprehensive_analysis", params=params)
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        deadline = time.monotonic() + 30
        while not analysis()["meta"].get("stream"):
            assert time.monotonic() < deadline, "the candles never came from the stream"
            time.sleep(0.05)
        klines = rest_calls(emulator, "/api/v3/klines")
        assert klines == 1  # the history, once
        first = analysis()["data"]["price"]["timestamp"]  # the last closed candle's close
        close_s = (int(time.time()) // 60 + 1) * 60  # the live candle's close
        while time.time() < close_s + 4:  # past the close: the next candle by the stream
            body = analysis()
            assert body["meta"]["stream"] is True
            assert body["meta"]["age_ms"] <= 2_500  # the kline stream's 2 s cadence, and a tick
            time.sleep(0.1)
        assert body["data"]["price"]["timestamp"] > first  # the candle that closed is in it
        assert rest_calls(emulator, "/api/v3/klines") == klines


def test_a_stream_that_stays_down_raises_an_alert_while_rest_serves_and_it_clears(
    emulator: EmulatorProcess,
) -> None:
    env = {**STREAMS_ON, "STREAMS_DOWN_ALERT_S": "2"}
    control = EmulatorControl(emulator.url)
    with (
        ServiceProcess(["--exchange-url", emulator.url], env=env) as service,
        httpx.Client(timeout=5) as client,
    ):
        until_streamed(client, service)
        metrics = client.get(f"{service.url}/metrics").text
        assert "marketcache_streams_open 2.0" not in metrics  # one series: the price
        assert "marketcache_streams_open 1.0" in metrics
        assert 'marketcache_stream_age_seconds{stream="ticker BTC/USDT"}' in metrics
        control.set_faults("drop", ratio=1.0, path="/ws")  # every connection, every time

        def alerts() -> set[str]:
            health = client.get(f"{service.url}/cache/health").json()
            return {alert["name"] for alert in health["alerts"]}

        deadline = time.monotonic() + 30
        while "stream_down:ticker BTC/USDT" not in alerts():
            assert time.monotonic() < deadline, "no alert for a stream down past its limit"
            price(client, service)  # clients meanwhile: never an error
            time.sleep(0.1)
        assert not price(client, service)["meta"].get("stream")  # REST while it is down
        stats = client.get(f"{service.url}/cache/stats").json()["data"]["streams"]
        assert stats["down"] == 1
        assert stats["streams"]["ticker BTC/USDT"]["state"] == "down"
        control.clear_faults()
        deadline = time.monotonic() + 60  # the back-off may have reached a few seconds
        while "stream_down:ticker BTC/USDT" in alerts():
            assert time.monotonic() < deadline, "the alert never cleared"
            price(client, service)
            time.sleep(0.1)
        assert price(client, service)["meta"].get("stream")


def test_a_market_no_one_reads_is_unsubscribed_after_its_quiet_period(
    emulator: EmulatorProcess,
) -> None:
    env = {**STREAMS_ON, "STREAMS_QUIET_S": "2"}
    control = EmulatorControl(emulator.url)
    with (
        ServiceProcess(["--exchange-url", emulator.url], env=env) as service,
        httpx.Client(timeout=5) as client,
    ):
        until_streamed(client, service)
        assert control.stats()["streams"]["subscriptions"].get("btcusdt@ticker") == 1
        deadline = time.monotonic() + 20  # no more reads
        while control.stats()["streams"]["subscriptions"]:
            assert time.monotonic() < deadline, "still subscribed with no reader"
            time.sleep(0.1)
        stats = client.get(f"{service.url}/cache/stats").json()["data"]["streams"]
        assert (stats["owned"], stats["closed"]) == (0, 1)
        calls = rest_calls(emulator)
        # the last streamed value is served while fresh (its age says how old), then REST;
        # a read every 0.5 s: the 5 reads that make it hot again take longer than that
        deadline = time.monotonic() + 5
        while (body := price(client, service))["meta"].get("stream"):
            assert body["meta"]["age_ms"] <= 2_000  # never past the ticker's fresh window
            assert time.monotonic() < deadline, "still served from a closed stream"
            time.sleep(0.5)
        assert rest_calls(emulator) == calls + 1
