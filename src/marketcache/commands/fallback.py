"""The start-up probe of `serve --fallback-offline`: can the exchange be reached now?"""

from __future__ import annotations

import asyncio

from marketcache.config import Settings
from marketcache.errors import MarketCacheError

PROBE_TIMEOUT_S = 5.0  # at most; EXCHANGE_TIMEOUT_S when that is shorter


async def _probe(settings: Settings, timeout_s: float) -> str | None:
    from marketcache.sources.ccxt import CcxtSource

    source = CcxtSource(settings.exchange, base_url=settings.exchange_url, timeout_s=timeout_s)
    try:
        # ccxt's own timeout covers the request; this one covers a name lookup that hangs
        await asyncio.wait_for(source.fetch_time(), timeout_s + 1.0)
    except TimeoutError:
        return f"{settings.exchange} ping: no answer in {timeout_s:g}s"
    except MarketCacheError as exc:
        return exc.message
    finally:
        await source.close()
    return None


def unreachable_reason(settings: Settings) -> str | None:
    """None when the exchange tells its time within the probe's timeout; else why not."""
    timeout_s = min(PROBE_TIMEOUT_S, settings.exchange_timeout_s)
    return asyncio.run(_probe(settings, timeout_s))
