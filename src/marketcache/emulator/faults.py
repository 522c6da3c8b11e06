"""Injected latency and failures, configured through `/_emulator/faults`."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

REST_FAULTS = ("429", "418", "500", "503", "hang", "malformed")
STREAM_FAULTS = ("drop", "stall", "delay")  # websockets: close, stop sending, hold messages
FAULT_KINDS = REST_FAULTS + STREAM_FAULTS
_RULE_KEYS = {"fault", "count", "ratio", "path", "retry_after"}
_LATENCY_KEYS = {"latency_ms", "jitter_ms"}


class FaultSpecError(ValueError):
    """A fault body that cannot be applied; the message says why."""


@dataclass
class FaultRule:
    """One failure rule: the next `count` requests, or a `ratio` of them, optionally per path."""

    fault: str
    count: int | None = None
    ratio: float | None = None
    path: str | None = None
    retry_after: int = 1  # seconds: Retry-After of "429"/"418"; how long "stall"/"delay" last

    def matches(self, path: str) -> bool:
        """Whether this rule applies to a request for `path`."""
        if self.path is None or self.path == path:
            return True
        return self.fault in STREAM_FAULTS and path.startswith(self.path)  # "/ws" and "/ws/0"


def _number(body: dict[str, Any], key: str) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultSpecError(f"{key!r} must be a non-negative number, got {value!r}")
    return float(value)


class Faults:
    """The active latency and fault rules; rules combine, the first matching one fires."""

    def __init__(self, latency_ms: float = 0.0, jitter_ms: float = 0.0, seed: int = 0) -> None:
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def configure(self, body: object) -> None:
        """Apply a POST body: latency settings and/or one fault rule (validated first)."""
        if not isinstance(body, dict) or not body:
            raise FaultSpecError("the body must be a non-empty JSON object")
        unknown = set(body) - _RULE_KEYS - _LATENCY_KEYS
        if unknown:
            raise FaultSpecError(f"unknown keys: {sorted(unknown)}")
        latency = {k: _number(body, k) for k in _LATENCY_KEYS if k in body}
        rule = self._rule(body) if set(body) & _RULE_KEYS else None
        if "latency_ms" in latency:
            self.latency_ms = latency["latency_ms"]
        if "jitter_ms" in latency:
            self.jitter_ms = latency["jitter_ms"]
        if rule is not None:
            self.rules.append(rule)

    @staticmethod
    def _rule(body: dict[str, Any]) -> FaultRule:
        fault = body.get("fault")
        if fault not in FAULT_KINDS:
            raise FaultSpecError(f"'fault' must be one of {list(FAULT_KINDS)}, got {fault!r}")
        count, ratio, path = body.get("count"), body.get("ratio"), body.get("path")
        if (count is None) == (ratio is None):
            raise FaultSpecError("give exactly one of 'count' (a positive integer) or 'ratio'")
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise FaultSpecError(f"'count' must be a positive integer, got {count!r}")
        if ratio is not None and (
            isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1
        ):
            raise FaultSpecError(f"'ratio' must be a number in (0, 1], got {ratio!r}")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise FaultSpecError(f"'path' must be a path starting with '/', got {path!r}")
        retry_after = body.get("retry_after", 1)
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise FaultSpecError(
                f"'retry_after' must be a non-negative integer, got {retry_after!r}"
            )
        return FaultRule(
            fault=fault,
            retry_after=retry_after,
            count=count,
            ratio=float(ratio) if ratio is not None else None,
            path=path,
        )

    def clear(self) -> None:
        """Remove latency and every rule."""
        self.latency_ms = 0.0
        self.jitter_ms = 0.0
        self.rules.clear()

    def delay_seconds(self) -> float:
        """How long to hold the next answer."""
        if self.latency_ms <= 0 and self.jitter_ms <= 0:
            return 0.0
        jitter = self._random.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0.0, self.latency_ms + jitter) / 1000.0

    def pick(self, path: str, kinds: tuple[str, ...] = REST_FAULTS) -> FaultRule | None:
        """The rule (of `kinds`) this request or stream tick suffers, if any (consumes
        counted rules)."""
        for rule in list(self.rules):
            if rule.fault not in kinds or not rule.matches(path):
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                return rule
            if rule.ratio is not None and self._random.random() < rule.ratio:
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        """The current settings, as JSON."""
        return {
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "faults": [asdict(rule) for rule in self.rules],
        }
