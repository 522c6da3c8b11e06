"""The hub: one watcher per distinct subscribed answer, fanned out to its subscriptions.

Change detection costs per key, never per subscriber: each key has one task that
reads its answer through the service every `interval_s` (a cache hit while fresh,
and the read keeps the key hot) and, only when the answer's `data` bytes differ
from the last ones, frames the body once and drops it into every subscription's
outbox. Dropping never waits: a slow subscriber's outbox conflates or cuts it off
(`outbox.py`), the others are not slowed. A key's watcher ends with its last
subscription.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass, field

from marketcache.answer import Answer
from marketcache.clock import Clock
from marketcache.errors import MarketCacheError, TooManySubscriptions
from marketcache.subscriptions import events, frames
from marketcache.subscriptions.limits import Addresses, Limits
from marketcache.subscriptions.outbox import Outbox
from marketcache.subscriptions.stats import SubscriptionStats
from marketcache.subscriptions.topics import Reader, Topic
from marketcache.tasks import stop_tasks

log = logging.getLogger("marketcache.subscriptions")


@dataclass(eq=False, slots=True)
class Subscription:
    """One subscription of one connection: its id there, and where its frames go."""

    id: str
    topic: Topic
    outbox: Outbox
    prefix: bytes = b""

    def __post_init__(self) -> None:
        self.prefix = frames.answer_prefix(self.id)


@dataclass(eq=False, slots=True)
class _Feed:
    """One watched key: its subscriptions and what they were last sent."""

    topic: Topic
    subscriptions: set[Subscription] = field(default_factory=set)
    data: bytes | None = None
    flag: bool | None = None
    failing: str | None = None  # the error code last sent, until an answer comes again
    task: asyncio.Task[None] | None = None


class Hub:
    """Watchers by key, the subscriptions of each, the limits and the figures."""

    def __init__(self, read: Reader, clock: Clock, *, interval_s: float, limits: Limits) -> None:
        self.read = read
        self.clock = clock
        self.interval_s = interval_s
        self.limits = limits
        self.addresses = Addresses(limits.connections_per_client)
        self.counts = SubscriptionStats()
        self._feeds: dict[str, _Feed] = {}
        self._outboxes: set[Outbox] = set()  # of the open connections
        self._closed = False

    def stats(self) -> SubscriptionStats:
        """The figures now (a fresh object)."""
        figures = SubscriptionStats(**self.counts.to_dict())
        figures.connections = self.addresses.total
        figures.keys = len(self._feeds)
        figures.subscriptions = sum(len(f.subscriptions) for f in self._feeds.values())
        figures.conflated += sum(o.conflated for o in self._outboxes)
        return figures

    # -- connections -------------------------------------------------------------------

    def connect(self, host: str) -> Outbox:
        """An outbox for a new connection of `host`; TooManySubscriptions past the limit."""
        try:
            self.addresses.admit(host)
        except TooManySubscriptions:
            self.counts.refused += 1
            raise
        outbox = Outbox(self.limits.backlog)
        self._outboxes.add(outbox)
        return outbox

    def disconnect(self, host: str, outbox: Outbox) -> None:
        """The connection closed (its subscriptions were ended first)."""
        self.addresses.release(host)
        self._outboxes.discard(outbox)
        if outbox.cut.is_set():
            self.counts.slow_disconnects += 1
        self.counts.conflated += outbox.conflated

    # -- subscriptions -----------------------------------------------------------------

    async def subscribe(self, subscription: Subscription) -> Answer:
        """Add `subscription`; its current answer is queued to it at once and returned.

        The answer is read first, so a subscription that fails (an unknown symbol, the
        exchange down) creates nothing; its error propagates.
        """
        topic = subscription.topic
        if topic.key not in self._feeds and len(self._feeds) >= self.limits.keys:
            self.counts.refused += 1
            raise TooManySubscriptions(
                f"the service watches {self.limits.keys} distinct answers already; retry later"
            )
        answer = await self.read(topic)
        self.counts.reads += 1
        feed = self._feeds.get(topic.key)
        if feed is None:
            feed = self._feeds[topic.key] = _Feed(topic)
            # a context of its own: the watcher acts for no client (the subscriber's
            # cold-load budget is in the caller's context, and must not follow it)
            feed.task = asyncio.get_running_loop().create_task(
                self._watch(feed), context=contextvars.Context()
            )
        self._observe(feed, answer)  # the others get it too, if it is news to them
        feed.subscriptions.add(subscription)
        body = answer.body(self.clock.now())
        subscription.outbox.answer(subscription.id, frames.answer(subscription.prefix, body))
        self.counts.deliveries += 1
        return answer

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove `subscription`; its key's watcher stops with the last one."""
        subscription.outbox.forget(subscription.id)
        feed = self._feeds.get(subscription.topic.key)
        if feed is None:
            return
        feed.subscriptions.discard(subscription)
        if not feed.subscriptions:
            del self._feeds[subscription.topic.key]
            if feed.task is not None:
                feed.task.cancel()

    async def stop(self) -> None:
        """Stop every watcher (the service is shutting down)."""
        self._closed = True
        await stop_tasks(*(f.task for f in self._feeds.values()))
        self._feeds.clear()

    # -- watching ----------------------------------------------------------------------

    async def _watch(self, feed: _Feed) -> None:
        while not self._closed:
            await self.clock.sleep(self.interval_s)
            try:
                answer = await self.read(feed.topic)
            except MarketCacheError as exc:
                self.counts.reads += 1
                self.counts.read_errors += 1
                self._failed(feed, exc)
                continue
            except Exception:  # a bug must not end the watcher: log it, try again
                self.counts.read_errors += 1
                log.exception("subscription read of %s failed", feed.topic.key)
                continue
            self.counts.reads += 1
            self._observe(feed, answer)

    def _observe(self, feed: _Feed, answer: Answer) -> None:
        """Fan `answer` out if its data changed (and any event it makes first)."""
        if answer.data == feed.data and feed.failing is None:
            return
        first = feed.data is None
        feed.data = answer.data
        feed.failing = None
        name = feed.topic.endpoint.name
        flag = events.flag(name, answer.data)
        event = events.flipped(name, feed.flag, flag)
        feed.flag = flag
        if first:
            return  # the subscriber that brought the key gets it from `subscribe`
        self.counts.changes += 1
        body = answer.body(self.clock.now())
        for subscription in feed.subscriptions:
            outbox = subscription.outbox
            if event is not None:
                outbox.put(frames.event(subscription.id, event, name, answer.data))
                self.counts.events += 1
            if outbox.answer(subscription.id, frames.answer(subscription.prefix, body)):
                self.counts.deliveries += 1

    def _failed(self, feed: _Feed, exc: MarketCacheError) -> None:
        """Tell the subscriptions once per error episode; the next answer ends it."""
        if feed.failing == exc.code:
            return
        feed.failing = exc.code
        for subscription in feed.subscriptions:
            subscription.outbox.put(frames.error(subscription.id, exc))
