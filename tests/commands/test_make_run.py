"""`make run PORT=...` on a machine where the exchange cannot be reached: it says so and
serves the built-in emulator on that port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from marketcache.netutil import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
@pytest.mark.timeout(240)
def test_make_run_falls_back_to_the_emulator_on_the_port_given() -> None:
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"  # the exchange: nothing listens there
    env = {**os.environ, "EXCHANGE_URL": closed, "EMULATOR_LATENCY_MS": "0"}
    with tempfile.TemporaryFile() as log:
        # its own session: make and the server it starts are stopped together
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            health = wait_for_health(f"http://127.0.0.1:{port}", make)
            answer = httpx.post(
                f"http://127.0.0.1:{port}/price", json={"symbol": "BTC/USDT"}, timeout=10
            )
        finally:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(30)
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert health["exchange"]["source"] == "emulator", output
    assert answer.json()["meta"]["source"] == "emulator"
    assert "binance cannot be reached at start-up" in output
    assert f"--fallback-offline --port {port}" in output  # the command make ran


def wait_for_health(url: str, make: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 120  # make may first have to install what is missing
    while time.monotonic() < deadline:
        assert make.poll() is None, "make run exited"
        try:
            reply = httpx.get(f"{url}/health", timeout=2)
            document: dict[str, object] = reply.json()
            return document
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")
