"""The hub, on a manual clock: one read per key per interval, fan-out of changes only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from marketcache.cache.requester import acting_for, current_requester
from marketcache.clock import ManualClock, settle
from marketcache.errors import ExchangeUnavailable, TooManySubscriptions
from marketcache.subscriptions.hub import Hub, Subscription
from marketcache.subscriptions.limits import Limits
from marketcache.subscriptions.outbox import Outbox
from tests.subscriptions.fakes import Answers, spike_topic, topic

INTERVAL = 0.5


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def answers(clock: ManualClock) -> Answers:
    return Answers(clock)


@pytest.fixture
async def hub(clock: ManualClock, answers: Answers) -> AsyncIterator[Hub]:
    made = Hub(answers.read, clock, interval_s=INTERVAL, limits=Limits(keys=3, backlog=4))
    yield made
    await made.stop()


async def subscribe(hub: Hub, subscription: Subscription) -> None:
    """Subscribe, and let a new key's watcher start waiting on the clock."""
    await hub.subscribe(subscription)
    await settle()


def frames_of(box: Outbox) -> list[dict[str, object]]:
    """What `take` would give now, parsed (without waiting)."""
    held = [*box._others, *box._answers.values()]
    box._others.clear()
    box._answers.clear()
    box._superseded = 0
    return [orjson.loads(f) for f in held]


async def test_the_current_answer_at_once_then_only_changes(
    hub: Hub, answers: Answers, clock: ManualClock
) -> None:
    price = topic()
    answers.set(price, {"last": 1})
    box = hub.connect("1.2.3.4")
    await subscribe(hub, Subscription("p", price, box))
    [first] = frames_of(box)
    assert first["type"] == "answer"
    assert first["id"] == "p"
    assert first["success"] is True
    assert first["data"] == {"last": 1}
    assert set(first["meta"]) == {"cache", "age_ms", "source", "exchange", "fetched_at"}  # type: ignore[arg-type]

    await clock.advance(INTERVAL * 3)  # three reads of the same data: nothing sent
    assert frames_of(box) == []
    answers.set(price, {"last": 2})
    await clock.advance(INTERVAL)
    assert [f["data"] for f in frames_of(box)] == [{"last": 2}]


async def test_one_read_per_key_per_interval_however_many_subscribe(
    hub: Hub, answers: Answers, clock: ManualClock
) -> None:
    price = topic()
    answers.set(price, {"last": 1})
    boxes = [hub.connect(f"10.0.0.{n}") for n in range(50)]
    for n, box in enumerate(boxes):
        await subscribe(hub, Subscription(str(n), price, box))
    assert answers.reads[price.key] == 50  # each subscriber's first answer
    await clock.advance(INTERVAL * 10)
    assert answers.reads[price.key] == 60  # then one read per interval, for all of them
    answers.set(price, {"last": 2})
    await clock.advance(INTERVAL)
    assert all([f["data"] for f in frames_of(b)][-1] == {"last": 2} for b in boxes)
    stats = hub.stats()
    assert (stats.keys, stats.subscriptions, stats.connections) == (1, 50, 50)
    assert stats.changes == 1


async def test_a_new_subscriber_brings_news_to_the_others(
    hub: Hub, answers: Answers, clock: ManualClock
) -> None:
    price = topic()
    answers.set(price, {"last": 1})
    old = hub.connect("a")
    await subscribe(hub, Subscription("p", price, old))
    frames_of(old)
    answers.set(price, {"last": 2})
    new = hub.connect("b")
    await subscribe(hub, Subscription("p", price, new))
    assert [f["data"] for f in frames_of(new)] == [{"last": 2}]
    assert [f["data"] for f in frames_of(old)] == [{"last": 2}]
    await clock.advance(INTERVAL)
    assert frames_of(old) == frames_of(new) == []  # not sent twice


async def test_a_slow_subscriber_gets_the_latest_and_is_cut_past_its_backlog(
    hub: Hub, answers: Answers, clock: ManualClock
) -> None:
    price = topic()
    answers.set(price, {"last": 0})
    slow, quick = hub.connect("slow"), hub.connect("quick")
    await subscribe(hub, Subscription("p", price, slow))
    await subscribe(hub, Subscription("p", price, quick))
    frames_of(quick)
    for n in range(1, 5):  # slow takes nothing: four answers superseded, at its bound
        answers.set(price, {"last": n})
        await clock.advance(INTERVAL)
        assert [f["data"] for f in frames_of(quick)] == [{"last": n}]
    assert [f["data"] for f in frames_of(slow)] == [{"last": 4}]  # conflated: the latest only
    for n in range(5, 11):
        answers.set(price, {"last": n})
        await clock.advance(INTERVAL)
        assert [f["data"] for f in frames_of(quick)] == [{"last": n}]
    assert slow.cut.is_set()
    assert not quick.cut.is_set()
    hub.unsubscribe(Subscription("p", price, slow))  # what the connection's close does
    hub.disconnect("slow", slow)
    assert hub.stats().slow_disconnects == 1
    assert hub.stats().conflated >= 4


async def test_the_watcher_stops_with_the_last_subscription(
    hub: Hub, answers: Answers, clock: ManualClock
) -> None:
    price = topic()
    answers.set(price, {"last": 1})
    box = hub.connect("a")
    made = Subscription("p", price, box)
    await hub.subscribe(made)
    hub.unsubscribe(made)
    await settle()
    reads = answers.reads[price.key]
    await clock.advance(INTERVAL * 10)
    assert answers.reads[price.key] == reads
    assert hub.stats().keys == 0


async def test_errors_once_per_episode_then_answers_again(
    hub: Hub, answers: Answers, clock: ManualClock
) -> None:
    price = topic()
    answers.set(price, {"last": 1})
    box = hub.connect("a")
    await subscribe(hub, Subscription("p", price, box))
    frames_of(box)
    answers.fail(price, ExchangeUnavailable("the exchange is down"))
    await clock.advance(INTERVAL * 3)
    [error] = frames_of(box)
    assert error["type"] == "error"
    assert error["status"] == 503
    assert error["error"]["code"] == "exchange_unavailable"  # type: ignore[index]
    answers.set(price, {"last": 1})  # the same data as before the failure: sent again
    await clock.advance(INTERVAL)
    assert [f["data"] for f in frames_of(box)] == [{"last": 1}]


async def test_volume_spike_started_and_ended(
    hub: Hub, answers: Answers, clock: ManualClock
) -> None:
    spike = spike_topic()
    answers.set(spike, {"is_spike": False, "time": 1})
    box = hub.connect("bot")
    await subscribe(hub, Subscription("v", spike, box))
    frames_of(box)
    answers.set(spike, {"is_spike": True, "time": 2})
    await clock.advance(INTERVAL)
    started, answer = frames_of(box)
    assert (started["type"], started["event"]) == ("event", "volume_spike_started")
    assert started["data"] == {"is_spike": True, "time": 2} == answer["data"]
    answers.set(spike, {"is_spike": True, "time": 3})  # still a spike: an answer, no event
    await clock.advance(INTERVAL)
    assert [f["type"] for f in frames_of(box)] == ["answer"]
    answers.set(spike, {"is_spike": False, "time": 4})
    await clock.advance(INTERVAL)
    assert [f.get("event") for f in frames_of(box)] == ["volume_spike_ended", None]
    assert hub.stats().events == 2


async def test_distinct_keys_are_bounded(hub: Hub, answers: Answers) -> None:
    box = hub.connect("a")
    for n, symbol in enumerate(["A/USDT", "B/USDT", "C/USDT"]):
        made = topic(symbol=symbol)
        answers.set(made, {"n": n})
        await subscribe(hub, Subscription(symbol, made, box))
    fourth = topic(symbol="D/USDT")
    answers.set(fourth, {"n": 4})
    with pytest.raises(TooManySubscriptions):
        await subscribe(hub, Subscription("D", fourth, box))
    again = topic(symbol="A/USDT")  # a key already watched is still open to more
    await subscribe(hub, Subscription("A2", again, hub.connect("b")))
    assert hub.stats().refused == 1


async def test_connections_per_address_are_bounded(clock: ManualClock, answers: Answers) -> None:
    hub = Hub(answers.read, clock, interval_s=INTERVAL, limits=Limits(connections_per_client=2))
    first, _ = hub.connect("a"), hub.connect("a")
    with pytest.raises(TooManySubscriptions, match="2 at most"):
        hub.connect("a")
    hub.connect("b")
    hub.disconnect("a", first)
    hub.connect("a")
    assert hub.stats().refused == 1
    await hub.stop()


async def test_the_watcher_acts_for_no_client(clock: ManualClock) -> None:
    seen: list[str | None] = []
    price = topic()

    async def read(_: object) -> object:
        seen.append(current_requester())
        return await answers.read(price)

    answers = Answers(clock)
    answers.set(price, {"last": 1})
    hub = Hub(read, clock, interval_s=INTERVAL, limits=Limits())  # type: ignore[arg-type]
    with acting_for("10.0.0.1"):
        await subscribe(hub, Subscription("p", price, hub.connect("10.0.0.1")))
    await clock.advance(INTERVAL)
    assert seen == ["10.0.0.1", None]  # the first read is the client's, the watcher's none
    await hub.stop()
