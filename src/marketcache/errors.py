"""The exception tree of marketcache.

Errors of the libraries we use (ccxt, redis, aiohttp) are translated into these
where they enter the package; nothing else in the package catches theirs.

    MarketCacheError                      base; carries `code` and `status`
    ├── InputError                        the request itself is wrong (4xx)
    │   ├── MalformedJson          400    the body is not JSON
    │   ├── BodyValidationError    422    a field missing, ill-typed or out of range (`fields`)
    │   ├── UnknownSymbol          404    not a market of the exchange (with close matches)
    │   ├── UnsupportedTimeframe   400    not one of the exchange's intervals
    │   └── InvalidParameter       422    a value out of range or of the wrong type
    ├── AccessError                       the caller may not do this
    │   ├── Unauthorized           401    no credentials where they are required
    │   └── Forbidden              403    credentials that do not grant it, or not on loopback
    ├── UpstreamError                     the exchange failed us
    │   ├── RateLimited            429    exchange rate limit (retry_after when known)
    │   │   └── ClientRateLimited  429    this client's cold loads per minute are spent
    │   ├── ExchangeUnavailable    503    down, refusing, 5xx (retry_after when known)
    │   ├── UpstreamTimeout        503    no answer in time
    │   └── BadResponse            503    an answer we cannot use (malformed, truncated)
    ├── SubscriptionError                 a subscription refused (WebSocket /ws, SSE)
    │   ├── NotSubscribable        404    not an endpoint one may subscribe to
    │   ├── UnknownSubscription    404    an unsubscribe naming no subscription
    │   ├── DuplicateSubscription  409    a subscription id already in use on the connection
    │   ├── TooManySubscriptions   429    past a limit: per connection, per address, keys
    │   └── SubscriptionsOff       503    SUBSCRIPTIONS=false, or no cache to watch
    └── CacheError                        the cache itself
        ├── LoadTimeout            503    a waiter's deadline passed before the load ended
        ├── CacheOverloaded        503    too many callers wait on one key's load already
        └── BackendUnavailable     503    a cache backend (Redis) is unreachable; never
                                          reaches clients: the cache degrades to L1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


class MarketCacheError(Exception):
    """Base of every error raised by marketcache."""

    code: str = "internal_error"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retry_after(self) -> float | None:
        """Seconds after which a retry may succeed, when known."""
        return None

    def to_body(self) -> dict[str, Any]:
        """The `error` object clients get: code, message, and the details that help.

        A 429 or 503 always says when to retry (1 s when the exchange did not say).
        """
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        for name in DETAILS:
            value = getattr(self, name, None)
            if value is not None:
                body[name] = value
        retry_after = self.retry_after
        if retry_after is None and self.status in (429, 503):
            retry_after = DEFAULT_RETRY_AFTER_S
        if retry_after is not None:
            body["retry_after"] = retry_after
        return body


DETAILS = ("fields", "suggestions", "allowed")  # the optional parts of an error body
DEFAULT_RETRY_AFTER_S = 1.0


class InputError(MarketCacheError):
    """The request is wrong; retrying it unchanged will not help."""

    code = "invalid_input"
    status = 400


class MalformedJson(InputError):
    """The body is not JSON at all."""

    code = "malformed_json"
    status = 400


class BodyValidationError(InputError):
    """The body is JSON but a field is missing, of the wrong type or out of range."""

    code = "validation_error"
    status = 422

    def __init__(self, message: str, fields: Sequence[str]) -> None:
        super().__init__(message)
        self.fields = list(fields)


class UnknownSymbol(InputError):
    """The symbol is not a market of the exchange."""

    code = "unknown_symbol"
    status = 404

    def __init__(self, symbol: str, suggestions: Sequence[str] = ()) -> None:
        self.symbol = symbol
        self.suggestions = list(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown symbol {symbol!r}{hint}")


class UnsupportedTimeframe(InputError):
    """The timeframe is not one the exchange offers."""

    code = "unsupported_timeframe"
    status = 400

    def __init__(self, timeframe: str, allowed: Sequence[str]) -> None:
        self.timeframe = timeframe
        self.allowed = list(allowed)
        super().__init__(f"unsupported timeframe {timeframe!r}; allowed: {', '.join(self.allowed)}")


class InvalidParameter(InputError):
    """A parameter is out of range or of the wrong type."""

    code = "invalid_parameter"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class AccessError(MarketCacheError):
    """The caller may not do this."""

    code = "forbidden"
    status = 403


class Unauthorized(AccessError):
    """No credentials where they are required."""

    code = "unauthorized"
    status = 401


class Forbidden(AccessError):
    """Credentials that do not grant access, or a client that may not ask."""

    code = "forbidden"
    status = 403


class UpstreamError(MarketCacheError):
    """The exchange did not give us a usable answer."""

    code = "upstream_error"
    status = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self._retry_after = retry_after

    @property
    def retry_after(self) -> float | None:
        return self._retry_after


class RateLimited(UpstreamError):
    """The exchange's rate limit was hit (HTTP 429/418 from Binance)."""

    code = "rate_limited"
    status = 429


class ClientRateLimited(RateLimited):
    """This client started more cold loads (keys nobody had cached) than its budget allows."""

    code = "client_rate_limited"
    status = 429

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(
            f"too many uncached requests from this client; retry after {seconds}s",
            retry_after=seconds,
        )


class ExchangeUnavailable(UpstreamError):
    """The exchange is down, refusing connections or answering 5xx."""

    code = "exchange_unavailable"
    status = 503


class UpstreamTimeout(UpstreamError):
    """The exchange did not answer in time."""

    code = "upstream_timeout"
    status = 503


class BadResponse(UpstreamError):
    """The exchange answered with something we cannot use."""

    code = "bad_response"
    status = 503


class SubscriptionError(MarketCacheError):
    """A subscription that cannot be made or ended."""

    code = "subscription_error"
    status = 400


class NotSubscribable(SubscriptionError):
    """Not an endpoint one may subscribe to."""

    code = "not_subscribable"
    status = 404

    def __init__(self, name: str, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(f"{name!r} is not an endpoint to subscribe to; use one of the allowed")


class UnknownSubscription(SubscriptionError):
    """An unsubscribe that names no subscription of this connection."""

    code = "unknown_subscription"
    status = 404

    def __init__(self, subscription: str) -> None:
        super().__init__(f"no subscription {subscription!r} on this connection")


class DuplicateSubscription(SubscriptionError):
    """A subscription id already in use on this connection."""

    code = "duplicate_subscription"
    status = 409

    def __init__(self, subscription: str) -> None:
        super().__init__(f"subscription {subscription!r} exists already on this connection")


class TooManySubscriptions(SubscriptionError):
    """Past a subscription limit (per connection, per client address, distinct answers)."""

    code = "too_many_subscriptions"
    status = 429


class SubscriptionsOff(SubscriptionError):
    """Subscriptions are switched off (SUBSCRIPTIONS=false) or there is no cache to watch."""

    code = "subscriptions_off"
    status = 503

    def __init__(self) -> None:
        super().__init__("subscriptions are not served here; poll the HTTP endpoints")


class CacheError(MarketCacheError):
    """The cache could not produce a value."""

    code = "cache_error"
    status = 503


class LoadTimeout(CacheError):
    """A waiter's deadline passed before the load it waited for ended."""

    code = "load_timeout"
    status = 503

    def __init__(self, key: str, deadline: float) -> None:
        self.key = key
        self.deadline = deadline
        super().__init__(f"no answer within {deadline:g}s; the exchange is slow, retry shortly")

    @property
    def retry_after(self) -> float | None:
        return 1.0


class CacheOverloaded(CacheError):
    """Too many callers already wait on this key's load; refused at once instead of queued."""

    code = "cache_overloaded"
    status = 503

    def __init__(self, key: str, waiters: int) -> None:
        self.key = key
        self.waiters = waiters
        super().__init__("too many requests wait for the same data; retry shortly")

    @property
    def retry_after(self) -> float | None:
        return 1.0


class BackendUnavailable(CacheError):
    """A cache backend (Redis) is unreachable or too slow."""

    code = "backend_unavailable"
    status = 503
