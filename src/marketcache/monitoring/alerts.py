"""Alert rules (the checklist's thresholds) and the book of alerts that are firing.

Thresholds (deployment checklist, "Alert Thresholds"): warning when the hit
rate is under 70 % or memory over 80 %; critical when the hit rate is under
50 %, memory over 90 % or the error rate over 5 %. The hit rate is the
clients' (market requests answered from the cache, see requests.py) over the
monitor's recent window, judged once the window holds `min_market_requests`
of them (a cold cache is not critical); memory is the process's resident
memory against its limit (the container's cgroup limit, else MEMORY_LIMIT_MB,
see memory.py) — the cache filling its own bound is not an alert; the error
rate once the window holds `min_requests` requests. Stale answers served while
the exchange is failing (at least half its calls since the previous check
failed, see `ExchangeWatch`) raise their own alert, so stale-if-error grace
never hides an outage.
An alert starts when its condition first holds and clears when it no longer does.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from marketcache.answer import iso
from marketcache.clock import Clock

log = logging.getLogger(__name__)

Severity = Literal["warning", "critical"]

HIT_RATE_WARNING = 0.70
HIT_RATE_CRITICAL = 0.50
MEMORY_WARNING = 0.80
MEMORY_CRITICAL = 0.90
ERROR_RATE_CRITICAL = 0.05
MIN_MARKET_REQUESTS = 20
MIN_REQUESTS = 20
STALE_UPSTREAM_ERROR_SHARE = 0.5  # the exchange is "failing" when half its calls fail
RESOLVED_KEPT = 50


@dataclass(frozen=True, slots=True)
class AlertRules:
    """The thresholds of every rule (fractions 0..1) and the evidence each needs."""

    hit_rate_warning: float = HIT_RATE_WARNING
    hit_rate_critical: float = HIT_RATE_CRITICAL
    memory_warning: float = MEMORY_WARNING
    memory_critical: float = MEMORY_CRITICAL
    error_rate_critical: float = ERROR_RATE_CRITICAL
    min_market_requests: int = MIN_MARKET_REQUESTS
    min_requests: int = MIN_REQUESTS
    stale_upstream_error_share: float = STALE_UPSTREAM_ERROR_SHARE


@dataclass(frozen=True, slots=True)
class Observation:
    """What the rules look at: the recent window's rates and counts, and gauges now."""

    market_requests: int  # client market requests over the window
    hit_rate: float | None  # 0..1, of those answered from the cache
    memory_fraction: float  # the process's RSS / its memory limit, now
    requests: int
    error_rate: float | None  # 0..1, over the window
    stale_answers: int
    upstream_calls: int
    upstream_errors: int
    exchange_failing: bool = False  # see ExchangeWatch
    backend_down: bool = False  # an L2 is configured and unreachable
    task_errors: Mapping[str, tuple[int, str | None]] | None = None  # task -> (errors, last error)
    streams_down: Mapping[str, float] | None = None  # upstream stream -> seconds down
    rss_mb: float = 0.0  # for the memory alert's message
    memory_limit_mb: float = 0.0
    memory_limit_source: str = "setting"  # cgroup | setting


@dataclass(frozen=True, slots=True)
class Condition:
    """A rule that holds now: its severity, the observed value and the threshold crossed."""

    name: str
    severity: Severity
    value: float
    threshold: float
    message: str
    unit: str = "percent"


def _pct(fraction: float) -> float:
    return round(fraction * 100, 2)


def evaluate(obs: Observation, rules: AlertRules = AlertRules()) -> list[Condition]:
    """The conditions that hold for `obs`."""
    found: list[Condition] = []
    hit_levels: tuple[tuple[Severity, float], ...] = (
        ("critical", rules.hit_rate_critical),
        ("warning", rules.hit_rate_warning),
    )
    memory_levels: tuple[tuple[Severity, float], ...] = (
        ("critical", rules.memory_critical),
        ("warning", rules.memory_warning),
    )
    if obs.hit_rate is not None and obs.market_requests >= rules.min_market_requests:
        for severity, threshold in hit_levels:
            if obs.hit_rate < threshold:
                found.append(
                    Condition(
                        "hit_rate_low",
                        severity,
                        _pct(obs.hit_rate),
                        _pct(threshold),
                        f"client hit rate {_pct(obs.hit_rate)}% is under {_pct(threshold)}% "
                        f"over the last {obs.market_requests} market requests",
                    )
                )
                break
    for severity, threshold in memory_levels:
        if obs.memory_fraction > threshold:
            found.append(
                Condition(
                    "memory_high",
                    severity,
                    _pct(obs.memory_fraction),
                    _pct(threshold),
                    f"process memory (RSS {obs.rss_mb:.1f} MB) at {_pct(obs.memory_fraction)}% "
                    f"of its {obs.memory_limit_mb:.0f} MB limit ({obs.memory_limit_source}; "
                    f"over {_pct(threshold)}%)",
                )
            )
            break
    if (
        obs.error_rate is not None
        and obs.requests >= rules.min_requests
        and obs.error_rate > rules.error_rate_critical
    ):
        found.append(
            Condition(
                "error_rate_high",
                "critical",
                _pct(obs.error_rate),
                _pct(rules.error_rate_critical),
                f"{_pct(obs.error_rate)}% of the last {obs.requests} requests failed "
                f"(5xx or 429; over {_pct(rules.error_rate_critical)}%)",
            )
        )
    if obs.stale_answers > 0 and obs.exchange_failing:
        failing_share = obs.upstream_errors / obs.upstream_calls if obs.upstream_calls else 1.0
        found.append(
            Condition(
                "serving_stale_exchange_failing",
                "warning",
                _pct(failing_share),
                _pct(rules.stale_upstream_error_share),
                f"{obs.stale_answers} stale answers served while the exchange fails "
                f"({obs.upstream_errors} of {obs.upstream_calls} calls failed recently): "
                "clients get old data",
            )
        )
    if obs.backend_down:
        found.append(
            Condition(
                "l2_unavailable",
                "warning",
                1.0,
                0.0,
                "the shared L2 (Redis) is unreachable: serving from L1 alone",
                unit="boolean",
            )
        )
    for stream, seconds in sorted((obs.streams_down or {}).items()):
        found.append(
            Condition(
                f"stream_down:{stream}",
                "warning",
                round(seconds, 1),
                0.0,
                f"upstream stream {stream!r} down for {seconds:.0f} s: its key refreshes by "
                "REST (exchange weight) while it reconnects",
                unit="seconds",
            )
        )
    for task, (errors, last_error) in sorted((obs.task_errors or {}).items()):
        if errors > 0:
            found.append(
                Condition(
                    f"task_failing:{task}",
                    "warning",
                    float(errors),
                    0.0,
                    f"background task {task!r} failed {errors} time(s) recently: {last_error}",
                    unit="count",
                )
            )
    return found


class ExchangeWatch:
    """Whether the exchange is failing now: most of its calls since the previous check failed.

    Checks with no new call keep the previous answer, so a quiet period does not
    hide a failure, and one successful call is enough to say it recovered.
    """

    def __init__(self, share: float = STALE_UPSTREAM_ERROR_SHARE) -> None:
        self.share = share
        self.failing = False
        self._calls: int | None = None
        self._errors = 0

    def check(self, calls: int, errors: int) -> bool:
        """Update from the exchange's call and error totals; whether it is failing."""
        if self._calls is not None and calls > self._calls:
            new_errors = errors - self._errors
            self.failing = new_errors >= self.share * (calls - self._calls)
        self._calls, self._errors = calls, errors
        return self.failing


@dataclass(slots=True)
class Alert:
    """A firing alert: since when, and the latest value seen."""

    name: str
    severity: Severity
    since: float
    value: float
    threshold: float
    message: str
    unit: str
    resolved_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The alert as the API shows it."""
        out: dict[str, Any] = {
            "name": self.name,
            "severity": self.severity,
            "since": iso(self.since),
            "value": self.value,
            "threshold": self.threshold,
            "unit": self.unit,
            "message": self.message,
        }
        if self.resolved_at is not None:
            out["resolved_at"] = iso(self.resolved_at)
        return out


class AlertBook:
    """The alerts firing now, updated from the conditions that hold; transitions are logged."""

    def __init__(self, clock: Clock, resolved_kept: int = RESOLVED_KEPT) -> None:
        self.clock = clock
        self.active: dict[str, Alert] = {}
        self.resolved: deque[Alert] = deque(maxlen=resolved_kept)

    def update(self, conditions: Iterable[Condition]) -> list[Alert]:
        """Start, update or clear alerts so that exactly `conditions` fire; return them."""
        now = self.clock.now()
        seen: set[str] = set()
        for condition in conditions:
            seen.add(condition.name)
            alert = self.active.get(condition.name)
            if alert is None:
                alert = Alert(
                    condition.name,
                    condition.severity,
                    now,
                    condition.value,
                    condition.threshold,
                    condition.message,
                    condition.unit,
                )
                self.active[condition.name] = alert
                log.warning(
                    "alert firing: %s (%s) %s",
                    alert.name,
                    alert.severity,
                    alert.message,
                    extra={"alert": alert.name, "severity": alert.severity, "value": alert.value},
                )
                continue
            if condition.severity != alert.severity:
                log.warning(
                    "alert %s now %s: %s",
                    alert.name,
                    condition.severity,
                    condition.message,
                    extra={"alert": alert.name, "severity": condition.severity},
                )
            alert.severity = condition.severity
            alert.value = condition.value
            alert.threshold = condition.threshold
            alert.message = condition.message
        for name in [name for name in self.active if name not in seen]:
            alert = self.active.pop(name)
            alert.resolved_at = now
            self.resolved.append(alert)
            log.info(
                "alert resolved: %s after %.0f s",
                name,
                now - alert.since,
                extra={"alert": name, "severity": alert.severity},
            )
        return self.alerts()

    def alerts(self) -> list[Alert]:
        """The active alerts, critical first, then by start."""
        order = {"critical": 0, "warning": 1}
        return sorted(self.active.values(), key=lambda a: (order[a.severity], a.since, a.name))
