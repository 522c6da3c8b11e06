"""Bad settings stop `marketcache serve` before anything starts: one line on stderr
naming the setting and its value, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketcache.config import Settings, SettingsError, allowed, load_settings
from marketcache.netutil import free_port

SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def serve(
    cwd: Path, *args: str, env: dict[str, str] | None = None, port: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m marketcache serve` in `cwd`, with only `env` of our settings set.

    A free `--port` unless `port` is False, so that a server that starts after all
    binds nothing anyone uses (and the test fails on its timeout).
    """
    clean = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    command = [sys.executable, "-m", "marketcache", "serve", *args]
    if port:
        command += ["--port", str(free_port())]
    return subprocess.run(
        command, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=60
    )


def the_one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused start (exit 2, no traceback)."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("marketcache serve: ")
    return lines[0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CACHE_MAX_MEMORY_MB", "abc", "a number > 0"),
        ("CACHE_MAX_MEMORY_MB", "-5", "a number > 0"),
        ("PORT", "abc", "an integer >= 0 and <= 65535"),
        ("LOG_FORMAT", "xml", "one of text, json"),
        ("CACHE_EVICTION", "fifo", "one of lru, sieve, s3fifo"),
        ("OFFLINE", "maybe", "true or false"),
        ("LOG_LEVEL", "loud", "one of critical, error, warning, info, debug"),
    ],
)
def test_a_bad_environment_variable_is_one_line(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    done = serve(tmp_path, env={name: value}, port=name != "PORT")
    assert the_one_line(done) == f"marketcache serve: {name}={value!r}: must be {expected}"


def test_a_bad_option_value_names_the_option(tmp_path: Path) -> None:
    done = serve(tmp_path, "--port", "99999", port=False)
    line = the_one_line(done)
    assert line == "marketcache serve: --port 99999: must be an integer >= 0 and <= 65535"


def test_a_bad_value_in_dotenv_names_its_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# settings\nHOST=127.0.0.1\nCACHE_EVICTION=fifo\n")
    line = the_one_line(serve(tmp_path))
    assert line == (
        "marketcache serve: CACHE_EVICTION='fifo' (.env line 3): must be one of lru, sieve, s3fifo"
    )


@pytest.mark.parametrize("bad", ["this is not a setting", "PORT"])
def test_a_dotenv_line_that_is_not_key_value_is_one_line(tmp_path: Path, bad: str) -> None:
    (tmp_path / ".env").write_text(f"HOST=127.0.0.1\n{bad}\n")
    line = the_one_line(serve(tmp_path))
    assert line == f"marketcache serve: .env line 2 is not KEY=VALUE: {bad!r}"


def test_an_unknown_exchange_lists_the_close_ccxt_ids(tmp_path: Path) -> None:
    line = the_one_line(serve(tmp_path, env={"EXCHANGE": "notanexchange"}))
    assert "EXCHANGE='notanexchange' is not one of ccxt's" in line
    assert "close ones: coinbaseexchange" in line
    line = the_one_line(serve(tmp_path, "--exchange", "krakn"))
    assert "--exchange 'krakn' is not one of ccxt's" in line
    assert "close ones: kraken" in line


def test_offline_with_another_exchange_is_refused(tmp_path: Path) -> None:
    line = the_one_line(serve(tmp_path, "--offline", "--exchange", "kraken"))
    assert line == (
        "marketcache serve: --offline (OFFLINE=true) emulates binance only, not "
        "EXCHANGE='kraken': drop --offline to use kraken, or set EXCHANGE=binance"
    )
    line = the_one_line(serve(tmp_path, env={"OFFLINE": "true", "EXCHANGE": "kraken"}))
    assert "emulates binance only, not EXCHANGE='kraken'" in line


def test_every_bad_setting_gets_its_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CACHE_MAX_MEMORY_MB", "0")
    monkeypatch.setenv("TICKER_FRESH_S", "soon")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.lines == [
        "CACHE_MAX_MEMORY_MB='0': must be a number > 0",
        "TICKER_FRESH_S='soon': must be a number > 0",
    ]


def test_good_settings_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("# a comment\n\nexport CACHE_EVICTION=lru\nLOG_LEVEL=DEBUG\n")
    settings = load_settings({"port": 9000}, options={"port": "--port"})
    assert (settings.port, settings.cache_eviction, settings.log_level) == (9000, "lru", "debug")


def test_what_is_allowed_comes_from_the_declaration() -> None:
    assert allowed("cache_max_entry_share") == "a number > 0 and <= 1"
    assert allowed("refresh_ahead") == "true or false"
    assert allowed("redis_url") == ""
