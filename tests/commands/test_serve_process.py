"""`marketcache serve --offline` owns its emulator: it never outlives the server."""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from marketcache.commands.service_process import ServiceProcess

pytestmark = pytest.mark.e2e


def emulator_child(service: ServiceProcess) -> psutil.Process:
    children = psutil.Process(service.pid).children(recursive=True)
    emulators = [c for c in children if "emulator" in " ".join(c.cmdline())]
    assert len(emulators) == 1, [c.cmdline() for c in children]
    return emulators[0]


def test_terminate_stops_the_emulator() -> None:
    service = ServiceProcess(["--offline"]).start()
    emulator = emulator_child(service)
    service.stop()
    emulator.wait(timeout=10)
    assert not emulator.is_running()
    assert "Application shutdown complete" in service.log()


def test_a_killed_server_leaves_no_emulator() -> None:
    service = ServiceProcess(["--offline"]).start()
    emulator = emulator_child(service)
    os.kill(service.pid, signal.SIGKILL)
    emulator.wait(timeout=10)
    assert not emulator.is_running()
    service.stop()
