"""`marketcache warm` with nothing at its URL: one line saying what to do, exit 2."""

from __future__ import annotations

import subprocess
import sys

from marketcache.netutil import free_port


def test_warm_with_no_service_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "marketcache", "warm", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"no service at {url} — start it with `make run` (or `marketcache serve`) or pass --url"
    ]
