"""What the peers need from outside: nginx and wrk (Debian), a venv for fastapi-cache2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
ENSURE_SCRIPT = REPO / "scripts" / "ensure-nginx-wrk.sh"
# fastapi-cache2 as its README installs it, on the same server stack as ours; its coder
# imports starlette.templating, which today's Starlette refuses to import without jinja2
PEER_REQUIREMENTS = ("fastapi-cache2", "redis", "uvicorn[standard]", "orjson", "jinja2")
PEER_DISTRIBUTIONS = ("fastapi-cache2", "fastapi", "redis", "uvicorn", "httptools", "uvloop")


class ToolError(RuntimeError):
    """A tool the peers bench needs is missing and could not be installed."""


def nginx_binary() -> str | None:
    """nginx's path, if installed (Debian puts it in /usr/sbin)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def ensure_nginx_and_wrk() -> None:
    """Install Debian's nginx and wrk through the project script when either is missing."""
    if nginx_binary() is not None and shutil.which("wrk") is not None:
        return
    if not ENSURE_SCRIPT.exists():
        raise ToolError("nginx or wrk is missing: apt-get install nginx wrk")
    done = subprocess.run(["bash", str(ENSURE_SCRIPT)], check=False)
    if done.returncode != 0 or nginx_binary() is None or shutil.which("wrk") is None:
        raise ToolError(f"nginx or wrk is missing and {ENSURE_SCRIPT.name} could not install them")


def default_cache_dir() -> Path:
    """Where the bench keeps what it builds once (the fastapi-cache2 venv)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "marketcache" / "peers"


def peer_venv(cache_dir: Path) -> Path:
    """The fastapi-cache2 venv under `cache_dir`, created and pip-installed on first use."""
    venv = cache_dir / "fastapi-cache2-venv"
    stamp = venv / ".peers-installed"
    wanted = "\n".join(PEER_REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return venv
    print(f"creating the fastapi-cache2 venv in {venv} ...", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    done = subprocess.run([*pip, *PEER_REQUIREMENTS], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        message = f"pip could not install {' '.join(PEER_REQUIREMENTS)}:\n{done.stderr[-2000:]}"
        raise ToolError(message)
    stamp.write_text(wanted)
    return venv


def distribution_versions(python: Path, names: tuple[str, ...]) -> dict[str, str]:
    """The installed versions of `names` in the environment of `python`."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: out[n] = 'missing'\n"
        "print(json.dumps(out))"
    )
    done = subprocess.run(
        [str(python), "-c", code, *names], capture_output=True, text=True, check=True
    )
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def nginx_version() -> str:
    """nginx's version string."""
    binary = nginx_binary()
    if binary is None:
        return "missing"
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip().removeprefix("nginx version: ")
