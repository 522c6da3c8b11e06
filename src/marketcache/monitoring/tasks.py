"""Background tasks seen from outside: their state, and their errors over the recent window."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from marketcache.answer import iso
from marketcache.cache.stats import TaskState
from marketcache.clock import Clock

TaskStates = Callable[[], Mapping[str, TaskState]]


def describe(state: TaskState) -> dict[str, Any]:
    """A task's state as the API shows it."""
    return {
        "running": state.running,
        "runs": state.runs,
        "errors": state.errors,
        "last_run": iso(state.last_run) if state.last_run is not None else None,
        "last_error": state.last_error,
    }


class TaskWatch:
    """Keeps each task's error count at every sample, to tell errors of the last window."""

    def __init__(
        self, states: TaskStates, clock: Clock, window_s: float, period_s: float = 60.0
    ) -> None:
        self.states = states
        self.clock = clock
        self.window_s = window_s
        self._marks: deque[tuple[float, dict[str, int]]] = deque(
            maxlen=math.ceil(window_s / period_s) + 2
        )

    def mark(self) -> None:
        """Note every task's error count now (called at each sample)."""
        errors = {name: state.errors for name, state in self.states().items()}
        self._marks.append((self.clock.now(), errors))

    def recent_errors(self) -> dict[str, tuple[int, str | None]]:
        """Per task: errors within the window (since start when younger) and the last error."""
        cutoff = self.clock.now() - self.window_s
        baseline: dict[str, int] = {}
        for at, errors in self._marks:
            if at <= cutoff:
                baseline = errors
        return {
            name: (state.errors - baseline.get(name, 0), state.last_error)
            for name, state in self.states().items()
        }

    def report(self) -> dict[str, dict[str, Any]]:
        """Every task's state, by name."""
        return {name: describe(state) for name, state in sorted(self.states().items())}
