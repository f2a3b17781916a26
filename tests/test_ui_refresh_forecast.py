"""The Refresh tab's next 24 h high and low in the served app, seen in Chromium (desktop, phone)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, AppPage, ServedApp, open_app_page

pytestmark = pytest.mark.ui

KEY = "FAKE-KEY-for-the-forecast-test-7"
CITIES = ["San Francisco", "Fresno", "San Diego"]
ADDED = "Tromsø"  # known to the test server, not among the server's cities
TABLE_JS = """rows => rows.map(r => Object.fromEntries(
    Array.from(r.querySelectorAll('.tabulator-cell'))
        .map(c => [c.getAttribute('tabulator-field'), c.textContent])))"""


def table(page: Any) -> dict[str, dict[str, str]]:
    """The table's rows by city, as the browser shows them."""
    rows = page.locator(".tabulator-row").evaluate_all(TABLE_JS)
    return {row["city"]: row for row in rows if row.get("city")}


def number(text: str | None) -> float:
    try:
        return float(text or "")
    except ValueError:
        return math.nan


def filled(page: Any, cities: list[str]) -> bool:
    """Every city has a row whose high and low are numbers, the high not below the low."""
    rows = table(page)
    return set(cities) <= set(rows) and all(
        number(rows[c].get("high")) >= number(rows[c].get("low")) for c in cities)


def test_every_city_shows_its_next_24_h_high_and_low(browser_context):
    """Test that in the served app the Refresh table shows a high and a low for each server
    city (from the shared poll) and for a city the viewer adds (fetched by its Refresh),
    under a header naming the quantity and unit, which follows the column and units."""
    with ProviderServer(valid_keys={KEY}) as upstream, ServedApp(REPO_ROOT / "app.py", env={
            "WEATHER_PROVIDER": "openweather", "OPENWEATHER_API_KEY": KEY,
            "OPENWEATHER_BASE_URL": upstream.url, "WEATHER_CITIES": ";".join(CITIES),
            "WEATHER_UNITS": "imperial", "WEATHER_TILES": "none",
            "WEATHER_DB": ":memory:"}) as app:
        app_page: AppPage = open_app_page(browser_context, app.url)
        page = app_page.page
        # The shared forecast poll starts with the first page: one request per city.
        assert upstream.wait_for_count(len(CITIES), "/data/2.5/forecast", timeout_s=30)
        page.locator(".bk-tab", has_text="Refresh").click()
        app_page.wait_until(lambda: set(CITIES) <= set(table(page)), 30, "the table")

        page.get_by_placeholder("City name").fill(ADDED)
        page.get_by_role("button", name="Add").click()
        app_page.wait_until(lambda: ADDED in table(page), 30, f"{ADDED} in the table")
        refresh = page.get_by_role("button", name="Refresh", exact=True)

        def everything_filled() -> bool:
            # The tab reads the shared forecast when it draws: a poll that ended after the
            # tab was drawn shows with the next Refresh (a click during one is ignored).
            if filled(page, [*CITIES, ADDED]):
                return True
            refresh.click()
            return False

        app_page.wait_until(everything_filled, 30, "a high and a low for every city")
        headers = page.locator(".tabulator-col-title").filter(visible=True).all_inner_texts()
        assert {"Next 24 h temp (°F)", "High", "Low"} <= {" ".join(h.split()) for h in headers}
        # One forecast request per server city (the poll) and those for the added city only.
        added = [r for r in upstream.requests
                 if r.path == "/data/2.5/forecast" and r.query.get("q") == ADDED]
        assert len(added) >= 1
        assert sum(r.path == "/data/2.5/forecast" for r in upstream.requests) == len(
            CITIES) + len(added)

        page.get_by_role("button", name="°C · m/s").click()
        page.get_by_label("Colour by").select_option(label="Wind speed (m/s)")
        app_page.wait_until(
            lambda: "Next 24 h wind (m/s)" in [" ".join(h.split()) for h in page.locator(
                ".tabulator-col-title").all_inner_texts()], 30, "the wind header")
        app_page.wait_until(lambda: filled(page, [*CITIES, ADDED]), 30, "wind high and low")
        assert app_page.errors == [], app_page.errors


# The right edge of each visible column header and of the table's own box.
HEADER_EDGES_JS = """t => ({
    box: t.getBoundingClientRect().right,
    cols: Object.fromEntries(Array.from(t.querySelectorAll('.tabulator-col[tabulator-field]'))
        .filter(c => c.getBoundingClientRect().width > 0)
        .map(c => [c.getAttribute('tabulator-field'), c.getBoundingClientRect().right])),
})"""


def test_a_phone_sees_city_value_high_and_low_without_swiping(playwright_browser):
    """Test that at 390 × 844 the table shows the city, the chosen quantity and its high and
    low within the screen, leaving out the other quantities and the time, and that choosing
    another column shows that one instead."""
    context = playwright_browser.new_context(viewport={"width": 390, "height": 844},
                                             is_mobile=True, has_touch=True)
    try:
        with ServedApp(REPO_ROOT / "app.py", env={
                "WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:",
                "WEATHER_TILES": "none"}) as app:
            app_page = open_app_page(context, app.url, timeout_s=90)
            page = app_page.page
            page.locator(".bk-tab", has_text="Refresh").click()
            app_page.wait_until(lambda: page.locator(".tabulator-row").count() >= 7, 60,
                                "the table")
            table_el = page.locator(".tabulator").first

            def shown() -> set[str]:
                edges = table_el.evaluate(HEADER_EDGES_JS)
                return {f for f, right in edges["cols"].items() if right <= edges["box"] + 1}

            app_page.wait_until(
                lambda: {"city", "temperature", "high", "low"} <= shown(), 30,
                "city, temperature, high and low on screen")
            assert not {"humidity", "wind_speed", "time"} & shown()
            page.get_by_label("Colour by").select_option(label="Wind speed (mph)")
            app_page.wait_until(lambda: {"city", "wind_speed", "high", "low"} <= shown()
                                and "temperature" not in shown(), 30, "the wind column")
            assert app_page.errors == [], app_page.errors
    finally:
        context.close()
