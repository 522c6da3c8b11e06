"""The rubric: score, grades, critical cap and verdict."""

from __future__ import annotations

import math

from marketcache.check import rubric
from marketcache.check.results import Category, LatencySummary, Status, TestResult, percentile


def result(
    status: Status,
    category: Category = Category.PERFORMANCE,
    *,
    critical: bool = False,
    weight: float = 1.0,
    name: str = "t",
) -> TestResult:
    return TestResult(name, category, status, "m", "t", critical=critical, weight=weight)


def test_na_is_left_out_and_error_counts_as_failure() -> None:
    results = [result(Status.PASS), result(Status.NA), result(Status.NA), result(Status.ERROR)]
    assert rubric.weighted_ratio(results) == 50.0


def test_weights_count() -> None:
    results = [result(Status.PASS, weight=2.0), result(Status.FAIL)]
    assert math.isclose(rubric.weighted_ratio(results) or 0, 200 / 3)


def test_nothing_applicable_has_no_ratio_and_no_grade() -> None:
    assert rubric.weighted_ratio([result(Status.NA)]) is None
    assert rubric.letter(None) == rubric.NO_GRADE


def test_grade_bands() -> None:
    assert [rubric.letter(x) for x in (100, 90, 89.9, 80, 70, 60, 59.9)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "D",
        "F",
    ]


def test_critical_failure_caps_its_category_at_d() -> None:
    results = [result(Status.PASS) for _ in range(19)]
    results.append(result(Status.FAIL, critical=True))
    assert rubric.letter(rubric.weighted_ratio(results)) == "A"
    assert rubric.category_grade(results, Category.PERFORMANCE) == "D"
    assert rubric.category_grade(results, Category.RELIABILITY) == rubric.NO_GRADE


def test_critical_flag_on_a_passed_test_is_no_failure() -> None:
    assert not result(Status.PASS, critical=True).is_critical_failure
    assert result(Status.ERROR, critical=True).is_critical_failure


def test_verdict_needs_score_both_grades_and_no_critical_failure() -> None:
    good = [result(Status.PASS, c) for c in Category]
    assert rubric.judge(good).passed
    assert rubric.judge(good).exit_code == 0
    no_reliability = [result(Status.PASS, c) for c in Category if c is not Category.RELIABILITY]
    assert rubric.judge(no_reliability).reliability_grade == rubric.NO_GRADE
    assert rubric.judge(no_reliability).exit_code == 1
    critical_elsewhere = [
        *good,
        *(result(Status.PASS) for _ in range(20)),
        result(Status.FAIL, Category.FUNCTIONAL, critical=True, name="x"),
    ]
    verdict = rubric.judge(critical_elsewhere)
    assert verdict.score is not None
    assert verdict.score > 90
    assert verdict.performance_grade == "A"
    assert verdict.reliability_grade == "A"
    assert [r.name for r in verdict.critical_failures] == ["x"]
    assert verdict.exit_code == 1
    perf_c = [
        *good,
        *(result(Status.FAIL) for _ in range(1)),
        *(result(Status.PASS, Category.FUNCTIONAL) for _ in range(20)),
    ]
    assert rubric.judge(perf_c).performance_grade == "F"
    assert rubric.judge(perf_c).exit_code == 1


def test_counts_by_status() -> None:
    verdict = rubric.judge([result(Status.PASS), result(Status.NA), result(Status.NA)])
    assert verdict.counts == {"pass": 1, "fail": 0, "n/a": 2, "error": 0}


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    summary = LatencySummary.of([3.0, 1.0, 2.0])
    assert (summary.count, summary.p50, summary.p99) == (3, 2.0, 3.0)
    assert summary.describe() == "p50/p95/p99 2.0/3.0/3.0 ms (n=3)"


def test_rubric_text_states_the_thresholds() -> None:
    for phrase in ("A ≥ 90 %", "B ≥ 80 %", "caps its grade at D", "n/a", "exits 0 only"):
        assert phrase in rubric.RUBRIC_TEXT
