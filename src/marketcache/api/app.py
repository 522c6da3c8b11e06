"""`create_app`: the FastAPI app, its routes and the lifespan that builds its objects."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse

from marketcache import __version__
from marketcache.api import errors
from marketcache.api.body import BodyLimit
from marketcache.api.fastpath import HitFastPath
from marketcache.api.observe import ObserveRequests
from marketcache.api.routes import admin, health, market, monitoring
from marketcache.api.runtime import Reachability, Runtime
from marketcache.clock import Clock, SystemClock
from marketcache.config import Settings
from marketcache.freshness import MarketFreshness
from marketcache.monitoring.monitor import Monitor
from marketcache.service import MarketData
from marketcache.sources.base import Source
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
) -> FastAPI:
    """The service: built lazily in the lifespan, so importing this module starts nothing."""
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
        monitor = Monitor(settings, clock, cache, source)
        app.state.runtime = Runtime(
            settings=settings,
            clock=clock,
            source=source,
            cache=cache,
            market=market,
            reachability=Reachability(source),
            started_at=clock.now(),
            monitor=monitor,
        )
        await monitor.start()
        mode = "uncached (original service)" if cache is None else "cached"
        log.info("marketcache %s serving %s data, %s", __version__, source.source_name, mode)
        try:
            yield
        finally:
            await monitor.stop()
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
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(market.router)
    app.include_router(admin.router)
    app.include_router(monitoring.router)
    if settings.fast_path:
        app.add_middleware(HitFastPath)  # inside BodyLimit: the bodies it reads are bounded
    app.add_middleware(BodyLimit)
    app.add_middleware(ObserveRequests)  # outermost: it sees every answer
    return app
