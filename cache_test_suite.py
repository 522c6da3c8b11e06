#!/usr/bin/env python3
"""The deployment test suite (checklist step 5): `python cache_test_suite.py [--url URL]`.

The same as `marketcache check`; see `python cache_test_suite.py --help` for the options.
Exit status 0 only when the score is at least 80 %, the performance and reliability grades
are B or better and no test failed critically.

Any `python` runs it: when the one running it lacks the suite's packages (the system
Python, say), it re-executes itself with the project's `.venv` next to it, or says in one
line how to create that (`make install`) and exits 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
VENV_PYTHON = VENV / "bin" / "python"


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _runner_or_exit() -> ModuleType:
    """The suite's runner module; else exec the venv's Python, or exit 2 saying why."""
    try:
        from marketcache.check import runner
    except (ImportError, SyntaxError):  # not installed here: the source tree, if it will do
        sys.path.insert(0, str(HERE / "src"))
        try:
            from marketcache.check import runner
        except (ImportError, SyntaxError) as exc:
            if VENV_PYTHON.exists() and not _in_venv():
                script = str(Path(__file__).resolve())
                os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), script, *sys.argv[1:]])
            where = f"{VENV} is incomplete" if VENV_PYTHON.exists() else f"there is no {VENV}"
            print(
                f"cache_test_suite.py: {sys.executable} cannot run the suite ({exc}) and "
                f"{where}; create it with `make install` (in {HERE}), then run this again",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
    return runner


def main() -> int:
    """Parse the options and run the suite."""
    import argparse

    runner = _runner_or_exit()
    parser = argparse.ArgumentParser(
        prog="cache_test_suite.py", description="grade a running marketcache service"
    )
    runner.add_arguments(parser)
    code: int = runner.run(parser.parse_args())
    return code


if __name__ == "__main__":
    raise SystemExit(main())
