"""Operating the cache: health, performance, recommendations and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from marketcache.api import responses
from marketcache.api.openapi import error_responses, query_parameter
from marketcache.api.routes.health import HEALTH_RESPONSES
from marketcache.api.runtime import runtime
from marketcache.api.schemas import OkResponse
from marketcache.errors import MarketCacheError
from marketcache.monitoring.metrics import CONTENT_TYPE
from marketcache.monitoring.monitor import MAX_HOURS, Monitor
from marketcache.params import query_int

router = APIRouter(tags=["monitoring"])


class MonitoringOff(MarketCacheError):
    """The app was built without a monitor."""

    code = "monitoring_unavailable"
    status = 503


def _monitor(request: Request) -> Monitor:
    monitor = runtime(request).monitor
    if monitor is None:
        raise MonitoringOff("monitoring is not running in this service")
    return monitor


def _hours(request: Request) -> int:
    """`?hours=N`, 1..168, default 1; anything else is a 422 naming `hours`."""
    return query_int(request.query_params.get("hours"), "hours", 1, MAX_HOURS, 1)


@router.get(
    "/cache/health",
    summary="health of the cache: status, metrics, alerts, tasks",
    responses=HEALTH_RESPONSES,
)
async def cache_health(request: Request) -> Response:
    """The status of `/health` with its reasons, the metrics, the alerts and the tasks."""
    monitor = _monitor(request)
    reachable = await runtime(request).reachability.check()
    report = monitor.health(reachable=reachable)
    return responses.plain(report, 503 if report["status"] == "unhealthy" else 200)


@router.get(
    "/cache/performance",
    summary="per-minute history, summary and trends",
    openapi_extra=query_parameter(
        "hours",
        {"type": "integer", "minimum": 1, "maximum": MAX_HOURS, "default": 1},
        "how many hours of minutes to return",
    ),
    responses={200: {"model": OkResponse}, **error_responses(422)},
)
async def performance(request: Request) -> Response:
    """The last `hours` (1..168) minute by minute, the running minute last."""
    hours = _hours(request)
    return responses.ok(_monitor(request).performance(hours))


@router.get(
    "/cache/recommendations",
    summary="settings worth changing, with evidence",
    responses={200: {"model": OkResponse}},
)
async def recommendations(request: Request) -> Response:
    """Advice drawn from the last hour; an empty list when nothing is worth changing."""
    return responses.ok(_monitor(request).recommendations())


@router.get(
    "/metrics",
    summary="Prometheus exposition",
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Requests, latency, cache, upstream, tasks and alerts in the Prometheus text format."""
    body = _monitor(request).metrics.exposition()
    return Response(content=body, media_type=CONTENT_TYPE)
