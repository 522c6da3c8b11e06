"""Debian's Chromium driven by Playwright, and the helpers the browser test reads the page with.

The browser is /usr/bin/chromium (scripts/ensure-chromium.sh installs it); Playwright's
own browser download is never used. The page's Content-Security-Policy forbids eval,
so waits poll with `page.evaluate` (which the policy does not govern) or selectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import Browser, Page, Playwright, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}

T = TypeVar("T")


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (as root)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = 15.0) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def refreshes(page: Page) -> int:
    """How many polls the page has completed and rendered."""
    return int(page.evaluate("Number(document.body.dataset.refreshes)"))


def refresh_now(page: Page) -> None:
    """Click Refresh and wait until that poll is rendered."""
    wait_for("the page's running poll to end", lambda: idle(page) or None)
    before = refreshes(page)
    page.click("#refresh")
    wait_for("the page to render a new poll", lambda: refreshes(page) > before)


def idle(page: Page) -> bool:
    """Whether no poll of the page is running."""
    return bool(page.evaluate("window.MarketcacheDashboard.state.running === null"))


def shown_fields(page: Page) -> list[dict[str, Any]]:
    """Every figure the page shows from an endpoint: its field, format and text."""
    found: list[dict[str, Any]] = page.evaluate(
        """[...document.querySelectorAll('[data-field]')].map(el => ({
            field: el.dataset.field, format: el.dataset.format || 'number',
            text: el.textContent}))"""
    )
    return found


def chart_thresholds(page: Page) -> dict[str, list[dict[str, Any]]]:
    """Per chart, its threshold lines: label, value, and the values plotted at both ends."""
    found: dict[str, list[dict[str, Any]]] = dict(
        page.evaluate(
            """window.MarketcacheDashboard.charts().map(c => [c.spec.key,
                c.spec.lines.map((line, i) => ({...line, plotted: c.data[i + 1]}))
                  .filter(line => line.threshold)
                  .map(line => ({label: line.label, value: line.value,
                    ends: [line.plotted[0], line.plotted[line.plotted.length - 1]]}))])"""
        )
    )
    return found


def chart_points(page: Page) -> dict[str, int]:
    """Values drawn per chart (threshold lines not counted)."""
    points: dict[str, int] = dict(
        page.evaluate("window.MarketcacheDashboard.charts().map(c => [c.spec.key, c.points()])")
    )
    return points
