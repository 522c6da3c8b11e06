"""`marketcache bench` options: defaults, --smoke, explicit values, the reproducing command."""

from __future__ import annotations

import argparse
import shlex

import pytest

from marketcache.bench.runner import SMOKE, BenchSettings, add_arguments, run, settings_from


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_no_options_give_the_defaults() -> None:
    assert settings_from(parse([])) == BenchSettings()


def test_smoke_shrinks_the_run() -> None:
    settings = settings_from(parse(["--smoke"]))
    assert (settings.users, settings.duration_s, settings.max_requests) == (
        SMOKE["users"],
        SMOKE["duration_s"],
        SMOKE["max_requests"],
    )
    assert settings.latency_ms == BenchSettings().latency_ms


def test_explicit_options_win_over_smoke() -> None:
    settings = settings_from(parse(["--smoke", "--users", "9", "--zipf-s", "0.8"]))
    assert settings.users == 9
    assert settings.zipf_s == 0.8
    assert settings.duration_s == SMOKE["duration_s"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--smoke"],
        ["--users", "3", "--duration", "7.5", "--layout", "parallel", "--seed", "42"],
        ["--latency-ms", "0", "--jitter-ms", "0", "--think-ms", "0", "--weight-limit", "1200"],
    ],
)
def test_the_recorded_command_reproduces_the_settings(argv: list[str]) -> None:
    settings = settings_from(parse(argv))
    words = shlex.split(settings.command())
    assert words[:2] == ["marketcache", "bench"]
    assert settings_from(parse(words[2:])) == settings


def test_the_default_run_is_short() -> None:
    settings = BenchSettings()
    assert settings.layout == "sequential"
    assert 2 * settings.duration_s <= 50  # both sides plus start-up within about a minute


@pytest.mark.parametrize(
    "argv", [["--users", "0"], ["--duration", "-1"], ["--zipf-s", "-1"], ["--timeout-s", "0"]]
)
def test_impossible_settings_are_refused_before_anything_starts(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parse(argv)) == 2
    assert "marketcache bench:" in capsys.readouterr().err
