"""The Refresh tab served by `panel serve`, driven in Chromium with every outside host blocked."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, AppPage, ServedApp, open_app_page

pytestmark = pytest.mark.ui

KEY = "FAKE-KEY-for-the-test-server-42"
PATH = "/data/2.5/weather"
IMG = "<img src=x onerror=alert(1)>"
BOLD = "<b>x</b>"
CITIES = ["San Francisco", "Fresno", "San Diego", BOLD, IMG]
TILE_HOST = "server.arcgisonline.com"  # EsriImagery, the default tiles

# The tab alone, as the full app builds it, with a quick client: no retries, 4 s read timeout.
ALONE_APP = textwrap.dedent(
    """
    import panel as pn

    from dashboards.config import AppConfig
    from dashboards.views.refresh.tab import RefreshTab
    from dashboards.views.settings import ViewerSettings
    from weather.http import HttpClient
    from weather.providers import get_provider

    pn.extension("tabulator", sizing_mode="stretch_width")
    config = AppConfig.from_env()
    provider = get_provider(config=config.client, http=HttpClient(read_timeout_s=4.0, retries=0))
    RefreshTab(provider=provider, cities=list(config.cities),
               settings=ViewerSettings(units=config.units), tiles=config.tiles).servable()
    """
)

# -- reading the page ---------------------------------------------------------------------------
TABLE_JS = """rows => rows.map(r => Object.fromEntries(
    Array.from(r.querySelectorAll('.tabulator-cell'))
        .map(c => [c.getAttribute('tabulator-field'), c.textContent])))"""
SHADOW_TEXT_JS = """e => Array.from(e.shadowRoot.children)
    .filter(c => !['STYLE', 'LINK'].includes(c.tagName)).map(c => c.innerText).join(' ')"""
VIEWS_JS = "Array.from(Bokeh.index.all_views())"
COLOUR_BARS_JS = f"""() => {VIEWS_JS}
    .filter(v => v.model.type === 'ColorBar').map(v => v.model.title)"""
POINTS_JS = f"""() => {{
    for (const v of {VIEWS_JS}) {{
        const data = v.model.data_source ? v.model.data_source.data : null
        if (v.model.type !== 'GlyphRenderer' || !data || !('value' in data)) continue
        const rect = v.plot_view.canvas_view.el.getBoundingClientRect()
        return Array.from(data.city).map(
            (city, i) => [city, rect.left + v.glyph.sx[i], rect.top + v.glyph.sy[i]])
    }}
    return []
}}"""
# Every element, in the page and in every shadow root, that a city name could have injected.
INJECTED_JS = """() => {
    const found = []
    const walk = root => {
        for (const el of root.querySelectorAll('*')) {
            const img = el.tagName === 'IMG' && el.getAttribute('src') === 'x'
            const bold = el.tagName === 'B' && el.textContent === 'x'
            if (img || bold || el.hasAttribute('onerror')) found.push(el.outerHTML)
            if (el.shadowRoot) walk(el.shadowRoot)
        }
    }
    walk(document)
    return found
}"""
DEEP_TEXT_JS = """() => {
    const parts = []
    const walk = root => {
        for (const el of root.querySelectorAll('*')) {
            if (el.shadowRoot) { parts.push(el.shadowRoot.textContent); walk(el.shadowRoot) }
        }
    }
    parts.push(document.body.textContent)
    walk(document)
    return parts.join(' ')
}"""


def table(page: Any) -> dict[str, dict[str, str]]:
    """The table's rows by city, as the browser shows them."""
    rows = page.locator(".tabulator-row").evaluate_all(TABLE_JS)
    return {row["city"]: row for row in rows if row.get("city")}


def statuses(page: Any) -> dict[str, str]:
    return {city: row["status"] for city, row in table(page).items()}


def colour_bar_titles(page: Any) -> list[str]:
    return page.evaluate(COLOUR_BARS_JS)


def map_cities(page: Any) -> list[str]:
    return [city for city, _, _ in page.evaluate(POINTS_JS)]


def hover(app_page: AppPage, city: str) -> str:
    """Move the mouse onto `city`'s point and return the tooltip's text."""
    page = app_page.page
    x, y = next((x, y) for name, x, y in page.evaluate(POINTS_JS) if name == city)
    page.mouse.move(x, y)
    tooltip = page.locator(".bk-Tooltip").filter(visible=True)
    text = lambda: tooltip.first.evaluate(SHADOW_TEXT_JS)  # noqa: E731
    app_page.wait_until(lambda: tooltip.count() and "City" in text(), message="the tooltip")
    return " ".join(text().split())


def message(page: Any) -> str:
    """The text of the tab's message (the alert's content lives in its shadow root)."""
    alert = page.locator(".alert").filter(visible=True)
    return alert.first.evaluate(SHADOW_TEXT_JS) if alert.count() else ""


def choose(page: Any, label: str) -> None:
    page.locator("select").filter(visible=True).filter(
        has=page.locator("option", has_text=label)).select_option(label=label)


def open_tab(context: Any, url: str, dialogs: list[str]) -> AppPage:
    context.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return open_app_page(context, url)


def wait_for_rows(app_page: AppPage, expected: dict[str, str], timeout_s: float = 15) -> None:
    app_page.wait_until(lambda: statuses(app_page.page) == expected, timeout_s,
                        f"table statuses {expected}")


FIRST = {"San Francisco": "ok", "Fresno": "ok", "San Diego": "ok", BOLD: "ok", IMG: "not found"}


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def upstream() -> Iterator[ProviderServer]:
    with ProviderServer(valid_keys={KEY}) as server:
        yield server


@pytest.fixture
def server(upstream: ProviderServer) -> ProviderServer:
    upstream.reset()
    upstream.valid_keys = {KEY}
    upstream.latency_s = 0.0
    # The fake provider knows a place called "<b>x</b>", so it is drawn and can be hovered.
    upstream.add_city(BOLD, 35.6, -118.6)
    return upstream


def openweather_env(server: ProviderServer, cities: list[str]) -> dict[str, str | None]:
    return {"WEATHER_PROVIDER": "openweather", "OPENWEATHER_API_KEY": KEY,
            "OPENWEATHER_BASE_URL": server.url, "WEATHER_CITIES": ";".join(cities),
            "WEATHER_UNITS": "imperial", "WEATHER_TILES": None, "WEATHER_DB": ":memory:"}


@pytest.fixture(scope="module")
def alone_app(tmp_path_factory: pytest.TempPathFactory,
              upstream: ProviderServer) -> Iterator[ServedApp]:
    path = Path(tmp_path_factory.mktemp("refresh")) / "refresh_tab.py"
    path.write_text(ALONE_APP)
    with ServedApp(path, env=openweather_env(upstream, CITIES)) as app:
        yield app


# -- tests --------------------------------------------------------------------------------------
def test_refresh_and_selector_update_map_and_table_while_tiles_fail(
        alone_app, server, browser_context, blocked_requests):
    """Test that with the default tiles blocked, data arrives, Refresh and the selector work."""
    dialogs: list[str] = []
    app_page = open_tab(browser_context, alone_app.url, dialogs)
    page = app_page.page
    wait_for_rows(app_page, FIRST)  # first paint: no click needed
    app_page.wait_until(lambda: TILE_HOST in blocked_requests.hosts(), message="tile requests")
    assert colour_bar_titles(page) == ["Temperature (°F)"]
    assert map_cities(page) == ["San Francisco", "Fresno", "San Diego", BOLD]
    before = server.count(PATH)

    server.set_fault("404", city="Fresno")
    page.get_by_role("button", name="Refresh").click()
    wait_for_rows(app_page, {**FIRST, "Fresno": "not found"})
    app_page.wait_until(lambda: map_cities(page) == ["San Francisco", "San Diego", BOLD],
                        message="Fresno off the map")
    assert server.count(PATH) == before + len(CITIES)
    assert "Fresno (not found)" in message(page)

    choose(page, "Humidity (%)")
    app_page.wait_until(lambda: colour_bar_titles(page) == ["Humidity (%)"],
                        message="the humidity colour bar")
    assert server.count(PATH) == before + len(CITIES)  # recoloured from memory
    assert dialogs == [] and page.evaluate(INJECTED_JS) == []
    assert app_page.errors == [], app_page.errors


def test_markup_names_and_a_timeout_are_shown_as_text_everywhere(
        alone_app, server, browser_context):
    """Test that HTML in names is literal in table, hover and messages, and nothing runs."""
    server.set_fault("timeout", city="San Diego")
    dialogs: list[str] = []
    app_page = open_tab(browser_context, alone_app.url, dialogs)
    page = app_page.page
    wait_for_rows(app_page, {**FIRST, "San Diego": "timeout"})
    assert {BOLD, IMG} <= set(table(page))
    app_page.wait_until(lambda: "San Diego (timeout)" in message(page), message="the message")
    assert f"{IMG} (not found)" in message(page)
    assert map_cities(page) == ["San Francisco", "Fresno", BOLD]
    assert f"City: {BOLD}" in hover(app_page, BOLD)

    page.get_by_placeholder("City name").fill("<img src=x onerror=alert(2)>")
    page.get_by_role("button", name="Add").click()
    app_page.wait_until(
        lambda: "No city called <img src=x onerror=alert(2)> was found" in message(page),
        message="the not-found message")
    assert len(table(page)) == len(CITIES)
    assert page.evaluate(INJECTED_JS) == []
    assert dialogs == []


def test_a_rejected_key_keeps_the_last_table_and_shows_no_key(alone_app, server, browser_context):
    """Test that an AuthError says so and leaves the last map and table in place."""
    app_page = open_tab(browser_context, alone_app.url, [])
    page = app_page.page
    wait_for_rows(app_page, FIRST)
    before = table(page)
    server.valid_keys = {"ANOTHER-KEY"}
    page.get_by_role("button", name="Refresh").click()
    app_page.wait_until(lambda: "rejected the API key" in message(page), message="auth message")
    after = table(page)
    # The values stay; each city that had them is marked stale with its age.
    assert {c: {**r, "status": ""} for c, r in after.items()} == {
        c: {**r, "status": ""} for c, r in before.items()}
    assert all(after[c]["status"].startswith("stale, ") for c, s in FIRST.items() if s == "ok")
    assert "marked stale" in message(page)
    assert map_cities(page) == ["San Francisco", "Fresno", "San Diego", BOLD]
    assert KEY not in page.evaluate(DEEP_TEXT_JS)


def test_ten_quick_clicks_make_one_fetch_and_the_page_stays_responsive(
        alone_app, server, browser_context):
    """Test that clicks during a slow fetch are ignored, while the selector still recolours."""
    app_page = open_tab(browser_context, alone_app.url, [])
    page = app_page.page
    wait_for_rows(app_page, FIRST)
    stamp = page.get_by_text("Refreshed").inner_text()
    before = server.count(PATH)
    server.latency_s = 2.0  # below the client's read timeout
    # Ten clicks at once, in the page itself: each one is sent to the server.
    page.get_by_role("button", name="Refresh").evaluate(
        "b => { for (let i = 0; i < 10; i++) b.click() }")
    choose(page, "Wind speed (mph)")
    app_page.wait_until(lambda: colour_bar_titles(page) == ["Wind speed (mph)"],
                        message="the wind colour bar during the fetch")
    # The fetch is still running, and the page says so beside a spinner.
    assert page.get_by_text(f"Refreshing {len(CITIES)} cities").count() == 1
    assert page.locator("svg[aria-label=loading]").count() == 1
    assert page.locator("svg[aria-label=loading]").evaluate(
        "s => s.getAnimations().map(a => a.playState)") == ["running"]
    app_page.wait_until(lambda: page.get_by_text("Refreshed").count() == 1 and
                        page.get_by_text("Refreshed").inner_text() != stamp,
                        timeout_s=10, message="the refresh to finish")
    assert page.locator("svg[aria-label=loading]").count() == 0
    assert server.count(PATH) == before + len(CITIES)


def test_full_app_refresh_tab_by_its_label(server, browser_context, blocked_requests):
    """Test the Refresh tab inside app.py: data, Refresh, the selector and the units switch."""
    cities = ["San Francisco", "Fresno"]
    with ServedApp(REPO_ROOT / "app.py", env=openweather_env(server, cities)) as app:
        app_page = open_tab(browser_context, app.url, [])
        page = app_page.page
        page.locator(".bk-tab", has_text="Refresh").click()
        wait_for_rows(app_page, dict.fromkeys(cities, "ok"))
        assert colour_bar_titles(page) == ["Temperature (°F)"]
        page.get_by_role("button", name="Refresh", exact=True).click()
        app_page.wait_until(lambda: page.get_by_text("Refreshed").count(), message="refreshed")
        choose(page, "Humidity (%)")
        app_page.wait_until(lambda: colour_bar_titles(page) == ["Humidity (%)"],
                            message="the humidity colour bar")
        page.get_by_role("button", name="°C · m/s").click()
        choose(page, "Wind speed (m/s)")
        app_page.wait_until(lambda: colour_bar_titles(page) == ["Wind speed (m/s)"],
                            message="the metric wind colour bar")
        # The table's columns are drawn again after the colour bar's update.
        headers = lambda: set(  # noqa: E731
            page.locator(".tabulator-col-title").filter(visible=True).all_inner_texts())
        app_page.wait_until(lambda: {"Temp (°C)", "Wind (m/s)", "Time (UTC)"} <= headers(),
                            message="the metric headers")
        # On a 1280 px screen with the side panel open, the table goes below the map rather
        # than past the page's right edge, where its last columns could not be seen.
        right = page.locator(".tabulator-col").filter(visible=True).evaluate_all(
            "cols => Math.max(...cols.map(c => c.getBoundingClientRect().right))")
        assert page.viewport_size["width"] == 1280
        assert right <= page.viewport_size["width"]
        app_page.wait_until(lambda: TILE_HOST in blocked_requests.hosts(),
                            message="tile requests")
