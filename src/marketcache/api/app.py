"""`create_app`: the FastAPI app, its routes and the lifespan that builds its objects."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from marketcache import __version__
from marketcache.access_log import AccessLog
from marketcache.api import errors
from marketcache.api.admission import Admission
from marketcache.api.body import BodyLimit
from marketcache.api.cors import Cors
from marketcache.api.fastpath import HitFastPath
from marketcache.api.observe import ObserveRequests
from marketcache.api.routes import (
    admin,
    batch,
    docs,
    health,
    index,
    market,
    markets,
    monitoring,
    subscribe,
)
from marketcache.api.runtime import Reachability, Runtime
from marketcache.clock import Clock, SystemClock
from marketcache.config import Settings
from marketcache.dashboard import routes as dashboard
from marketcache.freshness import MarketFreshness
from marketcache.monitoring.monitor import Monitor
from marketcache.service import MarketData
from marketcache.sources.base import Source
from marketcache.streams.build import build_streams
from marketcache.subscriptions import stats as subscription_stats
from marketcache.subscriptions.hub import Hub
from marketcache.subscriptions.limits import Limits
from marketcache.subscriptions.topics import Topics
from marketcache.wiring import build_backend, build_budget, build_cache

log = logging.getLogger("marketcache")

SourceFactory = Callable[[Settings], Source]


def default_source(settings: Settings) -> Source:
    """The ccxt source for the configured exchange (imported here: only this path needs ccxt)."""
    from marketcache.sources.ccxt import CcxtSource

    return CcxtSource.from_settings(settings)


def create_app(
    settings: Settings | None = None,
    *,
    source_factory: SourceFactory = default_source,
    clock: Clock | None = None,
    after_start: Callable[[], None] | None = None,
) -> ServiceApp:
    """The service: built lazily in the lifespan, so importing this module starts nothing.

    `after_start` runs once everything is built (the serve command freezes the garbage
    collector's view of the start-up heap there).
    """
    settings = settings or Settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        source = source_factory(settings)
        backend = build_backend(settings)
        budget = build_budget(settings, clock, source, backend)
        cache = build_cache(settings, clock, backend, budget)
        market = MarketData(source, cache, MarketFreshness.from_settings(settings), clock)
        app.state.budget = budget
        if budget is not None:
            market.warm_pacer = budget.room
        try:
            await market.ensure_markets()
        except Exception as exc:  # the exchange may be down at start; retried per request
            log.warning("markets not loaded at start (%s); will retry on first request", exc)
        if cache is not None:
            await cache.start()
        if budget is not None:
            await budget.start()
        market.streams = build_streams(settings, clock, source, cache, market.freshness)
        monitor = Monitor(settings, clock, cache, source, streams=market.streams)
        topics = hub = None
        if settings.subscriptions and cache is not None:  # without a cache nothing is watched
            topics = Topics(market)
            hub = Hub(
                topics.read,
                clock,
                interval_s=settings.subscribe_interval_s,
                limits=Limits.from_settings(settings),
            )
        monitor.metrics.collector.add_section(
            "subscriptions", subscription_stats.FIGURES, hub.stats if hub is not None else _none
        )
        access_log = AccessLog()
        access_log.start()
        app.state.runtime = Runtime(
            settings=settings,
            clock=clock,
            source=source,
            cache=cache,
            market=market,
            reachability=Reachability(source),
            started_at=clock.now(),
            monitor=monitor,
            access_log=access_log,
            hub=hub,
            topics=topics,
        )
        await monitor.start()
        if market.streams is not None:
            await market.streams.start()
        if after_start is not None:
            after_start()
        mode = "uncached (original service)" if cache is None else "cached"
        log.info("marketcache %s serving %s data, %s", __version__, source.source_name, mode)
        try:
            yield
        finally:
            if hub is not None:
                await hub.stop()
            access_log.stop()
            await monitor.stop()
            if market.streams is not None:
                await market.streams.stop()
            if budget is not None:
                await budget.stop()
            if cache is not None:
                await cache.stop()
            if backend is not None:
                await backend.aclose()
            await source.close()

    app = FastAPI(
        title="marketcache",
        version=__version__,
        description="Crypto market data with a cache built in.",
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        redirect_slashes=False,  # `/cvd/` is a 404 in our envelope, not a redirect
        generate_unique_id_function=lambda route: route.name,  # operationId = handler's name
        docs_url=None,  # served from shipped assets by routes/docs.py
        redoc_url=None,
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(market.router)
    app.include_router(batch.router)
    app.include_router(markets.router)
    app.include_router(index.router)
    docs.install(app)
    app.include_router(admin.router)
    app.include_router(monitoring.router)
    app.include_router(dashboard.router)
    app.include_router(subscribe.router)
    return ServiceApp(app, settings)


def _none() -> None:
    return None


class ServiceApp:
    """What is served: the hit fast path, then the full path's middlewares, then FastAPI.

    Pure ASGI layers outside FastAPI, so a cache hit passes none of FastAPI's and
    Starlette's own layers. Attributes not its own (`state`, `router`, `openapi`,
    ...) are the FastAPI app's.
    """

    def __init__(self, api: FastAPI, settings: Settings) -> None:
        self.api = api

        known: list[Runtime] = []  # once the lifespan has built it (Starlette's State is slow)

        def runtime_of() -> Runtime | None:
            if known:
                return known[0]
            rt: Runtime | None = getattr(api.state, "runtime", None)
            if rt is not None:
                known.append(rt)
            return rt

        full: ASGIApp = BodyLimit(api)
        cors = settings.cors_origin_list
        if cors:
            full = Cors(full, origins=cors)
        full = Admission(full, limit=settings.max_in_flight, exempt_prefix=subscribe.STREAM_PREFIX)
        full = ObserveRequests(full, runtime_of)  # it sees every answer of the full path
        # the server's protocol answers hits through it too (commands/protocol.py)
        self.fast_path = (
            HitFastPath(full, runtime_of, cors=bool(cors)) if settings.fast_path else None
        )
        self.entry: ASGIApp = self.fast_path or full

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.entry(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)
