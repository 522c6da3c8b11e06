"""FastAPI + fastapi-cache2 + Redis, as its README sets it up, serving our answers by GET.

Runs in its own venv (fastapi-cache2 pins its own FastAPI), so it imports nothing of
marketcache. A miss "computes" the answer by reading the stored bytes; a hit is what
fastapi-cache2 does: key built from the call, Redis GET, JSON decode, FastAPI encode.
Environment: PEERS_PAYLOAD_DIR (the answers), PEERS_REDIS_URL, PEERS_TTL_PRICE_S,
PEERS_TTL_ANALYSIS_S (each endpoint's expiry, the same freshness as ours).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse
from fastapi_cache import FastAPICache  # type: ignore[import-not-found,unused-ignore]
from fastapi_cache.backends.redis import (  # type: ignore[import-not-found,unused-ignore]
    RedisBackend,
)
from fastapi_cache.decorator import cache  # type: ignore[import-not-found,unused-ignore]
from redis import asyncio as aioredis

_DIR = Path(os.environ["PEERS_PAYLOAD_DIR"])
_PRICE_TTL = int(os.environ.get("PEERS_TTL_PRICE_S", "2"))
_ANALYSIS_TTL = int(os.environ.get("PEERS_TTL_ANALYSIS_S", "5"))


def _answer(name: str) -> Any:
    return json.loads((_DIR / f"{name}.json").read_bytes())


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """fastapi-cache2 on Redis, as its README initialises it."""
    redis = aioredis.from_url(os.environ["PEERS_REDIS_URL"])
    FastAPICache.init(RedisBackend(redis), prefix="peers")
    yield
    await redis.aclose()


app = FastAPI(lifespan=lifespan, default_response_class=ORJSONResponse)


@app.get("/price")
@cache(expire=_PRICE_TTL)  # type: ignore[untyped-decorator,unused-ignore]
async def price(symbol: str) -> Any:
    """The price answer of `symbol`."""
    return _answer("price")


@app.get("/comprehensive_analysis")
@cache(expire=_ANALYSIS_TTL)  # type: ignore[untyped-decorator,unused-ignore]
async def comprehensive_analysis(symbol: str, timeframe: str = "15m") -> Any:
    """The analysis answer of `symbol` and `timeframe`."""
    return _answer("comprehensive_analysis")


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness, for the bench's readiness check."""
    return {"status": "healthy"}
