"""The streams' figures, declared once: `/cache/stats` and `/metrics` derive from these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "gauge"]


@dataclass(frozen=True, slots=True)
class StreamFigure:
    """One figure of the streams: its name, kind and meaning."""

    name: str
    kind: Kind
    help: str


FIGURES: tuple[StreamFigure, ...] = (
    StreamFigure("open", "gauge", "upstream streams live now (owned here)"),
    StreamFigure("owned", "gauge", "upstream streams this replica owns (live or reconnecting)"),
    StreamFigure("down", "gauge", "owned streams down now (their keys refresh by REST)"),
    StreamFigure("hot", "gauge", "series read often enough to be streamed"),
    StreamFigure("messages", "counter", "stream messages received"),
    StreamFigure("messages_per_s", "gauge", "stream messages per second (last 10 s)"),
    StreamFigure("age_max_s", "gauge", "the oldest live stream's last message, seconds ago"),
    StreamFigure("opened", "counter", "streams opened"),
    StreamFigure("closed", "counter", "streams closed (quiet, lease lost or shutdown)"),
    StreamFigure("leases_lost", "counter", "streams handed over to another replica"),
    StreamFigure("backfills", "counter", "REST history loads for streamed candles"),
)
