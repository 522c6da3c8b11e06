"""Options of `marketcache check` and cache_test_suite.py."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from marketcache.check import runner

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    config = runner.config_from_args(parse())
    assert config.url == "http://localhost:8001"
    assert config.symbols == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    assert config.bursts == (10, 50, 100)
    assert config.timeframe == "15m"
    assert config.admin_token is None
    assert config.progress


def test_quick_and_explicit_values() -> None:
    config = runner.config_from_args(
        parse(
            "--quick",
            "--samples",
            "7",
            "--symbols",
            "BTC/USDT",
            "--no-progress",
            "--cold-mode",
            "fresh-keys",
        )
    )
    assert config.samples == 7
    assert config.cold_samples == 3
    assert config.bursts == (10, 50)
    assert config.symbols == ("BTC/USDT",)
    assert not config.progress
    assert config.cold_mode == "fresh-keys"


def test_admin_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", "s3cret")
    assert runner.config_from_args(parse()).admin_token == "s3cret"


@pytest.mark.parametrize(
    "argv", [("--samples", "0"), ("--bursts", "10,0"), ("--symbols", ","), ("--timeout", "0")]
)
def test_bad_values_exit_2(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.run(parse(*argv)) == 2
    assert "marketcache check:" in capsys.readouterr().err


def test_script_at_the_root_offers_the_same_options() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "cache_test_suite.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    for option in ("--url", "--json", "--samples", "--bursts", "--admin-token", "--no-progress"):
        assert option in done.stdout
