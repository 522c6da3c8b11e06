"""The stream manager the settings ask for, or None (off, no cache, or no stream client)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from marketcache.cache import Cache
from marketcache.clock import Clock
from marketcache.config import Settings
from marketcache.freshness import MarketFreshness
from marketcache.sources.base import Source
from marketcache.streams.manager import StreamManager, StreamOptions

if TYPE_CHECKING:
    from marketcache.sources.streaming import StreamLimits

log = logging.getLogger(__name__)


def stream_limits(settings: Settings) -> StreamLimits:
    """The exchange's stream limits we keep to, from the `STREAMS_*` settings."""
    from marketcache.sources.streaming import StreamLimits

    return StreamLimits(
        connections=settings.streams_connections,
        per_connection=settings.streams_per_connection,
        sent_per_s=settings.streams_sent_per_s,
        connects_per_window=settings.streams_connects_per_5min,
        connect_window_s=300.0,
    )


def build_streams(
    settings: Settings,
    clock: Clock,
    source: Source,
    cache: Cache | None,
    freshness: MarketFreshness,
) -> StreamManager | None:
    """With `STREAMS=true` and a cache, the manager over the source's stream client."""
    if not settings.streams or cache is None:
        return None
    make = getattr(source, "streams", None)  # CcxtSource; a test's fake source has none
    if make is None:
        log.warning("STREAMS=true but the source %r has no streams: REST only", source)
        return None
    client = make(clock, stream_limits(settings))
    options = StreamOptions.from_settings(settings)
    return StreamManager(client, cache.writes, source, freshness, clock, options)
