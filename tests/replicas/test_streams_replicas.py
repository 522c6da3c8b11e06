"""Three replicas on one Redis with STREAMS=true: one upstream stream per market, whose
values reach every replica through the fan-out; killing the owner moves the stream."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess

from .conftest import StartReplicas

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

STREAMS_ON = {
    "STREAMS": "true",
    "STREAMS_READS_PER_MIN": "5",
    "STREAMS_RETRY_S": "0.2",
    "REDIS_LEASE_TTL_S": "2",
}
STREAM_NAMES = ("btcusdt@ticker", "btcusdt@trade")


def subscriptions(emulator: EmulatorProcess) -> dict[str, int]:
    subs = EmulatorControl(emulator.url).stats()["streams"]["subscriptions"]
    return {name: int(subs.get(name, 0)) for name in STREAM_NAMES}


def owned(replica: ServiceProcess) -> int:
    streams = httpx.get(f"{replica.url}/cache/stats", timeout=5).json()["data"]["streams"]
    return int(streams["owned"])


def read_all(client: httpx.Client, replicas: list[ServiceProcess]) -> list[dict[str, Any]]:
    bodies = []
    for replica in replicas:
        answer = client.get(f"{replica.url}/price", params={"symbol": "BTC/USDT"})
        assert answer.status_code == 200, answer.text
        bodies.append(answer.json())
    return bodies


def test_three_replicas_open_one_stream_per_market_and_a_dead_owner_hands_it_over(
    start_replicas: StartReplicas, emulator: EmulatorProcess
) -> None:
    replicas = start_replicas(3, STREAMS_ON)
    most: dict[str, int] = dict.fromkeys(STREAM_NAMES, 0)
    with httpx.Client(timeout=5) as client:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:  # every replica's answers streamed
            bodies = read_all(client, replicas)
            subs = subscriptions(emulator)
            most = {k: max(most[k], v) for k, v in subs.items()}
            if all(b["meta"].get("stream") for b in bodies) and all(subs.values()):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"not every replica's price was streamed: {bodies}")
        for _ in range(40):  # steady: still one stream of each, owned by one replica
            read_all(client, replicas)
            subs = subscriptions(emulator)
            most = {k: max(most[k], v) for k, v in subs.items()}
            time.sleep(0.05)
        assert most == dict.fromkeys(STREAM_NAMES, 1), most
        owners = [r for r in replicas if owned(r)]
        assert len(owners) == 1
        owner = owners[0]
        os.kill(owner.pid, signal.SIGKILL)
        survivors = [r for r in replicas if r is not owner]
        most = dict.fromkeys(STREAM_NAMES, 0)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            read_all(client, survivors)  # clients never see an error meanwhile
            subs = subscriptions(emulator)
            most = {k: max(most[k], v) for k, v in subs.items()}
            if all(subs.values()) and any(owned(r) for r in survivors):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("no surviving replica took the stream over")
        for _ in range(40):
            bodies = read_all(client, survivors)
            subs = subscriptions(emulator)
            most = {k: max(most[k], v) for k, v in subs.items()}
            time.sleep(0.05)
        assert most == dict.fromkeys(STREAM_NAMES, 1), most
        assert sum(owned(r) for r in survivors) == 1
        assert all(b["meta"].get("stream") for b in bodies)
