"""`marketcache check`: run the deployment test suite against a service and grade it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TimeElapsedColumn

from marketcache.check import (
    tests_cache,
    tests_functional,
    tests_performance,
    tests_reliability,
)
from marketcache.check.client import NO_SERVICE, Ledger, ServiceClient, no_service_message
from marketcache.check.context import MARKET_ENDPOINTS, Check, RunConfig, RunContext
from marketcache.check.html import write_html
from marketcache.check.report import Report, render
from marketcache.check.results import Category, Status, TestResult


class NoService(Exception):
    """Nothing listens at the URL to grade: there is no run to report."""

    def __init__(self, url: str) -> None:
        super().__init__(no_service_message(url))


class Listener:
    """Hears how a run goes (the progress bar, or plain lines); by default hears nothing."""

    def planned(self, count: int) -> None:
        """The run will perform `count` tests."""

    def starting(self, check: Check) -> None:
        """A test is about to run."""

    def finished(self, check: Check, result: TestResult) -> None:
        """A test has ended."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `marketcache check` (and of cache_test_suite.py)."""
    defaults = RunConfig()
    parser.add_argument(
        "--url", default=defaults.url, help="the service to grade (default %(default)s)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the full report here")
    parser.add_argument(
        "--symbols",
        default=",".join(defaults.symbols),
        help="comma-separated symbols (default %(default)s)",
    )
    parser.add_argument("--timeframe", default=defaults.timeframe)
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help=f"warm samples per endpoint (default {defaults.samples})",
    )
    parser.add_argument(
        "--cold-samples",
        type=int,
        default=None,
        help=f"cold samples per endpoint (default {defaults.cold_samples})",
    )
    parser.add_argument(
        "--bursts", default=None, help="concurrent clients per burst (default 10,50,100)"
    )
    parser.add_argument(
        "--burst-requests",
        type=int,
        default=None,
        help=f"requests per client in a burst (default {defaults.burst_requests})",
    )
    parser.add_argument(
        "--timeout", type=float, default=defaults.timeout_s, help="per-request timeout in seconds"
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("ADMIN_TOKEN"),
        help="Bearer token for admin endpoints (default $ADMIN_TOKEN)",
    )
    parser.add_argument(
        "--cold-mode",
        choices=("auto", "clear", "fresh-keys"),
        default=defaults.cold_mode,
        help="auto: clear the cache before cold samples when the service "
        "allows it, else use keys this run has not asked; fresh-keys never clears",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer samples and shorter bursts (10 warm, 3 cold, 10,50 × 2)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar; one plain line per test (for CI logs)",
    )


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Turn parsed options into a RunConfig; ValueError on a bad value."""
    quick = bool(args.quick)
    symbols = tuple(s.strip() for s in args.symbols.split(",") if s.strip())
    bursts_text = args.bursts or ("10,50" if quick else "10,50,100")
    bursts = tuple(int(b) for b in bursts_text.split(",") if b.strip())
    samples = args.samples if args.samples is not None else (10 if quick else 30)
    cold = args.cold_samples if args.cold_samples is not None else (3 if quick else 5)
    per_client = args.burst_requests if args.burst_requests is not None else (2 if quick else 5)
    if not symbols:
        raise ValueError("--symbols is empty")
    if samples < 1 or cold < 1 or per_client < 1 or any(b < 1 for b in bursts):
        raise ValueError("samples, cold samples, bursts and burst requests must be ≥ 1")
    if args.timeout <= 0:
        raise ValueError("--timeout must be positive")
    return RunConfig(
        url=args.url,
        symbols=symbols,
        timeframe=args.timeframe,
        samples=samples,
        cold_samples=cold,
        bursts=bursts,
        burst_requests=per_client,
        timeout_s=args.timeout,
        admin_token=args.admin_token or None,
        cold_mode=args.cold_mode,
        progress=not args.no_progress,
    )


async def _discover(ctx: RunContext) -> TestResult | None:
    """Read /health, tell cached from uncached, probe clearing; a result if unreachable.

    Raises `NoService` when nothing listens at the URL at all.
    """
    reply = await ctx.client.get("/health")
    if reply.failure == NO_SERVICE:
        raise NoService(ctx.config.url)
    if not reply.answered:
        return TestResult(
            "service reachable",
            Category.FUNCTIONAL,
            Status.ERROR,
            reply.failure or "no answer",
            "GET /health answers",
            critical=True,
            details=f"{ctx.config.url}: {reply.describe()}",
            weight=2.0,
        )
    ctx.health = reply.body if isinstance(reply.body, dict) else {}
    probe = await ctx.market(MARKET_ENDPOINTS[0], ctx.primary_symbol)
    reasons = []
    if ctx.health.get("cache_enabled") is False:
        reasons.append("cache_enabled false")
    if ctx.health.get("service") == "market-data":
        reasons.append('service "market-data"')
    if probe.meta_cache == "bypass":
        reasons.append('meta.cache "bypass"')
    ctx.cached = not reasons
    ctx.uncached_reason = ", ".join(reasons)
    if ctx.cached and ctx.config.cold_mode != "fresh-keys":
        ctx.clear_allowed = await tests_cache.clear_cache(ctx)
    ctx.rss_start_mb = await tests_reliability.rss_mb(ctx)
    return None


async def execute(config: RunConfig, listener: Listener | None = None) -> Report:
    """Run every test against `config.url` and return the report; `NoService` if none."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    clock = time.perf_counter()
    ledger = Ledger()
    client = ServiceClient(
        config.url, ledger=ledger, timeout_s=config.timeout_s, admin_token=config.admin_token
    )
    ctx = RunContext(config=config, client=client, ledger=ledger)
    listener = listener or Listener()
    results: list[TestResult] = []
    async with client:
        unreachable = await _discover(ctx)
        if unreachable is not None:
            results.append(unreachable)
        else:
            checks = [
                *tests_functional.plan(ctx),
                *tests_cache.plan(ctx),
                *tests_performance.plan(ctx),
                *tests_reliability.plan(ctx),
            ]
            listener.planned(len(checks))
            for check in checks:
                listener.starting(check)
                result = await _guarded(check)
                results.append(result)
                listener.finished(check, result)
    return Report(
        config=config,
        started_at=started_at,
        duration_s=time.perf_counter() - clock,
        mode="cached" if ctx.cached else "uncached",
        cold_mode="cache cleared" if ctx.clear_allowed else "unused keys",
        service=ctx.health,
        results=results,
    )


async def _guarded(check: Check) -> TestResult:
    """Run one check; an exception inside it becomes an `error` result."""
    try:
        return await check.run()
    except Exception as exc:  # a test must never take the run down with it
        return TestResult(
            check.name,
            check.category,
            Status.ERROR,
            type(exc).__name__,
            "-",
            critical=check.critical_on_error,
            details=str(exc)[:200],
        )


class _ProgressBar(Listener):
    """A rich progress bar: one step per test, the running test named."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("connecting", total=None)

    def planned(self, count: int) -> None:
        self.progress.update(self.task, total=count, description="starting")

    def starting(self, check: Check) -> None:
        self.progress.update(self.task, description=f"{check.category.value}: {check.name}")

    def finished(self, check: Check, result: TestResult) -> None:
        self.progress.advance(self.task)


class _PlainLines(Listener):
    """One plain line per finished test, for CI logs."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def finished(self, check: Check, result: TestResult) -> None:
        self.console.print(
            f"[{result.status.value:>5}] {check.category.value}: {check.name}: {result.measured}",
            markup=False,
            highlight=False,
        )


def _run_with_progress(config: RunConfig, console: Console) -> Report:
    columns = (
        SpinnerColumn(),
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        return asyncio.run(execute(config, _ProgressBar(progress)))


def _run_plain(config: RunConfig, console: Console) -> Report:
    return asyncio.run(execute(config, _PlainLines(console)))


def run(args: argparse.Namespace) -> int:
    """Run the suite, print the report, write JSON and HTML if asked; 0 only on a pass."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"marketcache check: {exc}", file=sys.stderr)
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200)
    try:
        report = (_run_with_progress if config.progress else _run_plain)(config, console)
    except NoService as exc:
        print(exc, file=sys.stderr)
        return 2
    render(report, console)
    if args.json:
        report.write_json(args.json)
        console.print(f"JSON report written to {args.json}")
        page = write_html(args.json.with_suffix(".html"), report.to_json())
        console.print(f"HTML report written to {page}")
    return report.verdict.exit_code
