"""The load generator: N virtual users in a closed loop, bounded by time and by count.

Each user sends a request, waits for the answer, thinks, and sends the next one. The
run stops taking new requests at the deadline or once `max_requests` have been sent;
requests in flight then finish (each is bounded by `timeout_s`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass

import aiohttp
import orjson

from marketcache.bench.workload import Request, Workload, user_rng

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Record:
    """One request's outcome: when it started (s since the run began), latency, status."""

    user: int
    endpoint: str
    start_s: float
    latency_ms: float
    status: int | None  # None: no HTTP answer (connection error, timeout)
    cache: str | None  # the X-Cache header, when there was one
    failure: str | None = None
    age_ms: float | None = None  # meta.age_ms of a 2xx answer: how old its data was

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class LoadPlan:
    """How hard and how long to drive one service."""

    users: int
    duration_s: float
    max_requests: int
    seed: int
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if min(self.users, self.duration_s, self.max_requests, self.timeout_s) <= 0:
            raise ValueError("users, duration, max_requests and timeout must be positive")


@dataclass
class LoadResult:
    """Every record of a run, and the run's wall-clock span."""

    records: list[Record]
    started_at: float  # time.time() at the start
    elapsed_s: float  # from the start until the last answer came back


class _Budget:
    """The shared count of requests still allowed (one event loop: no lock needed)."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def drive(
    base_url: str, workload: Workload, plan: LoadPlan, origin: float | None = None
) -> LoadResult:
    """Run the plan's virtual users against `base_url` and return every record.

    `origin` (a `time.perf_counter()` value, default now) is where the run's clock starts.
    """
    records: list[Record] = []
    budget = _Budget(plan.max_requests)
    connector = aiohttp.TCPConnector(limit=plan.users, force_close=False)
    timeout = aiohttp.ClientTimeout(total=plan.timeout_s)
    started_at = time.time()
    origin = time.perf_counter() if origin is None else origin
    deadline = origin + plan.duration_s

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        rng = user_rng(plan.seed, index)
        while time.perf_counter() < deadline and budget.take():
            request = workload.next_request(rng)
            records.append(await _send(session, base_url, index, request, origin))
            pause = workload.think_s(rng)
            if pause > 0:
                await asyncio.sleep(min(pause, max(0.0, deadline - time.perf_counter())))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(user(i, session) for i in range(plan.users)))
    return LoadResult(records, started_at, time.perf_counter() - origin)


async def _send(
    session: aiohttp.ClientSession,
    base_url: str,
    user: int,
    request: Request,
    origin: float,
) -> Record:
    start = time.perf_counter()
    try:
        async with session.post(
            base_url + request.path, json=request.body, headers=JSON_HEADERS
        ) as response:
            body = await response.read()
            status: int | None = response.status
            cache = response.headers.get("X-Cache")
            failure = None
    except (aiohttp.ClientError, TimeoutError) as exc:
        status, cache, failure, body = None, None, type(exc).__name__, b""
    latency_ms = (time.perf_counter() - start) * 1000.0
    age_ms = _age_ms(body) if status is not None and 200 <= status < 300 else None
    record = Record(user, request.endpoint, start - origin, latency_ms, status, cache, failure)
    return dataclasses.replace(record, age_ms=age_ms) if age_ms is not None else record


def _age_ms(body: bytes) -> float | None:
    """`meta.age_ms` of an answer, if it has one."""
    try:
        age = orjson.loads(body)["meta"]["age_ms"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return float(age) if isinstance(age, int | float) else None
