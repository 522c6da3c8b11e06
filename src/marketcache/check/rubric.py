"""The rubric: how the suite's test results become a score, two grades and a verdict.

Every test ends `pass`, `fail`, `error` (the suite could not complete it: timeout,
refused connection, unreadable answer) or `n/a` (it cannot apply to this deployment, for
instance a cache test against an uncached service). `n/a` tests are left out of every
figure below and listed as such; they never count as passed. `error` counts as `fail`.

- **Score** = 100 × (weight of passed tests) / (weight of applicable tests), where the
  applicable tests are those that passed, failed or errored. Each test weighs 1, except the
  shape checks of `/health` and of the four market endpoints, which weigh 2.
- **Performance grade** and **reliability grade**: the same weighted pass ratio taken over
  the tests of that category only — A ≥ 90 %, B ≥ 80 %, C ≥ 70 %, D ≥ 60 %, F below. A
  critical failure inside the category caps its grade at D. A category with no applicable
  test gets no grade (`-`), which is not "B or better".
- **Critical failures** block a cutover whatever the score: a market endpoint or `/health`
  answering with the wrong shape or not at all; any 5xx (to a valid or an invalid request);
  the service not healthy after the run; an error rate above 5 % under a burst (the
  checklist's rollback trigger); cached requests with p95 above twice the 200 ms target;
  resident memory above 500 MB (the rollback trigger); a cached service whose repeated
  request is not a hit.
- **Verdict**: the suite exits 0 only when the score is at least 80 %, both grades are A or
  B and there is no critical failure; otherwise it exits 1 (2 for bad options).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from marketcache import targets
from marketcache.check.results import Category, Status, TestResult

PASS_SCORE = 80.0
GRADE_BANDS: tuple[tuple[str, float], ...] = (("A", 90.0), ("B", 80.0), ("C", 70.0), ("D", 60.0))
CRITICAL_CAP = "D"
GOOD_GRADES = frozenset({"A", "B"})
NO_GRADE = "-"

# Targets shared by the tests and printed with the report.
WARM_P95_TARGET_MS = targets.WARM_P95_TARGET_MS
WARM_P95_CRITICAL_MS = 2 * WARM_P95_TARGET_MS
COLD_P95_TARGET_MS = 1500.0
IMPROVEMENT_TARGET_PCT = 80.0
ERROR_RATE_TARGET_PCT = 1.0
ERROR_RATE_CRITICAL_PCT = 5.0
HIT_RATE_TARGET_PCT = 80.0
HEALTH_HIT_RATE_TARGET_PCT = 50.0
RSS_TARGET_MB = 400.0
RSS_CRITICAL_MB = 500.0
RSS_GROWTH_TARGET_MB = 50.0


def weighted_ratio(results: Iterable[TestResult]) -> float | None:
    """Percent of the applicable weight that passed; None when nothing applies."""
    applicable = [r for r in results if r.applicable]
    total = sum(r.weight for r in applicable)
    if total <= 0:
        return None
    passed = sum(r.weight for r in applicable if r.status is Status.PASS)
    return 100.0 * passed / total


def letter(ratio: float | None) -> str:
    """The letter of a pass ratio by the grade bands."""
    if ratio is None:
        return NO_GRADE
    for grade, floor in GRADE_BANDS:
        if ratio >= floor:
            return grade
    return "F"


def category_grade(results: Sequence[TestResult], category: Category) -> str:
    """The grade of one category, capped at D by a critical failure inside it."""
    mine = [r for r in results if r.category is category]
    grade = letter(weighted_ratio(mine))
    if grade in ("A", "B", "C") and any(r.is_critical_failure for r in mine):
        return CRITICAL_CAP
    return grade


@dataclass(frozen=True)
class Verdict:
    """The score, both grades, the critical failures and whether the deployment passes."""

    score: float | None
    performance_grade: str
    reliability_grade: str
    critical_failures: tuple[TestResult, ...]
    counts: dict[str, int]

    @property
    def passed(self) -> bool:
        """Score ≥ 80 %, both grades A or B, and no critical failure."""
        return (
            self.score is not None
            and self.score >= PASS_SCORE
            and self.performance_grade in GOOD_GRADES
            and self.reliability_grade in GOOD_GRADES
            and not self.critical_failures
        )

    @property
    def exit_code(self) -> int:
        """0 when the deployment passes, 1 otherwise."""
        return 0 if self.passed else 1


def judge(results: Sequence[TestResult]) -> Verdict:
    """Apply the rubric to a run's results."""
    counts = {status.value: 0 for status in Status}
    for result in results:
        counts[result.status.value] += 1
    return Verdict(
        score=weighted_ratio(results),
        performance_grade=category_grade(results, Category.PERFORMANCE),
        reliability_grade=category_grade(results, Category.RELIABILITY),
        critical_failures=tuple(r for r in results if r.is_critical_failure),
        counts=counts,
    )


RUBRIC_TEXT = __doc__ or ""
