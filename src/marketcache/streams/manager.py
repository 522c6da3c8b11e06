"""The stream manager: which series are streamed, by whom, and how they are doing.

Reads reach `read` (the service calls it for every market read, hits of the fast
path included). Every `tick_s` the manager looks: a hot series not streamed yet
gets its stream if this replica takes the series' lease (`Writes.claim`; without
Redis it always does), at most `max_streams`; a streamed series that went quiet
is unsubscribed and its lease given back; a lease that cannot be renewed (Redis
gave it to another replica) stops our stream; a stream that sent nothing for
`stall_s` is cut (REST at once, then it reconnects). A replica that does not own
a stream receives its values through the fan-out; when the owner dies its lease
lapses after `lease_ttl_s` and the next replica with readers takes the stream.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from marketcache.cache.writes import Writes
from marketcache.clock import Clock
from marketcache.config import Settings
from marketcache.freshness import MarketFreshness
from marketcache.sources.base import Source
from marketcache.streams.demand import Demand
from marketcache.streams.feeds import Target
from marketcache.streams.rate import Rate
from marketcache.streams.stats import FIGURES
from marketcache.streams.worker import Backoff, Worker
from marketcache.tasks import stop_requested, stop_tasks

if TYPE_CHECKING:
    from marketcache.sources.streaming import CcxtStreams

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """When series are streamed and how their streams are looked after."""

    reads_per_min: int = 30
    quiet_s: float = 120.0
    max_streams: int = 50
    stall_s: float = 5.0
    down_alert_s: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    lease_ttl_s: float = 5.0
    tick_s: float = 0.25

    @classmethod
    def from_settings(cls, settings: Settings) -> StreamOptions:
        """The `STREAMS_*` settings (and the lease ttl of `REDIS_LEASE_TTL_S`)."""
        return cls(
            reads_per_min=settings.streams_reads_per_min,
            quiet_s=settings.streams_quiet_s,
            max_streams=settings.streams_max,
            stall_s=settings.streams_stall_s,
            down_alert_s=settings.streams_down_alert_s,
            backoff=Backoff(
                settings.streams_retry_s,
                max(settings.streams_retry_s, settings.streams_retry_max_s),
            ),
            lease_ttl_s=settings.redis_lease_ttl_s,
        )


@dataclass(slots=True)
class _Owned:
    worker: Worker
    token: str
    renewed_at: float


class StreamManager:
    """Opens, keeps and closes the upstream streams of hot series."""

    def __init__(
        self,
        client: CcxtStreams,
        writes: Writes,
        source: Source,
        freshness: MarketFreshness,
        clock: Clock,
        options: StreamOptions | None = None,
    ) -> None:
        self.options = o = options or StreamOptions()
        self._client = client
        self._writes = writes
        self._source = source
        self._freshness = freshness
        self._clock = clock
        self.demand = Demand(o.reads_per_min, o.quiet_s)
        self.rate = Rate()
        self.owned: dict[str, _Owned] = {}
        self._next_claim: dict[str, float] = {}
        self.opened = 0
        self.closed = 0
        self.lost = 0  # leases another replica took over
        self._task: asyncio.Task[None] | None = None

    # ---- the hot path ------------------------------------------------------------------

    def read(self, key: str) -> None:
        """A client read a raw series (`ticker:...`, `ohlcv:...`)."""
        self.demand.read(key, self._clock.now())

    def streamed(self, key: str) -> bool:
        """Whether this replica streams `key` now."""
        owned = self.owned.get(key)
        return owned is not None and owned.worker.state == "live"

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start looking after demand."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop every stream, give the leases back, close the connections."""
        task, self._task = self._task, None
        await stop_tasks(task)
        for key in list(self.owned):
            await self._drop(key)
        await self._client.close()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a bug of ours must not end the streams' upkeep
                log.exception("stream upkeep failed")
            if stop_requested():  # a dependency lost the cancel
                return
            await self._clock.sleep(self.options.tick_s)

    async def tick(self) -> None:
        """One look: open for hot series, close quiet ones, renew leases, cut stalls."""
        o = self.options
        now = self._clock.now()
        for key, owned in list(self.owned.items()):
            if self.demand.is_quiet(key, now):
                log.info("stream %s: no reads for %.0f s, unsubscribed", key, o.quiet_s)
                await self._drop(key)
                continue
            if now - owned.renewed_at >= o.lease_ttl_s / 3:
                if not await self._writes.renew(key, owned.token, o.lease_ttl_s):
                    log.warning("stream %s: lease lost to another replica", key)
                    self.lost += 1
                    await self._drop(key, release=False)
                    continue
                owned.renewed_at = now
            if owned.worker.stalled(now, o.stall_s):
                owned.worker.cut(f"stalled: no message for {o.stall_s:g} s")
        for key in self.demand.hot(now):
            if len(self.owned) >= o.max_streams:
                break
            if key in self.owned or now < self._next_claim.get(key, 0.0):
                continue
            target = Target.of(key)
            if target is None:
                continue
            token = await self._writes.claim(key, o.lease_ttl_s)
            if token is None:  # another replica streams it: look again within a ttl
                self._next_claim[key] = now + o.lease_ttl_s / 3
                continue
            self._next_claim.pop(key, None)
            self._open(target, token, now)
        self.demand.forget_quiet(now)

    def _open(self, target: Target, token: str, now: float) -> None:
        worker = Worker(
            target,
            self._client,
            self._writes,
            self._source,
            self._freshness,
            self._clock,
            backoff=self.options.backoff,
            rate=self.rate,
        )
        self.owned[target.key] = _Owned(worker, token, now)
        self.opened += 1
        log.info(
            "stream %s opened (hot: %d reads a minute)", target.name, self.options.reads_per_min
        )
        worker.start()

    async def _drop(self, key: str, *, release: bool = True) -> None:
        owned = self.owned.pop(key)
        await owned.worker.stop()
        self.closed += 1
        if release:
            await self._writes.release(key, owned.token)

    # ---- what is shown -----------------------------------------------------------------

    def down(self) -> dict[str, float]:
        """Streams down for at least `down_alert_s`: name → seconds down."""
        now = self._clock.now()
        limit = self.options.down_alert_s
        return {
            o.worker.target.name: o.worker.down_for(now)
            for o in self.owned.values()
            if o.worker.down_for(now) >= limit
        }

    def figures(self) -> dict[str, float]:
        """The declared figures (`stats.FIGURES`) now."""
        now = self._clock.now()
        workers = [o.worker for o in self.owned.values()]
        ages = [a for w in workers if w.state == "live" and (a := w.age(now)) is not None]
        return {
            "open": float(sum(w.state == "live" for w in workers)),
            "owned": float(len(workers)),
            "down": float(sum(w.state == "down" for w in workers)),
            "hot": float(len(self.demand.hot(now))),
            "messages": float(self.rate.total),
            "messages_per_s": self.rate.per_s(now),
            "age_max_s": max(ages, default=0.0),
            "opened": float(self.opened),
            "closed": float(self.closed),
            "leases_lost": float(self.lost),
            "backfills": float(sum(w.backfills for w in workers)),
        }

    def metrics(self) -> list[tuple[str, str, str, float]]:
        """`(name, kind, help, value)` of every declared figure, for Prometheus."""
        values = self.figures()
        return [(f.name, f.kind, f.help, values[f.name]) for f in FIGURES]

    def ages(self) -> dict[str, float]:
        """Each live stream's last message, seconds ago (by its exchange time)."""
        now = self._clock.now()
        return {
            o.worker.target.name: age
            for o in self.owned.values()
            if (age := o.worker.age(now)) is not None and o.worker.state == "live"
        }

    def state(self) -> dict[str, Any]:
        """`/cache/stats`'s `streams`: the figures and each stream owned here."""
        now = self._clock.now()
        return {
            "enabled": True,
            **self.figures(),
            "streams": {
                o.worker.target.name: {
                    "key": key,
                    "state": o.worker.state,
                    "age_ms": None if (age := o.worker.age(now)) is None else round(age * 1000),
                    "messages": o.worker.messages,
                    "attempts": o.worker.attempts,
                    "down_s": round(o.worker.down_for(now), 3),
                    "last_error": o.worker.last_error,
                }
                for key, o in sorted(self.owned.items())
            },
        }
