"""The contenders, started on free loopback ports, warmed, checked, and stopped on the way out.

- `marketcache`: our cached service, the real `marketcache serve` process, default settings
  (request log and metrics on, fast path on, L1 only), hot keys warmed;
- `nginx`: nginx `proxy_cache` in front of `marketcache serve --no-cache`;
- `fastapi-cache2`: FastAPI + fastapi-cache2 + Redis in its own venv, by GET;
- `raw-asgi`: a bare ASGI app on the same uvicorn as ours, the server's own ceiling.
Every exchange is the built-in emulator; every contender answers with the same bytes.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson

from marketcache.bench.peers import nginx, tools
from marketcache.bench.peers.apps import payloads
from marketcache.bench.peers.procs import Daemon, http_ready, tcp_ready
from marketcache.bench.peers.wrk import Shape
from marketcache.config import Settings
from marketcache.netutil import free_port

SYMBOL, TIMEFRAME = "BTC/USDT", "15m"
ENDPOINTS: dict[str, dict[str, str]] = {
    "/price": {"symbol": SYMBOL},
    "/comprehensive_analysis": {"symbol": SYMBOL, "timeframe": TIMEFRAME},
}
# Our defaults, stated so that an environment variable of the caller cannot change them.
OURS_ENV = {"LOG_LEVEL": "info", "LOG_FORMAT": "text", "FAST_PATH": "true", "REDIS_URL": ""}
APPS_DIR = Path(payloads.__file__).parent
NAMES = ("marketcache", "nginx", "fastapi-cache2", "raw-asgi")


@dataclass(frozen=True)
class Contender:
    """One server under test: where it listens and how its requests look."""

    name: str
    description: str
    url: str
    pid: int
    by_get: bool = False
    answer_bytes: dict[str, int] = field(default_factory=dict)
    # the processes whose CPU time a request costs (each with its children); default: pid
    cpu_pids: tuple[int, ...] = ()
    # whether an answer came from its cache (set by `warm`); None: every answer does
    is_hit: Callable[[httpx.Response], bool] | None = field(default=None, compare=False)

    @property
    def accounted_pids(self) -> tuple[int, ...]:
        """The processes whose CPU time is this contender's."""
        return self.cpu_pids or (self.pid,)

    def shape(self, endpoint: str) -> Shape:
        """The request every wrk connection repeats for `endpoint`."""
        body = ENDPOINTS[endpoint]
        if self.by_get:
            return Shape("GET", f"{endpoint}?{urlencode(body)}")
        return Shape("POST", endpoint, orjson.dumps(body))


def ttls(settings: Settings) -> dict[str, float]:
    """How long each endpoint's answer is fresh for us; the peers' caches keep it as long."""
    return {
        "/price": settings.ticker_fresh_s,
        "/comprehensive_analysis": settings.klines_live_fresh_s,
    }


def fetch(contender_url: str, shape: Shape) -> httpx.Response:
    """One request of `shape` (raises on a non-2xx answer)."""
    response = httpx.request(
        shape.method,
        contender_url + shape.path,
        content=shape.body,
        headers={"content-type": "application/json"} if shape.body else None,
        timeout=30.0,
    )
    response.raise_for_status()
    return response


def warm(contender: Contender, hit: Callable[[httpx.Response], bool]) -> Contender:
    """Ask each endpoint until it answers from the cache; record the answer sizes."""
    sizes: dict[str, int] = {}
    for endpoint in ENDPOINTS:
        response = _ask_until(contender, endpoint, hit)
        if response is None:
            raise RuntimeError(f"{contender.name} never answered {endpoint} from its cache")
        data = orjson.loads(response.content)["data"]
        if data.get("symbol") != SYMBOL:
            raise RuntimeError(f"{contender.name} answered {endpoint} with {data!r:.200}")
        sizes[endpoint] = len(response.content)
    return replace(contender, answer_bytes=sizes, is_hit=hit)


def prime(contender: Contender, endpoint: str, tries: int = 50) -> None:
    """Ask `endpoint` until it answers from the cache, so that a run measures hits.

    Between two of a contender's runs the others run: a key left unread that long can be
    past what a cache serves at once (ours: past its stale grace, the first reads wait for
    the reload; the waiters of 256 connections then took ~100 ms to answer, at the start
    of the run). That is a reload, not a hit, and not what the hit matrix measures.
    """
    if _ask_until(contender, endpoint, contender.is_hit, tries) is None:
        raise RuntimeError(f"{contender.name} no longer answers {endpoint} from its cache")


def _ask_until(
    contender: Contender,
    endpoint: str,
    hit: Callable[[httpx.Response], bool] | None,
    tries: int = 50,
) -> httpx.Response | None:
    """Ask `endpoint` until `hit` says the answer came from the cache (None: any answer
    does); that answer, or None after `tries`."""
    for _ in range(tries):
        response = fetch(contender.url, contender.shape(endpoint))
        if hit is None or hit(response):
            return response
    return None


def _x_cache(*served: str) -> Callable[[httpx.Response], bool]:
    def hit(response: httpx.Response) -> bool:
        return str(response.headers.get("x-cache", "")).lower() in served

    return hit


def _nginx_hit(response: httpx.Response) -> bool:
    return response.headers.get("x-cache-status") in ("HIT", "STALE", "UPDATING")


def _fastapi_cache_hit(response: httpx.Response) -> bool:
    return str(response.headers.get("x-fastapi-cache", "")).upper() == "HIT"


def ours_command(port: int | str, exchange_url: str, extra: Sequence[str] = ()) -> list[str]:
    """`marketcache serve` on `port` (or a `{port}` placeholder), its exchange the emulator at
    `exchange_url`."""
    command = [sys.executable, "-m", "marketcache", "serve", "--host", "127.0.0.1"]
    return [*command, "--port", str(port), "--exchange-url", exchange_url, *extra]


@contextlib.contextmanager
def _tempdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def capture_answers(ours: Contender) -> dict[str, bytes]:
    """A hit of ours per endpoint: the bytes the other contenders will serve."""
    return {e: fetch(ours.url, ours.shape(e)).content for e in ENDPOINTS}


@contextlib.contextmanager
def start_ours(
    exchange_url: str,
    *,
    name: str = "marketcache",
    description: str = "marketcache serve, default settings (request log, metrics, fast path)",
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> Iterator[Contender]:
    """Our cached service (or a variant of it, given `command`), warmed."""
    port = free_port()
    base = "http://127.0.0.1:" + str(port)
    argv = list(command) if command is not None else ours_command(port, exchange_url)
    argv = [a.replace("{port}", str(port)) for a in argv]
    with Daemon(
        name, argv, ready=http_ready(base + "/health"), env={**OURS_ENV, **(env or {})}
    ) as d:
        warmed = httpx.post(
            base + "/cache/warm", json={"symbols": [SYMBOL], "timeframes": [TIMEFRAME]}, timeout=60
        )
        warmed.raise_for_status()
        yield warm(Contender(name, description, base, d.pid), _x_cache("hit", "stale"))


@contextlib.contextmanager
def start_peers(
    exchange_url: str, answers: dict[str, bytes], cache_dir: Path, settings: Settings
) -> Iterator[dict[str, Contender]]:
    """nginx (with its origin), fastapi-cache2 (with its Redis) and the raw ceiling, warmed."""
    with contextlib.ExitStack() as stack:
        payload_dir = stack.enter_context(_tempdir("peers-payloads-"))
        payloads.write(payload_dir, answers)
        found: dict[str, Contender] = {}
        found["nginx"] = stack.enter_context(_nginx(exchange_url, settings))
        found["fastapi-cache2"] = stack.enter_context(
            _fastapi_cache2(payload_dir, cache_dir, settings)
        )
        found["raw-asgi"] = stack.enter_context(_raw(payload_dir))
        yield found


@contextlib.contextmanager
def _nginx(exchange_url: str, settings: Settings) -> Iterator[Contender]:
    origin_port, port = free_port(), free_port()
    origin_cmd = ours_command(origin_port, exchange_url, ["--no-cache"])
    origin_ready = http_ready(f"http://127.0.0.1:{origin_port}/health")
    with (
        Daemon("origin", origin_cmd, ready=origin_ready, env=OURS_ENV) as origin,
        _tempdir("peers-nginx-") as prefix,
        nginx.daemon(prefix, port, f"127.0.0.1:{origin_port}", ttls(settings)) as proxy,
    ):
        description = (
            "nginx proxy_cache + proxy_cache_use_stale updating (background update, lock), "
            "1 worker, access log on, in front of marketcache serve --no-cache"
        )
        url = f"http://127.0.0.1:{port}"
        contender = Contender(
            "nginx", description, url, proxy.pid, cpu_pids=(proxy.pid, origin.pid)
        )
        yield warm(contender, _nginx_hit)


@contextlib.contextmanager
def _fastapi_cache2(payload_dir: Path, cache_dir: Path, settings: Settings) -> Iterator[Contender]:
    venv = tools.peer_venv(cache_dir)
    redis_port, port = free_port(), free_port()
    redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1"]
    redis_cmd += ["--save", "", "--appendonly", "no"]
    env = {
        payloads.ENV: str(payload_dir),
        "PEERS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "PEERS_TTL_PRICE_S": str(max(1, round(ttls(settings)["/price"]))),
        "PEERS_TTL_ANALYSIS_S": str(max(1, round(ttls(settings)["/comprehensive_analysis"]))),
    }
    app_cmd = [str(venv / "bin" / "python"), "-m", "uvicorn", "fastapi_cache2_app:app"]
    app_cmd += ["--app-dir", str(APPS_DIR), "--host", "127.0.0.1", "--port", str(port)]
    with (
        _tempdir("peers-redis-") as redis_dir,
        Daemon("redis", redis_cmd, ready=tcp_ready(redis_port), cwd=redis_dir) as redis,
        Daemon(
            "fastapi-cache2", app_cmd, env=env, ready=http_ready(f"http://127.0.0.1:{port}/health")
        ) as app,
    ):
        description = (
            "FastAPI + fastapi-cache2 (Redis backend) on uvicorn defaults (access log on), by GET"
        )
        url = f"http://127.0.0.1:{port}"
        contender = Contender(
            "fastapi-cache2", description, url, app.pid, True, cpu_pids=(app.pid, redis.pid)
        )
        yield warm(contender, _fastapi_cache_hit)


@contextlib.contextmanager
def _raw(payload_dir: Path) -> Iterator[Contender]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "marketcache.bench.peers.apps.raw:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop"]
    command += ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    with Daemon(
        "raw-asgi", command, env={payloads.ENV: str(payload_dir)}, ready=http_ready(base)
    ) as app:
        description = (
            "a bare ASGI app returning the same bytes, on the same uvicorn (httptools, uvloop)"
        )
        yield warm(Contender("raw-asgi", description, base, app.pid), _x_cache("hit"))
