"""The subscription figures, each declared once: `/cache/stats` and `/metrics` derive from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from marketcache.cache.stats import Figure, View, counter, declared, gauge

SHOWN: tuple[View, ...] = ("stats", "metrics")


@dataclass(slots=True)
class SubscriptionStats:
    """What the hub counts (plain ints) and holds now."""

    connections: int = gauge("subscription connections open (WebSocket and SSE)", *SHOWN)
    subscriptions: int = gauge("subscriptions held over all connections", *SHOWN)
    keys: int = gauge("distinct answers watched (one read per interval each)", *SHOWN)
    reads: int = counter("answer reads by the watchers", *SHOWN)
    read_errors: int = counter("watcher reads that failed (subscribers got the error)", *SHOWN)
    changes: int = counter("changed answers fanned out", *SHOWN)
    deliveries: int = counter("answers queued to subscriptions", *SHOWN)
    conflated: int = counter("queued answers replaced by a newer one before being sent", *SHOWN)
    events: int = counter("events sent (volume_spike_started, volume_spike_ended)", *SHOWN)
    slow_disconnects: int = counter("connections cut off past SUBSCRIBE_MAX_BACKLOG", *SHOWN)
    refused: int = counter("subscriptions and connections refused by a limit", *SHOWN)

    def to_dict(self) -> dict[str, int]:
        """Every figure by name."""
        return asdict(self)


FIGURES: tuple[Figure, ...] = declared(SubscriptionStats)
