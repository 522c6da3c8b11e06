"""`python3 cache_test_suite.py` as the checklist runs it: with the system Python (which
lacks the suite's packages) it re-executes itself with the project's .venv; without a
.venv, or without a service at the URL, it says so in one line and exits 2."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from marketcache.check import runner
from marketcache.commands import warm
from marketcache.commands.service_process import ServiceProcess
from marketcache.config import SERVICE_URL
from marketcache.netutil import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "cache_test_suite.py"
VENV = (ROOT / ".venv").resolve()


def outside_the_venv() -> dict[str, str]:
    """The environment with the venv's bin off PATH (as in a plain shell)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    path = os.environ.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in path if not Path(p).resolve().is_relative_to(VENV))
    return env


def system_python() -> str:
    """`python3` as a shell outside the venv finds it; skip when there is none."""
    found = shutil.which("python3", path=outside_the_venv()["PATH"])
    if found is None:
        pytest.skip("no python3 outside the project's .venv on this machine")
    prefix = subprocess.run(
        [found, "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
        env=outside_the_venv(),
    ).stdout.strip()
    assert Path(prefix).resolve() != VENV, f"{found} is the venv's Python"
    return found


def run_script(python: str, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=outside_the_venv(),
        check=False,
    )


@pytest.mark.e2e
@pytest.mark.timeout(400)
def test_the_system_python_runs_the_suite_against_a_service() -> None:
    python = system_python()
    with ServiceProcess(("--offline",)) as service:
        done = run_script(python, SCRIPT, "--url", service.url, "--quick", "--no-progress")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "Traceback" not in done.stderr
    assert "Overall score:" in done.stdout


def test_no_service_at_the_url_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run_script(system_python(), SCRIPT, "--url", url)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"no service at {url} — start it with `make run` (or `marketcache serve`) or pass --url"
    ]


def test_without_a_venv_it_says_how_to_create_one(tmp_path: Path) -> None:
    alone = tmp_path / "cache_test_suite.py"  # no .venv, no source tree beside it
    shutil.copy(SCRIPT, alone)
    done = run_script(system_python(), alone, "--help")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"there is no {tmp_path / '.venv'}; create it with `make install`" in lines[0]
    assert "Traceback" not in done.stderr


def defaults(add_arguments: Callable[[argparse.ArgumentParser], None]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args([])


def test_every_client_command_has_the_same_default_url() -> None:
    assert SERVICE_URL == "http://localhost:8001"
    assert defaults(runner.add_arguments).url == SERVICE_URL
    assert defaults(warm.add_arguments).url == SERVICE_URL
    for command in (["check"], ["warm"]):
        done = subprocess.run(
            [sys.executable, "-m", "marketcache", *command, "--help"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"(default {SERVICE_URL})" in " ".join(done.stdout.split())
    suite_help = run_script(system_python(), SCRIPT, "--help").stdout
    assert f"(default {SERVICE_URL})" in " ".join(suite_help.split())
