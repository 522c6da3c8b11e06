"""The app's lifespan: what runs once everything is built."""

from __future__ import annotations

from marketcache.api.app import create_app
from marketcache.clock import ManualClock
from marketcache.config import Settings
from tests.fakes import FakeSource


async def test_after_start_runs_once_when_everything_is_built() -> None:
    """The serve command freezes the garbage collector's start-up heap there."""
    clock = ManualClock(start=1_764_000_000.0)
    source = FakeSource(clock)
    seen: list[bool] = []
    app = create_app(
        Settings(_env_file=None),
        source_factory=lambda _s: source,
        clock=clock,
        after_start=lambda: seen.append(getattr(app.state, "runtime", None) is not None),
    )
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    try:
        assert seen == [True]  # once, with the runtime in place
    finally:
        await lifespan.__aexit__(None, None, None)
    assert seen == [True]
