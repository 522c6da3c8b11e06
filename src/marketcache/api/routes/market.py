"""The market endpoints: price, comprehensive analysis, volume spike, CVD."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache.answer import Answer
from marketcache.api import responses
from marketcache.api.runtime import runtime
from marketcache.api.schemas import (
    AnalysisRequest,
    CvdRequest,
    PriceRequest,
    VolumeSpikeRequest,
    parse_body,
)

router = APIRouter(tags=["market"])


def _respond(request: Request, answer: Answer) -> Response:
    request.state.cache_status = answer.cache
    request.state.symbol = answer.symbol
    now = runtime(request).clock.now()
    return responses.json_bytes(answer.body(now), headers={"X-Cache": answer.cache})


@router.post("/price", summary="24 h ticker of a market")
async def price(request: Request) -> Response:
    """Last, bid, ask, 24 h change, high, low and volumes."""
    body = parse_body(PriceRequest, await request.body())
    return _respond(request, await runtime(request).market.price(body.symbol))


@router.post("/comprehensive_analysis", summary="indicators, levels, trend and signal")
async def comprehensive_analysis(request: Request) -> Response:
    """RSI, MACD, Bollinger, EMAs, SMAs, ATR, stochastic, ADX, OBV, VWAP and an overall signal."""
    body = parse_body(AnalysisRequest, await request.body())
    market = runtime(request).market
    return _respond(request, await market.comprehensive_analysis(body.symbol, body.timeframe))


@router.post("/volume_spike", summary="is the last closed candle's volume a spike")
async def volume_spike(request: Request) -> Response:
    """The last closed candle's volume against the `lookback` candles before it."""
    body = parse_body(VolumeSpikeRequest, await request.body())
    market = runtime(request).market
    answer = await market.volume_spike(body.symbol, body.timeframe, body.lookback, body.threshold)
    return _respond(request, answer)


@router.post("/cvd", summary="cumulative volume delta")
async def cvd(request: Request) -> Response:
    """Taker buy minus taker sell volume per candle, accumulated, with trend and divergence."""
    body = parse_body(CvdRequest, await request.body())
    market = runtime(request).market
    return _respond(request, await market.cvd(body.symbol, body.timeframe, body.limit))
