"""One test's outcome, and the small statistics the tests report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How a test ended: `na` means the suite could not run it against this deployment."""

    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"
    ERROR = "error"


class Category(StrEnum):
    """The four groups of tests; each weighs into the score, two have their own grade."""

    FUNCTIONAL = "functional"
    CACHE = "cache"
    PERFORMANCE = "performance"
    RELIABILITY = "reliability"


@dataclass(frozen=True)
class TestResult:
    """What one test measured against its target, and whether its failure blocks cutover."""

    __test__ = False  # not a pytest test class

    name: str
    category: Category
    status: Status
    measured: str
    target: str
    critical: bool = False
    details: str = ""
    weight: float = 1.0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def applicable(self) -> bool:
        """Whether the test counts in the score (`n/a` does not)."""
        return self.status is not Status.NA

    @property
    def is_critical_failure(self) -> bool:
        """A failed or errored test whose failure the rubric calls critical."""
        return self.critical and self.status in (Status.FAIL, Status.ERROR)

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON values."""
        out = asdict(self)
        out["category"] = self.category.value
        out["status"] = self.status.value
        return out


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class LatencySummary:
    """p50, p95 and p99 (milliseconds) of a set of samples."""

    count: int
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> LatencySummary:
        """Summarize samples given in milliseconds."""
        return cls(
            count=len(samples_ms),
            p50=percentile(samples_ms, 50),
            p95=percentile(samples_ms, 95),
            p99=percentile(samples_ms, 99),
        )

    def describe(self) -> str:
        """`p50/p95/p99 = a/b/c ms (n=N)`."""
        return f"p50/p95/p99 {self.p50:.1f}/{self.p95:.1f}/{self.p99:.1f} ms (n={self.count})"
