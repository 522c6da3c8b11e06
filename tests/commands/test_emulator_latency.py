"""`serve --offline` gives its emulator Binance-like latency by default (the figures of
`marketcache bench`), settable by flag or environment; `ServiceProcess` zeroes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from marketcache.bench.runner import BenchSettings
from marketcache.commands.service_process import ServiceProcess
from marketcache.config import Settings


def test_the_default_is_the_benchmarks_binance_like_latency(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("EMULATOR_LATENCY_MS", raising=False)
    monkeypatch.delenv("EMULATOR_JITTER_MS", raising=False)
    settings = Settings()
    bench = BenchSettings()
    assert (settings.emulator_latency_ms, settings.emulator_jitter_ms) == (150.0, 50.0)
    assert (bench.latency_ms, bench.jitter_ms) == (150.0, 50.0)


def test_serve_help_shows_the_flags_and_their_defaults() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "marketcache", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = " ".join(done.stdout.split())
    assert "--emulator-latency-ms" in text
    assert "(EMULATOR_LATENCY_MS, default 150: Binance-like)" in text
    assert "--emulator-jitter-ms" in text
    assert "(EMULATOR_JITTER_MS, default 50)" in text


def test_service_process_zeroes_the_latency_unless_told() -> None:
    plain = ServiceProcess()
    told = ServiceProcess(env={"EMULATOR_LATENCY_MS": "25"})
    try:
        assert (plain.env["EMULATOR_LATENCY_MS"], plain.env["EMULATOR_JITTER_MS"]) == ("0", "0")
        assert (told.env["EMULATOR_LATENCY_MS"], told.env["EMULATOR_JITTER_MS"]) == ("25", "0")
    finally:
        plain.__exit__(None, None, None)
        told.__exit__(None, None, None)


def emulator_command(service: ServiceProcess) -> list[str]:
    children = psutil.Process(service.pid).children(recursive=True)
    emulators = [c.cmdline() for c in children if "emulator" in c.cmdline()]
    assert len(emulators) == 1, [c.cmdline() for c in children]
    return emulators[0]


def option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_the_flags_reach_the_emulator() -> None:
    args = ["--offline", "--emulator-latency-ms", "20", "--emulator-jitter-ms", "5"]
    with ServiceProcess(args, start_timeout_s=90) as service:
        command = emulator_command(service)
        log = service.log()
    assert (option(command, "--latency-ms"), option(command, "--jitter-ms")) == ("20.0", "5.0")
    assert "(latency 20 ± 5 ms)" in log


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_the_environment_reaches_the_emulator_and_zero_adds_nothing() -> None:
    env = {"EMULATOR_LATENCY_MS": "30", "EMULATOR_JITTER_MS": "0"}
    with ServiceProcess(["--offline"], env=env, start_timeout_s=90) as service:
        command = emulator_command(service)
    assert (option(command, "--latency-ms"), option(command, "--jitter-ms")) == ("30.0", None)
    with ServiceProcess(["--offline"], start_timeout_s=90) as instant:
        command = emulator_command(instant)
    assert (option(command, "--latency-ms"), option(command, "--jitter-ms")) == (None, None)
