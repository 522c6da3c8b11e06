"""Redis as L2: the cache's shared backend (values, leases, fan-out, counters).

The only module that imports redis. Every call has a timeout of a few ms
(`timeout`) and no retry of its own: a Redis that is down, slow or restarted
raises `BackendUnavailable` at once, and the cache above carries on with L1
(see `l2.py`). Layout under `{prefix}:v{FORMAT}:` (a format change or another
prefix keeps incompatible deployments apart):

    e:<key>      an entry: 1 format byte, stored_at, fresh_until, stale_until
                 (little-endian doubles, clock seconds), then the value bytes as
                 L1 holds them; Redis expires it at the end of its stale window
    l:<key>      a lease: a random token, SET NX PX, deleted only by its holder
    c:<name>     a shared counter (INCRBY, expiring with its window)
    fanout       the pub/sub channel: loads, lease releases, invalidations, clears

A fan-out message is the sender's replica id (8 bytes), a kind byte, then the
key, prefix or loaded entry; a replica ignores its own messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import struct
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from marketcache.cache.backend import MISSING, BackendEntry, Listener, Missing
from marketcache.errors import BackendUnavailable
from marketcache.tasks import stop_tasks

log = logging.getLogger(__name__)

FORMAT = 2  # 2: answers carry their stale window
_HEADER = struct.Struct("<Bddd")
_KEY_LEN = struct.Struct("<I")
_ID_LEN = 8
LOADED, RELEASED, INVALIDATED, PREFIX, CLEARED = b"L", b"R", b"I", b"P", b"C"
SCAN_BATCH = 500
T = TypeVar("T")

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_INCR = """
local value = redis.call('incrby', KEYS[1], ARGV[1])
if redis.call('pttl', KEYS[1]) < 0 then
  redis.call('pexpire', KEYS[1], ARGV[2])
end
return value
"""


def encode_entry(entry: BackendEntry) -> bytes:
    """The bytes stored in Redis for `entry`."""
    header = _HEADER.pack(FORMAT, entry.stored_at, entry.fresh_until, entry.stale_until)
    return header + entry.value


def decode_entry(blob: bytes) -> BackendEntry | None:
    """The entry stored as `blob`, or None if it is not of this format."""
    if len(blob) < _HEADER.size or blob[0] != FORMAT:
        return None
    _, stored_at, fresh_until, stale_until = _HEADER.unpack_from(blob)
    return BackendEntry(blob[_HEADER.size :], stored_at, fresh_until, stale_until)


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _connected(error: BaseException) -> Callable[[Listener], None]:
    return lambda listener: listener.connected(error)


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisBackend:
    """A `SharedBackend` on Redis (redis-py asyncio, hiredis parser when installed)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "marketcache",
        timeout: float = 0.05,
        reconnect_max: float = 5.0,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.reconnect_max = reconnect_max
        self.namespace = f"{prefix}:v{FORMAT}:"
        self._entries = self.namespace + "e:"
        self._leases = self.namespace + "l:"
        self._counters = self.namespace + "c:"
        self.channel = (self.namespace + "fanout").encode()
        self.replica_id = os.urandom(_ID_LEN)
        options: dict[str, Any] = {
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            "retry_on_error": [],
            "health_check_interval": 0,
        }
        self._client = aioredis.Redis.from_url(url, socket_timeout=timeout, **options)
        # the channel is nobody's request: it may take its time to connect, and it blocks on reads
        options["socket_connect_timeout"] = max(timeout, 1.0)
        self._subscriber = aioredis.Redis.from_url(url, socket_timeout=None, **options)
        self._release = self._client.register_script(_RELEASE)
        self._extend = self._client.register_script(_EXTEND)
        self._incr = self._client.register_script(_INCR)
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.busy = 0  # commands in progress (tests wait for it to reach 0)
        self.messages_in = 0
        self.messages_out = 0

    async def _op(self, name: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run one exchange with Redis within the timeout; its errors become ours."""
        self.busy += 1
        try:
            async with asyncio.timeout(self.timeout):
                return await work()
        except (RedisError, OSError, TimeoutError) as exc:
            await self._drop_idle_connections()  # after a restart they are all dead
            raise BackendUnavailable(f"redis {name} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            self.busy -= 1

    async def _drop_idle_connections(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._client.connection_pool.disconnect(inuse_connections=False)
        except Exception:  # best effort: they are reconnected on use anyway
            log.debug("dropping idle redis connections failed", exc_info=True)

    def _message(self, kind: bytes, body: bytes = b"") -> bytes:
        self.messages_out += 1
        return self.replica_id + kind + body

    # ---- Backend -------------------------------------------------------------------------

    async def get(self, key: str) -> BackendEntry | Missing:
        blob = await self._op("get", lambda: self._client.get(self._entries + key))
        if not isinstance(blob, bytes):
            return MISSING
        entry = decode_entry(blob)
        return MISSING if entry is None else entry

    async def set(self, key: str, entry: BackendEntry, ttl: float) -> None:
        blob = encode_entry(entry)
        raw_key = key.encode()
        message = self._message(LOADED, _KEY_LEN.pack(len(raw_key)) + raw_key + blob)

        async def work() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.set(self._entries + key, blob, px=_ms(ttl))
                pipe.publish(self.channel, message)
                await pipe.execute()

        await self._op("set", work)

    async def delete(self, key: str) -> bool:
        message = self._message(INVALIDATED, key.encode())

        async def work() -> int:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.unlink(self._entries + key)
                pipe.publish(self.channel, message)
                removed, _ = await pipe.execute()
                return int(removed)

        return bool(await self._op("delete", work))

    async def delete_prefix(self, prefix: str) -> int:
        removed = await self._drop_matching(self._entries + _glob_escape(prefix) + "*")
        message = self._message(PREFIX, prefix.encode())
        await self._op("publish", lambda: self._client.publish(self.channel, message))
        return removed

    async def clear(self) -> int:
        removed = await self._drop_matching(self._entries + "*")
        message = self._message(CLEARED)
        await self._op("publish", lambda: self._client.publish(self.channel, message))
        return removed

    async def _drop_matching(self, pattern: str) -> int:
        removed, cursor = 0, 0
        while True:
            cursor, keys = await self._op(
                "scan", partial(self._client.scan, cursor, match=pattern, count=SCAN_BATCH)
            )
            if keys:
                removed += int(await self._op("unlink", partial(self._client.unlink, *keys)))
            if cursor == 0:
                return removed

    async def count_entries(self) -> int:
        """How many entries this namespace holds (a scan: for tests and tools, not for serving)."""
        count, cursor = 0, 0
        while True:
            cursor, keys = await self._op(
                "scan",
                partial(self._client.scan, cursor, match=self._entries + "*", count=SCAN_BATCH),
            )
            count += len(keys)
            if cursor == 0:
                return count

    async def drop_namespace(self) -> int:
        """Delete every key of this prefix and format (entries, leases, counters); how many."""
        return await self._drop_matching(_glob_escape(self.namespace) + "*")

    async def ttl(self, key: str) -> float | Missing:
        ms = await self._op("pttl", lambda: self._client.pttl(self._entries + key))
        return MISSING if ms < 0 else ms / 1000

    # ---- leases and counters --------------------------------------------------------------

    async def acquire(self, key: str, ttl: float) -> str | None:
        token = os.urandom(12).hex()
        taken = await self._op(
            "acquire", lambda: self._client.set(self._leases + key, token, nx=True, px=_ms(ttl))
        )
        return token if taken else None

    async def extend(self, key: str, token: str, ttl: float) -> bool:
        done = await self._op(
            "extend", lambda: self._extend(keys=[self._leases + key], args=[token, _ms(ttl)])
        )
        return bool(done)

    async def release(self, key: str, token: str) -> bool:
        message = self._message(RELEASED, key.encode())
        done = await self._op(
            "release",
            lambda: self._release(keys=[self._leases + key, self.channel], args=[token, message]),
        )
        return bool(done)

    async def lease_ttl(self, key: str) -> float | Missing:
        ms = await self._op("lease_ttl", lambda: self._client.pttl(self._leases + key))
        return MISSING if ms == -2 else max(ms, 0) / 1000

    async def incr(self, name: str, amount: int, ttl: float) -> int:
        value = await self._op(
            "incr", lambda: self._incr(keys=[self._counters + name], args=[amount, _ms(ttl)])
        )
        return int(value)

    # ---- fan-out --------------------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._subscribe_loop(self._stopping), name="cache-fanout"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()  # redis-py may swallow a cancel: the loop also checks this
            await stop_tasks(task)

    async def aclose(self) -> None:
        """Stop listening and close both connection pools."""
        await self.stop()
        await self._client.aclose()
        await self._subscriber.aclose()

    async def _subscribe_loop(self, stopping: asyncio.Event) -> None:
        """One pub/sub connection; on loss, tell the listeners and reconnect with back-off."""
        delay = 0.1
        while not stopping.is_set():
            pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
            try:
                async with asyncio.timeout(max(self.timeout, 1.0)):
                    await pubsub.subscribe(self.channel)
                await self._drop_idle_connections()  # from before a restart: dead
                self._tell(lambda listener: listener.connected(None))
                delay = 0.1
                while not stopping.is_set():
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # redis or socket errors: the channel is down
                self._tell(_connected(BackendUnavailable(f"redis fan-out channel lost: {exc!r}")))
            finally:
                try:
                    await asyncio.wait_for(pubsub.aclose(), 1.0)  # type: ignore[no-untyped-call]
                except Exception:  # the connection is already gone
                    log.debug("closing the pub/sub connection failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, self.reconnect_max)

    def _tell(self, deliver: Callable[[Listener], None]) -> None:
        for listener in self._listeners:
            try:
                deliver(listener)
            except Exception:
                log.exception("cache fan-out listener failed")

    def _dispatch(self, data: bytes) -> None:
        """Hand one message of another replica to the listeners."""
        origin, kind, body = data[:_ID_LEN], data[_ID_LEN : _ID_LEN + 1], data[_ID_LEN + 1 :]
        if origin == self.replica_id:
            return
        self.messages_in += 1
        if kind == LOADED:
            (size,) = _KEY_LEN.unpack_from(body)
            key = body[_KEY_LEN.size : _KEY_LEN.size + size].decode()
            entry = decode_entry(body[_KEY_LEN.size + size :])
            if entry is not None:
                self._tell(lambda listener: listener.loaded(key, entry))
        elif kind == RELEASED:
            self._tell(lambda listener: listener.released(body.decode()))
        elif kind == INVALIDATED:
            self._tell(lambda listener: listener.invalidated(body.decode()))
        elif kind == PREFIX:
            self._tell(lambda listener: listener.invalidated_prefix(body.decode()))
        elif kind == CLEARED:
            self._tell(lambda listener: listener.cleared())
        else:
            log.warning("unknown fan-out message kind %r", kind)
