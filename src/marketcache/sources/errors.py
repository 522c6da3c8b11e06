"""ccxt's (and aiohttp's, asyncio's) errors translated into ours at the source boundary.

    ccxt                                   marketcache
    DDoSProtection, RateLimitExceeded  →   RateLimited        (Binance 429 and 418)
    RequestTimeout                     →   UpstreamTimeout
    ExchangeNotAvailable with HTTP 451 →   RegionRefused      (an ExchangeUnavailable whose
                                                               message says what to do)
    OnMaintenance, ExchangeNotAvailable →  ExchangeUnavailable
    NetworkError (any other)           →   ExchangeUnavailable
    BadSymbol                          →   UnknownSymbol
    BadRequest (any other)             →   InvalidParameter   (the exchange rejects the request)
    BadResponse, NullResponse          →   BadResponse
    AuthenticationError, PermissionDenied, NotSupported
                                       →   ExchangeUnavailable (the exchange will not serve us)
    ExchangeError (any other)          →   BadResponse        (an error answer we cannot use,
                                                               parse failures included)
    BaseError (anything else of ccxt)  →   ExchangeUnavailable
    asyncio / aiohttp timeouts         →   UpstreamTimeout
    aiohttp client errors, OSError     →   ExchangeUnavailable
    TypeError, ValueError, KeyError…   →   BadResponse        (ccxt choked on a malformed body)

ccxt's exceptions are recognized by class name along the MRO (restricted to classes
defined in ccxt): they are ccxt's stable public error API, and this keeps
`sources.ccxt` the only module of the package that imports ccxt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from marketcache.errors import (
    BadResponse,
    ExchangeUnavailable,
    InvalidParameter,
    MarketCacheError,
    RateLimited,
    UnknownSymbol,
    UpstreamError,
    UpstreamTimeout,
)

# ccxt's text for an HTTP error: "<id> <method> <url> <status> <reason> <body>"
_HTTP_451 = re.compile(r"(?:^|\s)451\s")
# an exchange that refuses a region may have a sibling that serves it
REGIONAL_ALTERNATIVES = {"binance": "binanceus"}


class RegionRefused(ExchangeUnavailable):
    """The exchange refuses requests from where we are (HTTP 451)."""


def region_refused_message(exchange: str) -> str:
    """What a 451 from `exchange` means and what to do, in one line."""
    alternative = REGIONAL_ALTERNATIVES.get(exchange)
    instead = f"set EXCHANGE={alternative}" if alternative else "set EXCHANGE to another exchange"
    return (
        f"{exchange} refuses requests from this region (HTTP 451); {instead} or run with --offline"
    )


_RETRY_AFTER_TEXT = re.compile(r"retry[-_ ]?after\D{0,3}(\d+(?:\.\d+)?)", re.IGNORECASE)
_MAX_MESSAGE = 300


def _names(exc: BaseException, package: str) -> list[str]:
    """Names of the classes of `exc` defined in `package`, most specific first."""
    return [
        cls.__name__
        for cls in type(exc).__mro__
        if cls.__module__ == package or cls.__module__.startswith(package + ".")
    ]


def retry_after(headers: Mapping[str, str] | None, message: str = "") -> float | None:
    """Seconds from a `Retry-After` header (any case), else from the message; None if absent."""
    if headers:
        for name, value in headers.items():
            if name.lower() == "retry-after":
                try:
                    seconds = float(str(value).strip())
                except ValueError:
                    break  # an HTTP-date: not used by Binance; fall back to the message
                return seconds if seconds >= 0 else None
    match = _RETRY_AFTER_TEXT.search(message)
    return float(match.group(1)) if match else None


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "…"


def translate(
    exc: BaseException,
    headers: Mapping[str, str] | None = None,
    *,
    symbol: str | None = None,
) -> MarketCacheError:
    """The error of ours that `exc`, raised by a call to the exchange, stands for.

    `headers` are the last response headers (for `Retry-After`); `symbol` is the
    one the call was about (for `UnknownSymbol`).
    """
    if isinstance(exc, MarketCacheError):
        return exc
    message = _message(exc)
    ccxt_names = _names(exc, "ccxt")
    if ccxt_names:
        return _translate_ccxt(set(ccxt_names), message, headers, symbol)
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and aiohttp's timeouts
        return UpstreamTimeout(f"no answer in time: {message}")
    if _names(exc, "aiohttp") or isinstance(exc, OSError):
        return ExchangeUnavailable(f"cannot reach the exchange: {message}")
    return BadResponse(f"unusable answer ({type(exc).__name__}): {message}")


def _translate_ccxt(
    names: set[str], message: str, headers: Mapping[str, str] | None, symbol: str | None
) -> MarketCacheError:
    if names & {"DDoSProtection", "RateLimitExceeded"}:
        return RateLimited(message, retry_after=retry_after(headers, message))
    if "RequestTimeout" in names:
        return UpstreamTimeout(message)
    if "ExchangeNotAvailable" in names and _HTTP_451.search(message):
        return RegionRefused(message)
    if names & {"OnMaintenance", "ExchangeNotAvailable"}:
        return ExchangeUnavailable(message, retry_after=retry_after(headers, message))
    if "NetworkError" in names:
        return ExchangeUnavailable(message)
    if "BadSymbol" in names:
        return UnknownSymbol(symbol if symbol is not None else message)
    if "BadRequest" in names:
        return InvalidParameter("request", message)
    if "BadResponse" in names:  # NullResponse included
        return BadResponse(message)
    if names & {"AuthenticationError", "NotSupported"}:  # PermissionDenied included
        return ExchangeUnavailable(message)
    if "ExchangeError" in names:
        return BadResponse(message)
    return ExchangeUnavailable(message)


_PUBLIC_REASON = {
    "rate_limited": "rate limit reached",
    "exchange_unavailable": "unavailable",
    "upstream_timeout": "no answer in time",
    "bad_response": "an answer that could not be used",
}


def public(error: MarketCacheError, exchange: str, operation: str) -> MarketCacheError:
    """The same error with a message fit for clients: no upstream URL, body or HTML.

    Upstream errors carry the exchange's own text (URLs with parameters, gateway
    pages); that detail goes to the log, and clients get what happened in a line.
    Errors about the request itself keep their message.
    """
    if not isinstance(error, UpstreamError):
        return error
    if isinstance(error, RegionRefused):
        return RegionRefused(region_refused_message(exchange))
    reason = _PUBLIC_REASON.get(error.code, "failed")
    message = f"{exchange} {operation}: {reason}"
    if error.retry_after is not None:
        message += f"; retry after {error.retry_after:g}s"
    return type(error)(message, retry_after=error.retry_after)
