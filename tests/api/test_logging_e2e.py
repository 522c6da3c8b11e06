"""The real server's log: no credential from EXCHANGE_URL, no forged line."""

from __future__ import annotations

import time

import httpx
import pytest

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.control import EmulatorControl
from marketcache.emulator.process import EmulatorProcess

pytestmark = pytest.mark.e2e


def _wait_for(service: ServiceProcess, text: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log = service.log()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never logged:\n{service.log()[-2000:]}")


def test_no_credential_and_no_forged_line_in_the_log() -> None:
    with EmulatorProcess() as emulator:
        host = emulator.url.removeprefix("http://")
        url = f"http://trader:hunter2@{host}"
        with ServiceProcess(["--exchange-url", url]) as service:
            EmulatorControl(emulator.url).set_faults("503", count=50)
            failed = httpx.post(f"{service.url}/price", json={"symbol": "ETH/USDT"}, timeout=30)
            assert failed.status_code == 503
            httpx.get(f"{service.url}/x%0d%0aGET%20/cache/clear%20200", timeout=10)
            log = _wait_for(service, "/x\\x0d\\x0aGET /cache/clear 200")
    assert "hunter2" not in log
    assert "trader" not in log
    assert "ticker" in log  # the upstream failure was logged (redacted)
    forged = [line for line in log.splitlines() if line.startswith("GET /cache/clear")]
    assert not forged
