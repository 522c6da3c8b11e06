"""The dashboard in a real browser (Debian's Chromium through Playwright) on the real service.

The service runs as its own process against an emulator process the test controls,
so an exchange failure can be injected (POST /_emulator/faults) and its alert watched
for on the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    sync_playwright,
)

from marketcache.commands.service_process import ServiceProcess
from marketcache.emulator.process import EmulatorProcess
from tests.dashboard.browser import (
    DESKTOP,
    PHONE,
    chart_points,
    chart_thresholds,
    launch,
    refresh_now,
    refreshes,
    shown_fields,
    wait_for,
)
from tests.dashboard.traffic import Traffic

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

TOKEN = "dashboard-test-token"
START_TIMEOUT_S = 90.0  # a loaded machine imports ccxt slowly
WARM = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
COLD = ["ADA/USDT", "XRP/USDT", "DOGE/USDT", "LTC/USDT", "DOT/USDT", "LINK/USDT", "TRX/USDT"]
# The figures that do not move while no client asks anything: the page must show exactly
# what the test itself fetches (the others move with each request, the page's own included:
# those are compared with the very answers the page got).
STEADY = {
    "cache_health:status",
    "cache_health:active_alerts",
    "cache_health:metrics.hit_rate",
    "cache_health:metrics.lookups",
    "cache_health:metrics.stale_answers",
    "stats:cache_stats.hit_rate",
    "stats:cache_stats.entries",
    "stats:cache_stats.hits",
    "stats:cache_stats.misses",
    "stats:cache_stats.memory_mb",
    "stats:cache_stats.memory_usage_percent",
    "stats:cache_levels.l2.state",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    """The exchange, as a process of its own."""
    with EmulatorProcess(start_timeout=START_TIMEOUT_S) as process:
        yield process


@pytest.fixture(scope="module")
def service(emulator: EmulatorProcess) -> Iterator[ServiceProcess]:
    """`marketcache serve --exchange-url <emulator>` with an admin token."""
    args = ["--exchange-url", emulator.url]
    env = {"ADMIN_TOKEN": TOKEN}
    with ServiceProcess(args, env=env, start_timeout_s=START_TIMEOUT_S) as process:
        yield process


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the module."""
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go."""
    return tmp_path_factory.mktemp("dashboard")


HEALTH_PATHS = ("/health", "/cache/health")


class Recorded:
    """Every request a page made, its API answers by source, and its console errors."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.posts: list[Request] = []
        self.answers: dict[str, Response] = {}
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _request(self, request: Request) -> None:
        self.urls.append(request.url)
        if request.method == "POST":
            self.posts.append(request)

    def _response(self, response: Response) -> None:
        source = source_of(response.url)
        if source is not None:
            self.answers[source] = response

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "") if message.location else ""
        if "status of 503" in message.text and url.split("?")[0].endswith(HEALTH_PATHS):
            return  # an unhealthy service answers its health checks 503, as it should
        self.errors.append(f"console: {message.text}")

    def document(self, source: str) -> Any:
        """The last answer the page got from `source`, unwrapped like the page does."""
        body = self.answers[source].json()
        return body["data"] if source in ENVELOPED else body


ENVELOPED = {"stats", "performance", "trends", "markets", "recommendations", "limits"}


def source_of(url: str) -> str | None:
    """The page's name for the endpoint of `url` (see SOURCES in dashboard.js)."""
    parts = urlsplit(url)
    if parts.path == "/cache/performance":
        return "performance" if parse_qs(parts.query).get("hours") == ["1"] else "trends"
    return {
        "/health": "health",
        "/cache/health": "cache_health",
        "/cache/stats": "stats",
        "/cache/recommendations": "recommendations",
        "/dashboard/markets": "markets",
        "/dashboard/limits": "limits",
    }.get(parts.path)


def value_at(document: Any, path: str) -> Any:
    """`a.b.c` of a JSON document (None where it is absent)."""
    for key in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def shows(text: str, value: Any, kind: str) -> bool:
    """Whether `text` is how the page shows `value`."""
    if value is None:
        return text == "–"
    if kind == "bool":
        return text == ("yes" if value else "no")
    if kind == "text" or isinstance(value, bool) or not isinstance(value, int | float):
        return text == str(value)
    return float(text.replace(",", "")) == float(value)


def fetch_now(http: httpx.Client) -> dict[str, Any]:
    """/health, /cache/health and /cache/stats as the test sees them now."""
    return {
        "health": http.get("/health").json(),
        "cache_health": http.get("/cache/health").json(),
        "stats": http.get("/cache/stats").json()["data"],
    }


def open_page(browser: Browser, url: str, viewport: ViewportSize) -> tuple[Page, Recorded]:
    page = browser.new_page(viewport=viewport)
    recorded = Recorded(page)
    page.goto(f"{url}/dashboard")
    wait_for("two rendered polls", lambda: refreshes(page) >= 2, timeout_s=30)
    return page, recorded


def number(text: str) -> float:
    """A figure as the page writes it (`6,000`, `5,270.87`)."""
    return float(text.replace(",", ""))


def check_lists_and_derived(page: Page, recorded: Recorded) -> None:
    """Alerts, markets and recommendations are the answers' lists; derived figures add up."""
    health = recorded.document("cache_health")
    shown_alerts = page.eval_on_selector_all(
        "[data-alert]", "rows => rows.map(r => r.dataset.alert)"
    )
    assert shown_alerts == [a["name"] for a in health["alerts"]]
    markets = recorded.document("markets")["markets"]
    rows = page.eval_on_selector_all(
        "[data-market]", "rows => rows.map(r => [r.dataset.market, r.cells[1].textContent])"
    )
    assert [symbol for symbol, _ in rows] == [m["symbol"] for m in markets]
    for (_, price), market in zip(rows, markets, strict=True):
        assert number(price) == market["price"]
    advice = recorded.document("recommendations")["recommendations"]
    shown_advice = page.eval_on_selector_all(
        "[data-recommendation]", "items => items.map(i => i.dataset.recommendation)"
    )
    assert shown_advice == [r["id"] for r in advice]
    buckets = recorded.document("performance")["buckets"]
    assert number(page.inner_text("#weight-minute")) == buckets[-1]["upstream_weight"]
    limits = recorded.document("limits")
    assert number(page.inner_text("#weight-limit")) == limits["exchange"]["weight_limit_per_minute"]
    recent = buckets[-2:]
    rate = sum(b["requests"] for b in recent) / sum(b["seconds"] for b in recent)
    assert abs(number(page.inner_text("#rps")) - rate) <= 0.005 + 1e-9  # shown to 2 decimals


def compare_with_the_service(page: Page, recorded: Recorded, http: httpx.Client) -> int:
    """Refresh the paused page between two fetches of the test's own; compare; fields checked."""
    for _ in range(20):
        before = fetch_now(http)
        refresh_now(page)
        after = fetch_now(http)
        fields = shown_fields(page)
        # 1. every figure equals the answer the page got for it
        for item in fields:
            source, path = item["field"].split(":")
            expected = value_at(recorded.document(source), path)
            assert shows(item["text"], expected, item["format"]), (item, expected)
        check_lists_and_derived(page, recorded)
        # 2. and the steady ones equal what the test fetched at that moment
        steady = [f for f in fields if f["field"] in STEADY]
        assert {f["field"] for f in steady} == STEADY, "the page shows every steady figure"
        moved = [
            f["field"]
            for f in steady
            if value_at(before[f["field"].split(":")[0]], f["field"].split(":")[1])
            != value_at(after[f["field"].split(":")[0]], f["field"].split(":")[1])
        ]
        if moved:  # a background refresh or purge changed the cache meanwhile: again
            continue
        for item in steady:
            source, path = item["field"].split(":")
            assert shows(item["text"], value_at(before[source], path), item["format"]), item
        return len(fields)
    raise AssertionError("the cache never stayed still for one refresh of the page")


def test_the_dashboard_shows_the_service_live(
    service: ServiceProcess, emulator: EmulatorProcess, browser: Browser, out: Path
) -> None:
    http = httpx.Client(base_url=service.url, timeout=30)
    control = httpx.Client(base_url=emulator.url, timeout=10)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        warm = http.post("/cache/warm", json={"symbols": WARM}, headers=auth)
        assert warm.status_code == 200, warm.text
        with Traffic(service.url, WARM) as traffic:
            wait_for("some traffic", lambda: traffic.sent >= 60)
            page, recorded = open_page(browser, service.url, DESKTOP)
            wait_for("a market in the table", lambda: page.query_selector("[data-market]"))

            # a chart has data points
            points = wait_for("charts with points", lambda: chart_points(page) or None)
            assert points["hour.hit_rate"] >= 1, points
            assert points["hour.latency"] >= 1, points
            assert page.query_selector("[data-chart='hour.hit_rate'] canvas") is not None

            # the checklist's thresholds are drawn, across the whole span of each chart
            drawn = {
                key: [line["value"] for line in lines]
                for key, lines in chart_thresholds(page).items()
            }
            assert drawn["hour.hit_rate"] == drawn["trend.hit_rate"] == [70, 50]
            assert drawn["hour.memory"] == [80, 90]
            assert drawn["hour.error_rate"] == [5]
            assert drawn["hour.latency"] == drawn["trend.latency"] == [200]
            assert drawn["hour.weight"] == [6000, 4800]
            for lines in chart_thresholds(page).values():
                assert all(line["ends"] == [line["value"]] * 2 for line in lines), lines

            # the figures shown are the service's, at the same moment
            traffic.pause()
            page.click("#pause")
            compared = compare_with_the_service(page, recorded, http)
            assert compared >= 40
            hot = page.query_selector_all("[data-market]")
            assert {row.get_attribute("data-market") for row in hot} == set(WARM)
            page.screenshot(path=out / "dashboard-desktop.png", full_page=True)
            phone, phone_recorded = open_page(browser, service.url, PHONE)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], "nothing wider than the phone's screen"
            phone.screenshot(path=out / "dashboard-phone.png", full_page=True)
            phone.screenshot(path=out / "dashboard-phone-top.png")

            # an exchange failure fires an alert, and the page shows it within seconds
            page.click("#pause")  # resume polling
            faults = control.post("/_emulator/faults", json={"fault": "500", "ratio": 1.0})
            assert faults.status_code == 200, faults.text
            failing = iter(COLD * 100)

            def alert_row() -> Any:
                for _ in range(5):
                    http.post("/price", json={"symbol": next(failing)})
                return page.query_selector("[data-alert='error_rate_high']")

            row = wait_for("the error-rate alert on the page", alert_row, timeout_s=30)
            alert = next(
                a
                for a in http.get("/cache/health").json()["alerts"]
                if a["name"] == "error_rate_high"
            )
            assert row.query_selector("[data-col='since']").inner_text().startswith(alert["since"])
            threshold = row.query_selector("[data-col='threshold']").inner_text()
            assert threshold == f"{alert['threshold']:g} %"
            # the exchange fails but the cache still holds what the page showed: it serves
            wait_for(
                "the status to turn degraded",
                lambda: page.inner_text("#status") in ("degraded", "unhealthy"),
            )
            page.screenshot(path=out / "dashboard-alert.png", full_page=True)

        # the page loaded nothing from elsewhere
        for urls in (recorded.urls, phone_recorded.urls):
            assert urls
            outside = [u for u in urls if not u.startswith(service.url + "/")]
            assert outside == [], outside
        assert recorded.errors == []
        assert phone_recorded.errors == []
    finally:
        control.delete("/_emulator/faults")
        control.close()
        http.close()


def test_admin_actions_follow_the_api_rules(service: ServiceProcess, browser: Browser) -> None:
    page, recorded = open_page(browser, service.url, DESKTOP)
    rule = page.inner_text("#admin-rule")
    assert "ADMIN_TOKEN set" in rule

    def outcome(text: str) -> str:
        def shown() -> str | None:
            result = page.inner_text("#admin-result")
            return result if text in result else None

        return wait_for(f"{text!r} in the admin result", shown)

    page.fill("#warm-symbols", "BTC/USDT, NOPE/USDT")
    page.fill("#warm-timeframes", "15m")
    page.click("#warm")
    outcome("401 unauthorized")
    page.fill("#token", "not-the-token")
    page.click("#warm")
    outcome("403 forbidden")
    page.fill("#token", TOKEN)
    page.click("#warm")
    done = outcome("BTC/USDT: warmed")
    assert "NOPE/USDT: error" in done
    warms = [r for r in recorded.posts if r.url.endswith("/cache/warm")]
    assert len(warms) == 3
    assert "authorization" not in warms[0].headers
    assert warms[1].headers["authorization"] == "Bearer not-the-token"
    assert warms[2].headers["authorization"] == f"Bearer {TOKEN}"
    assert warms[2].post_data_json == {"symbols": ["BTC/USDT", "NOPE/USDT"], "timeframes": ["15m"]}
    assert warms[2].headers["content-type"] == "application/json"

    with httpx.Client(base_url=service.url, timeout=10) as http:
        assert http.get("/cache/stats").json()["data"]["cache_stats"]["entries"] > 0
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("#clear")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#clear")
        outcome("entries removed")
        clears = [r for r in recorded.posts if r.url.endswith("/cache/clear")]
        assert len(clears) == 1, "a dismissed confirmation sends nothing"
        assert http.get("/cache/stats").json()["data"]["cache_stats"]["entries"] == 0
    refused = [e for e in recorded.errors if "status of 401" in e or "status of 403" in e]
    assert recorded.errors == refused, recorded.errors
