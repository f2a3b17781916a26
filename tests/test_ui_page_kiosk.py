"""The kiosk mode (a wall screen) in the served app: set from the address, read from afar."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.page.address import WINDOWS, AddressChoices, read_address
from dashboards.server.overview import WINDOWS_S
from testing.page_js import CANVAS_WIDTHS_JS, DRAWN_JS, TEXT_SIZES_JS
from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, ServedApp, open_app_page, record_outside_attempts

SCREEN = {"width": 1600, "height": 1000}
KEY = "FAKE-KEY-for-the-kiosk-tests-9"
AXIS_TEXT_PX_JS = """() => Bokeh.documents.flatMap(d => [...d._all_models.values()])
    .filter(m => m.type === 'LinearAxis' || m.type === 'DatetimeAxis')
    .map(m => parseFloat(m.major_label_text_font_size))"""
# All text of the page, shadow roots included, as the viewer reads it.
PAGE_TEXT_JS = f"""() => ({DRAWN_JS})().map(el => Array.from(el.childNodes)
    .filter(n => n.nodeType === 3).map(n => n.textContent).join('')).join(' ')"""
BODY_COLOUR_JS = "getComputedStyle(document.body).backgroundColor"


@pytest.fixture
def wall(playwright_browser: Any, blocked_requests: Any) -> Iterator[Any]:
    context = playwright_browser.new_context(viewport=SCREEN)
    context.set_default_timeout(120_000)
    record_outside_attempts(context, blocked_requests)
    yield context
    context.close()


def shown(page: Any, selector: str) -> bool:
    return any(page.locator(selector).evaluate_all(
        "els => els.map(e => e.checkVisibility() && e.getBoundingClientRect().width > 0)"))


def small_text(page: Any) -> list[tuple[str, float]]:
    """Text under 18 px, leaving out the map's toolbar icons and the tiles' fine print."""
    return [(text, size) for text, size, cls in page.evaluate(TEXT_SIZES_JS)
            if size < 18 and "bk-tool" not in cls and not text.startswith("Tiles ©")]


@pytest.mark.ui
def test_dark_kiosk_from_the_address_opens_refresh_with_its_cities_units_and_window(wall):
    """Test that ?kiosk&theme=dark&cities=...&units=metric&tab=refresh&window=24h shows no
    header and no side panel, opens the Refresh tab on those cities in °C, keeps the data
    source and the demo notice on screen in text of 18 px or more, and that the Real Time
    tab then shows the 24 h window, those cities and its status line, its plots at least
    85 % of the screen's width."""
    env = {"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:", "WEATHER_TILES": "none"}
    query = "?kiosk&theme=dark&cities=Fresno;San%20Diego&units=metric&tab=refresh&window=24h"
    with ServedApp(REPO_ROOT / "app.py", env=env) as app:
        app_page = open_app_page(wall, app.url + query, timeout_s=90)
        page = app_page.page
        rows = page.locator(".tabulator-row")
        app_page.wait_until(lambda: rows.count() == 2, timeout_s=60, message="two rows")
        assert sorted(rows.all_inner_texts())[0].startswith("Fresno")
        assert "San Diego" in sorted(rows.all_inner_texts())[1]
        headers = page.locator(".tabulator-col-title").filter(visible=True).all_inner_texts()
        assert "Temp (°C)" in headers
        assert not shown(page, "#header") and not shown(page, "#sidebar")
        text = page.evaluate(PAGE_TEXT_JS)
        assert "Demo data (simulated)" in text and "Simulated weather, not measured" in text
        red, green, blue = (int(v) for v in page.evaluate(BODY_COLOUR_JS)[4:-1].split(","))
        assert max(red, green, blue) < 80, "not the dark theme"
        assert small_text(page) == [], small_text(page)

        page.locator(".bk-tab", has_text="Real Time").click()
        app_page.wait_until(lambda: len(page.evaluate(CANVAS_WIDTHS_JS)) >= 3, timeout_s=60,
                            message="the Real Time plots")
        for width in page.evaluate(CANVAS_WIDTHS_JS):
            assert width >= 0.85 * SCREEN["width"]
        # The plots' own text, drawn on their canvases, is as large as the page's.
        assert min(page.evaluate(AXIS_TEXT_PX_JS)) >= 18
        active = page.locator(".bk-btn.bk-active").filter(visible=True).all_inner_texts()
        assert "24 h" in active
        # All three plots on the screen at once, with nothing to click in their way.
        bottoms = page.locator(".bk-Plot").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().bottom)")
        assert len(bottoms) == 3 and max(bottoms) <= SCREEN["height"], bottoms
        assert page.get_by_text("Download", exact=True).count() == 0
        app_page.wait_until(lambda: "updated" in page.evaluate(PAGE_TEXT_JS),
                            message="the status line")
        text = page.evaluate(PAGE_TEXT_JS)
        assert "Fresno" in text and "San Francisco" not in text
        assert small_text(page) == [], small_text(page)
        assert app_page.errors == [], app_page.errors


@pytest.mark.ui
def test_bad_address_values_are_named_on_the_page_and_the_credit_stays(wall):
    """Test that unknown units, tab, window and cities in a kiosk address are each named in a
    note on a working page (defaults used, no error page), and the provider's credit and the
    data source stay on screen."""
    with ProviderServer(valid_keys={KEY}) as upstream:
        env = {"WEATHER_PROVIDER": "openweather", "OPENWEATHER_API_KEY": KEY,
               "OPENWEATHER_BASE_URL": upstream.url, "WEATHER_CITIES": "Fresno;San Diego",
               "WEATHER_DB": ":memory:", "WEATHER_TILES": "none"}
        query = "?kiosk&units=kelvin&tab=forecast&window=3d&cities=Atlantis;<b>x</b>"
        with ServedApp(REPO_ROOT / "app.py", env=env) as app:
            app_page = open_app_page(wall, app.url + query, timeout_s=90)
            page = app_page.page
            app_page.wait_until(lambda: len(page.evaluate(CANVAS_WIDTHS_JS)) >= 3,
                                timeout_s=60, message="the Real Time plots")
            notes = ("units=kelvin was ignored", "tab=forecast was ignored",
                     "window=3d was ignored", "left out: Atlantis; <b>x</b>")
            # Panel shows a pane's text once its stylesheets have loaded.
            app_page.wait_until(lambda: all(n in page.evaluate(PAGE_TEXT_JS) for n in notes),
                                timeout_s=30, message=f"the notes {notes}")
            text = page.evaluate(PAGE_TEXT_JS)
            assert "Weather data by OpenWeather" in text
            assert "OpenWeather (live)" in text
            assert page.locator("b", has_text="x").count() == 0  # a name is text, not markup
            assert small_text(page) == [], small_text(page)
            assert app_page.errors == [], app_page.errors


def test_the_address_is_read_leniently_and_every_unusable_value_is_noted():
    """Test that the address's values are matched ignoring case and spacing, that cities
    outside the server's list, unknown values and an over-long list are each left out with a
    note, and that no argument gives the defaults."""
    known = ["San Francisco", "Fresno", "San Diego"]
    chosen = read_address({"kiosk": [b""], "cities": [b"fresno; san  diego;Atlantis"],
                           "units": [b"METRIC"], "tab": [b"refresh"], "window": [b"24h"]},
                          known)
    assert chosen.kiosk and chosen.cities == ("Fresno", "San Diego")
    assert (chosen.units, chosen.tab, chosen.window) == ("metric", 1, "24 h")
    assert chosen.notes == ("Not among this server's cities, left out: Atlantis.",)
    bad = read_address({"units": [b"kelvin"], "window": [b"3d"], "tab": [b"x"],
                        "cities": [b"x" * 3000]}, known)
    assert (bad.units, bad.window, bad.tab, bad.cities, bad.kiosk) == (
        None, None, None, None, False)
    assert len(bad.notes) == 4
    assert read_address({}, known) == AddressChoices()


def test_every_window_of_the_plots_can_be_chosen_in_the_address():
    """Test that each window the Real Time tab offers has its address value, and that the
    long windows are read as such."""
    assert sorted(WINDOWS.values()) == sorted(WINDOWS_S)
    for text, window in (("7d", "7 days"), ("30D", "30 days"), ("all", "All")):
        assert read_address({"window": [text.encode()]}, []).window == window
