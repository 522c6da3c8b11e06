"""Fixtures for the source tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.sources.binance_stub import StubExchange, start_stub


@pytest.fixture
async def stub() -> AsyncIterator[StubExchange]:
    """A stub Binance that does not claim to be the emulator."""
    runner, stub = await start_stub({})
    yield stub
    stub.released.set()
    await runner.cleanup()


@pytest.fixture
async def emulator_like_stub() -> AsyncIterator[StubExchange]:
    """A stub Binance that marks its answers `X-Emulator: marketcache`."""
    runner, stub = await start_stub({"X-Emulator": "marketcache"})
    yield stub
    stub.released.set()
    await runner.cleanup()
