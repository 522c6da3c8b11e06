#!/usr/bin/env python3
"""The deployment test suite (checklist step 5): `python cache_test_suite.py [--url URL]`.

The same as `marketcache check`; see `python cache_test_suite.py --help` for the options.
Exit status 0 only when the score is at least 80 %, the performance and reliability grades
are B or better and no test failed critically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from marketcache.check import runner
except ImportError:  # not installed in the active environment: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
    from marketcache.check import runner


def main() -> int:
    """Parse the options and run the suite."""
    parser = argparse.ArgumentParser(
        prog="cache_test_suite.py", description="grade a running marketcache service"
    )
    runner.add_arguments(parser)
    return runner.run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
