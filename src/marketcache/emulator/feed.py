"""What each websocket connection is subscribed to, and the messages due to it at a tick.

Every connection reads the clock at the same ticks (`Tick`), so connections subscribed
to the same stream share one computed, serialized message per tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from marketcache.emulator import streams
from marketcache.emulator.intervals import align
from marketcache.emulator.market import Market
from marketcache.emulator.streams import Stream


class Tick:
    """One reading of the emulator's clock and the messages already made at it."""

    def __init__(self, now: int) -> None:
        self.now = now
        self._made: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._text: dict[tuple[Any, ...], list[str]] = {}

    def messages(
        self, key: tuple[Any, ...], make: Callable[[], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """The messages for `key` (made once per tick)."""
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = make()
        return found

    def texts(
        self, key: tuple[Any, ...], combined: bool, make: Callable[[], list[dict[str, Any]]]
    ) -> list[str]:
        """The serialized messages for `key` (made once per tick and format)."""
        wire = (*key, combined)
        found = self._text.get(wire)
        if found is not None:
            return found
        messages = self.messages(key, make)
        name = key[0]
        bodies = [{"stream": name, "data": m} if combined else m for m in messages]
        text = self._text[wire] = [orjson.dumps(b).decode() for b in bodies]
        return text


@dataclass
class _Sub:
    stream: Stream
    sent_at: int  # emulated time of the last message (trades: the last time covered)
    candle: int | None = None  # kline: the open time of the candle last sent
    fresh: bool = True  # state streams send their state as soon as they are subscribed
    shown: tuple[Any, ...] = ()  # bookTicker: the top of book last sent


@dataclass(eq=False)
class Feed:
    """The subscriptions of one connection and what was last sent on each."""

    market: Market
    combined: bool
    subs: dict[str, _Sub] = field(default_factory=dict)

    def subscribe(self, name: str, now: int) -> bool:
        """Add stream `name` (False if there is no such stream)."""
        stream = streams.parse(name, self.market)
        if stream is None:
            return False
        self.subs.setdefault(name, _Sub(stream, now))
        return True

    def due(self, tick: Tick) -> list[str]:
        """Every message due at the tick, serialized, in order."""
        out: list[str] = []
        for name, sub in list(self.subs.items()):
            out.extend(self._texts(name, sub, tick))
        return out

    def _texts(self, name: str, sub: _Sub, tick: Tick) -> list[str]:
        s, market, now = sub.stream, self.market, tick.now
        if now <= sub.sent_at and not sub.fresh:
            return []
        if s.kind in {"trade", "aggTrade"}:
            after, sub.sent_at, sub.fresh = sub.sent_at, now, False
            return tick.texts(
                (name, after), self.combined, lambda: streams.trade_messages(market, s, after, now)
            )
        if s.kind == "diff":
            sub.fresh = False
            if now // s.cadence_ms == sub.sent_at // s.cadence_ms:
                return []
            before, sub.sent_at = sub.sent_at, now
            return tick.texts(
                (name, before),
                self.combined,
                lambda: [streams.diff_depth_message(market, s, before, now)],
            )
        changed = s.cadence_ms == 0 or now // s.cadence_ms != sub.sent_at // s.cadence_ms
        if not (sub.fresh or changed):
            return []
        if s.kind == "bookTicker":  # sent when the best bid or ask changes
            (top,) = tick.messages((name,), lambda: [_state(market, s, now)])
            shown = (top["b"], top["B"], top["a"], top["A"])
            if shown == sub.shown:
                return []
            sub.shown = shown
        sub.fresh, sub.sent_at = False, now
        if s.kind == "kline":
            assert s.interval is not None
            live = align(s.interval, now)
            previous, sub.candle = sub.candle, live
            closed = previous if previous is not None and previous != live else None
            return tick.texts(
                (name, closed), self.combined, lambda: _klines(market, s, closed, live, now)
            )
        return tick.texts((name,), self.combined, lambda: [_state(market, s, now)])


def _klines(
    market: Market, s: Stream, closed: int | None, live: int, now: int
) -> list[dict[str, Any]]:
    """The final message of a candle that closed since the last one, then the live one."""
    out = [] if closed is None else [streams.kline_message(market, s, closed, now)]
    return [*out, streams.kline_message(market, s, live, now)]


def _state(market: Market, s: Stream, now: int) -> dict[str, Any]:
    if s.kind in {"ticker", "miniTicker"}:
        return streams.ticker_message(market, s, now)
    if s.kind == "bookTicker":
        return streams.book_ticker_message(market, s, now)
    return streams.partial_depth_message(market, s, now)
