"""The report: a table of every test, the score and grades by the rubric, and JSON."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from marketcache.check import rubric
from marketcache.check.context import RunConfig
from marketcache.check.results import Status, TestResult

STATUS_STYLE = {
    Status.PASS: "bold green",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.NA: "dim",
}
GRADE_STYLE = {"A": "bold green", "B": "green", "C": "yellow", "D": "red", "F": "bold red"}

RUBRIC_SUMMARY = (
    "Rubric: score = passed weight / applicable weight (n/a excluded, error = fail; market "
    "endpoint and /health shapes weigh 2). Grades per category: A ≥ 90 %, B ≥ 80 %, C ≥ 70 %, "
    "D ≥ 60 %, F below; a critical failure caps the category at D. Pass = score ≥ 80 %, "
    "performance and reliability grades A or B, no critical failure."
)


@dataclass
class Report:
    """Everything one run found."""

    config: RunConfig
    started_at: str
    duration_s: float
    mode: str
    cold_mode: str
    service: dict[str, Any]
    results: list[TestResult] = field(default_factory=list)

    @property
    def verdict(self) -> rubric.Verdict:
        """The rubric applied to the results."""
        return rubric.judge(self.results)

    def to_json(self) -> dict[str, Any]:
        """The full report as plain JSON values."""
        verdict = self.verdict
        config = asdict(self.config)
        if config.get("admin_token"):
            config["admin_token"] = "***"
        return {
            "url": self.config.url,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "mode": self.mode,
            "cold_mode": self.cold_mode,
            "service": self.service,
            "options": config,
            "score": None if verdict.score is None else round(verdict.score, 2),
            "performance_grade": verdict.performance_grade,
            "reliability_grade": verdict.reliability_grade,
            "critical_failures": [r.name for r in verdict.critical_failures],
            "counts": verdict.counts,
            "passed": verdict.passed,
            "exit_code": verdict.exit_code,
            "rubric": rubric.RUBRIC_TEXT.strip(),
            "tests": [_finite(r.to_json()) for r in self.results],
        }

    def write_json(self, path: Path) -> None:
        """Write the full report to a file."""
        path.write_bytes(orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2))


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (not JSON) with None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def results_table(results: list[TestResult]) -> Table:
    """One row per test: category, name, measured, target, status, details."""
    table = Table(title="marketcache deployment test suite", show_lines=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("category")
    table.add_column("test")
    table.add_column("measured")
    table.add_column("target")
    table.add_column("status", justify="center")
    table.add_column("details", style="dim", overflow="fold", max_width=60)
    for index, result in enumerate(results, 1):
        status = Text(result.status.value.upper(), style=STATUS_STYLE[result.status])
        if result.is_critical_failure:
            status.append(" CRITICAL", style="bold red reverse")
        table.add_row(
            str(index),
            result.category.value,
            result.name,
            result.measured,
            result.target,
            status,
            result.details,
        )
    return table


def render(report: Report, console: Console) -> None:
    """Print the table, the score, both grades, the critical failures and the rubric."""
    verdict = report.verdict
    service = report.service
    console.print(
        f"[bold]{report.config.url}[/]  service={service.get('service', '?')!s} "
        f"version={service.get('version', '?')!s}  mode={report.mode}  "
        f"cold samples: {report.cold_mode}  took {report.duration_s:.1f} s"
    )
    console.print(results_table(report.results))
    counts = ", ".join(f"{n} {k}" for k, n in verdict.counts.items())
    score = "-" if verdict.score is None else f"{verdict.score:.1f} %"
    line = Text("Overall score: ")
    line.append(
        score, style="bold green" if (verdict.score or 0) >= rubric.PASS_SCORE else "bold red"
    )
    line.append(f"   ({counts})   Performance grade: ")
    line.append(verdict.performance_grade, style=GRADE_STYLE.get(verdict.performance_grade, ""))
    line.append("   Reliability grade: ")
    line.append(verdict.reliability_grade, style=GRADE_STYLE.get(verdict.reliability_grade, ""))
    console.print(line)
    if verdict.critical_failures:
        console.print("[bold red]Critical failures:[/]")
        for failure in verdict.critical_failures:
            console.print(
                f"  • {failure.name}: {failure.measured} (target {failure.target})"
                + (f" — {failure.details}" if failure.details else "")
            )
    else:
        console.print("Critical failures: none")
    not_run = [r.name for r in report.results if r.status is Status.NA]
    if not_run:
        console.print(f"[dim]Not applicable (not counted): {', '.join(not_run)}[/]")
    console.print(f"[dim]{RUBRIC_SUMMARY}[/]")
    if verdict.passed:
        console.print("[bold green]PASS[/]: ready for cutover by this suite's rubric.")
    else:
        console.print("[bold red]FAIL[/]: not ready for cutover (see above).")
