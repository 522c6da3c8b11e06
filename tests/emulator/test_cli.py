"""`marketcache emulator` as a command: the banner, curl, clean stop."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess

import httpx
import pytest

from marketcache.emulator.process import EmulatorProcess

pytestmark = pytest.mark.e2e


def test_command_prints_its_url_and_serves_klines() -> None:
    with EmulatorProcess(clock_start="1704067800000") as emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.output[-1].strip() == f"emulator listening on {emulator.url}"
        url = f"{emulator.url}/api/v3/klines?symbol=BTCUSDT&interval=15m&limit=5"
        curl = shutil.which("curl")
        if curl:
            done = subprocess.run([curl, "-s", url], capture_output=True, timeout=30, check=True)
            body = json.loads(done.stdout)
        else:
            body = httpx.get(url, timeout=10).json()
        assert len(body) == 5
        assert all(len(row) == 12 for row in body)
        assert all(b[0] - a[0] == 15 * 60_000 for a, b in itertools.pairwise(body))
        info = httpx.get(f"{emulator.url}/_emulator/info", timeout=10).json()
        assert info["frozen"] is False
        assert info["now"] >= 1704067800000
    assert not emulator.running


def test_stop_is_idempotent_and_url_needs_a_running_process() -> None:
    emulator = EmulatorProcess(frozen=True)
    with pytest.raises(Exception, match="not running"):
        _ = emulator.url
    emulator.start()
    emulator.stop()
    emulator.stop()
    assert not emulator.running


async def _assert_frozen_and_weight_limited(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        info = (await client.get("/_emulator/info")).json()
        assert info["now"] == 1704067200000
        assert info["frozen"] is True
        # one klines request weighs 2, over a limit of 1 in whatever minute it lands
        params = {"symbol": "BTCUSDT", "interval": "1m", "limit": "1"}
        answer = await client.get("/api/v3/klines", params=params)
        assert answer.status_code == 429
        assert "Retry-After" in answer.headers


async def test_async_context_manager_and_options() -> None:
    emulator = EmulatorProcess(frozen=True, weight_limit=1, clock_start="2024-01-01T00:00:00")
    async with emulator as running:
        await _assert_frozen_and_weight_limited(running.url)
    assert not emulator.running


def test_bad_clock_start_fails_to_start() -> None:
    with pytest.raises(Exception, match="exited"):
        EmulatorProcess(clock_start="not-a-time", start_timeout=30).start()
