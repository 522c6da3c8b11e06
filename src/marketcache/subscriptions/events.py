"""Events for bots: a named moment in an answer's changes (a volume spike starting, ending).

Each subscribable endpoint may declare a flag of its answer's data; when a changed
answer flips it, every subscription of the answer gets the event before the answer.
"""

from __future__ import annotations

from typing import Any

import orjson

# endpoint → (flag in its data, event when it turns true, event when it turns false)
FLAGS: dict[str, tuple[str, str, str]] = {
    "volume_spike": ("is_spike", "volume_spike_started", "volume_spike_ended"),
}
NAMES: tuple[str, ...] = tuple(name for _, *names in FLAGS.values() for name in names)


def flag(endpoint: str, data: bytes) -> bool | None:
    """The endpoint's flag in an answer's `data` JSON; None if it declares none."""
    declared = FLAGS.get(endpoint)
    if declared is None:
        return None
    parsed: Any = orjson.loads(data)
    return bool(parsed.get(declared[0])) if isinstance(parsed, dict) else None


def flipped(endpoint: str, before: bool | None, now: bool | None) -> str | None:
    """The event when the flag went from `before` to `now` (nothing on the first answer)."""
    if before is None or now is None or before == now:
        return None
    _, started, ended = FLAGS[endpoint]
    return started if now else ended
