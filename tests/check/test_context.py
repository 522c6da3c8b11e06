"""Cold keys: never a key this run already asked."""

from __future__ import annotations

from marketcache.check.client import Ledger, ServiceClient
from marketcache.check.context import ANALYSIS, CVD, PRICE, RunConfig, RunContext


async def test_fresh_keys_avoid_everything_already_asked() -> None:
    config = RunConfig(symbols=("BTC/USDT", "ETH/USDT"), cold_symbols=("BNB/USDT", "BTC/USDT"))
    async with ServiceClient("http://127.0.0.1:9", ledger=Ledger()) as client:
        ctx = RunContext(config=config, client=client, ledger=Ledger())
        ctx.used_pairs |= {("BTC/USDT", "1m"), ("ETH/USDT", "15m")}
        ctx.used_price_symbols.add("BNB/USDT")
        analysis = ctx.fresh_keys(ANALYSIS, 3)
        assert analysis == [("ETH/USDT", "1m"), ("BTC/USDT", "3m"), ("ETH/USDT", "3m")]
        assert all(frame != config.timeframe for _, frame in analysis)
        ctx.used_pairs |= set(analysis)
        assert not set(ctx.fresh_keys(CVD, 4)) & ctx.used_pairs
        # BTC and ETH are in used pairs (raw series may hold their ticker), BNB was priced
        assert ctx.fresh_keys(PRICE, 5) == []
