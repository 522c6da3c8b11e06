"""Child processes that do not outlive their parent."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to SIGTERM the child when its parent dies (else None).

    The parent here is the thread that started the child: start such children
    from a thread that lives as long as they should (the main thread).
    """
    return _die_with_parent if sys.platform.startswith("linux") else None


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `with` blocks and `finally` clauses run on it."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def stop(process: subprocess.Popen[Any], timeout_s: float) -> None:
    """Terminate `process`, wait for it, and kill it if it has not gone after `timeout_s`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout_s)
