"""The command line: `marketcache serve | emulator | check | bench | warm`.

Each command lives in its own module, which provides `add_arguments(parser)` and
`run(args) -> int`; only the module of the command asked for is imported.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from marketcache import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("marketcache.commands.serve", "serve the market-data API"),
    "emulator": ("marketcache.emulator.server", "run the Binance-compatible exchange emulator"),
    "check": ("marketcache.check.runner", "grade a running service (the deployment test suite)"),
    "bench": (
        "marketcache.bench.runner",
        "benchmark the cached service against the uncached one (--peers: against nginx, "
        "fastapi-cache2 and a raw ASGI ceiling)",
    ),
    "warm": ("marketcache.commands.warm", "ask a running service to warm its cache"),
}


def _usage() -> str:
    lines = ["usage: marketcache COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`marketcache COMMAND --help` describes the options of a command;"]
    lines += ["`marketcache --version` prints the version."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `marketcache` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(_usage(), file=sys.stderr)
        return 2
    if args[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    if args[0] == "--version":
        print(f"marketcache {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"marketcache: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"marketcache {name}", description=help_)
    module.add_arguments(parser)
    code: int = module.run(parser.parse_args(rest))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
