"""The Refresh tab's map in the served app: every city in view, whatever is added or switched."""

from __future__ import annotations

from typing import Any

import pytest

from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, AppPage, ServedApp, open_app_page

pytestmark = pytest.mark.ui

KEY = "FAKE-KEY-for-the-map-tests-7"
TILE_HOST = "server.arcgisonline.com"  # EsriImagery, the default tiles
CALIFORNIA = ["San Francisco", "Los Angeles", "Santa Barbara", "Sacramento", "Fresno",
              "San Diego", "San Luis Obispo"]
#: Pixels every point's centre keeps from the edges of the map's frame (a point's radius).
MARGIN_PX = 15

VIEWS_JS = "Array.from(Bokeh.index.all_views())"
# Each drawn point's city and whether its centre is inside the frame, `margin` px from the
# edges; and the ranges with the values the reset tool returns to.
MAP_JS = f"""margin => {{
    for (const v of {VIEWS_JS}) {{
        const data = v.model.data_source ? v.model.data_source.data : null
        if (v.model.type !== 'GlyphRenderer' || !data || !('value' in data)) continue
        const f = v.plot_view.frame.bbox
        const inside = (x, y) => x >= f.left + margin && x <= f.right - margin &&
                                 y >= f.top + margin && y <= f.bottom - margin
        const plot = v.plot_view.model
        const range = r => [r.start, r.end, r.reset_start, r.reset_end]
        return {{
            cities: Array.from(data.city),
            outside: Array.from(data.city).filter((c, i) => !inside(v.glyph.sx[i], v.glyph.sy[i])),
            x: range(plot.x_range), y: range(plot.y_range),
        }}
    }}
    return null
}}"""
# The screen box of each city name, measured with the font the map draws it in.
LABEL_BOXES_JS = f"""() => {{
    for (const v of {VIEWS_JS}) {{
        if (v.model.type !== 'GlyphRenderer' || v.model.glyph.type !== 'Text') continue
        const g = v.model.glyph, data = v.model.data_source.data
        const ctx = document.createElement('canvas').getContext('2d')
        ctx.font = `${{g.text_font_style.value}} ${{g.text_font_size.value}} ${{g.text_font.value}}`
        const height = parseFloat(g.text_font_size.value) * 1.2 + 2 * g.padding
        return Array.from(data.city).map((city, i) => {{
            const width = ctx.measureText(city).width + 2 * g.padding
            // Each name's offset and alignment: from its row, or the glyph's one for all.
            const own = (field, spec) => data[field] ? data[field][i] : g[spec].value
            const x = v.glyph.sx[i] + own('dx', 'x_offset')
            const y = v.glyph.sy[i] + own('dy', 'y_offset')
            const align = own('align', 'text_align'), baseline = own('baseline', 'text_baseline')
            const left = x - {{left: 0, center: width / 2, right: width}}[align]
            const top = y - {{top: 0, middle: height / 2, bottom: height}}[baseline]
            return [city, left, top, left + width, top + height]
        }})
    }}
    return null
}}"""


def shown_map(page: Any) -> dict[str, Any] | None:
    return page.evaluate(MAP_JS, MARGIN_PX)


def all_in_view(page: Any, cities: list[str]) -> bool:
    """True when the map draws exactly ``cities``, each inside the frame with a margin."""
    shown = shown_map(page)
    return bool(shown) and sorted(shown["cities"]) == sorted(cities) and not shown["outside"]


def overlapping_labels(page: Any) -> list[tuple[str, str]]:
    boxes = page.evaluate(LABEL_BOXES_JS) or []
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]


def expect_all_in_view(app_page: AppPage, cities: list[str], after: str) -> None:
    page = app_page.page
    try:
        app_page.wait_until(lambda: all_in_view(page, cities), timeout_s=30,
                            message=f"every city in view after {after}")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}: {shown_map(page)}") from None
    shown = shown_map(page)
    for start, end, reset_start, reset_end in (shown["x"], shown["y"]):
        assert start < end, f"an axis runs backwards after {after}: {shown}"
        assert reset_start < reset_end
    assert overlapping_labels(page) == [], f"names cover each other after {after}"


def add_city(app_page: AppPage, name: str) -> None:
    page = app_page.page
    page.get_by_placeholder("City name").fill(name)
    page.get_by_role("button", name="Add", exact=True).click()
    app_page.wait_until(lambda: page.get_by_text(f"Added {name}.").count() > 0, timeout_s=30,
                        message=f"{name} added")


def choose(page: Any, label: str) -> None:
    page.locator("select").filter(visible=True).filter(
        has=page.locator("option", has_text=label)).select_option(label=label)


@pytest.fixture(scope="module")
def upstream() -> Any:
    with ProviderServer(valid_keys={KEY}) as server:
        yield server


@pytest.mark.parametrize("tiles", [None, "none"], ids=["default-tiles", "no-tiles"])
def test_every_city_stays_in_view_through_adds_units_columns_reset_and_refresh(
        upstream: ProviderServer, browser_context, blocked_requests, tiles):
    """Test that after adding Paris and Tokyo to the California cities, switching to °C,
    another column, a pan then reset, a removal and a refresh, every city is drawn inside
    the map with a margin, no axis runs backwards and no two names cover each other; with
    the default tiles (unreachable) and with none."""
    env = {"WEATHER_PROVIDER": "openweather", "OPENWEATHER_API_KEY": KEY,
           "OPENWEATHER_BASE_URL": upstream.url, "WEATHER_CITIES": ";".join(CALIFORNIA),
           "WEATHER_UNITS": "imperial", "WEATHER_TILES": tiles, "WEATHER_DB": ":memory:"}
    with ServedApp(REPO_ROOT / "app.py", env=env) as app:
        app_page = open_app_page(browser_context, app.url, timeout_s=90)
        page = app_page.page
        page.set_viewport_size({"width": 1600, "height": 1000})
        page.locator(".bk-tab", has_text="Refresh").click()
        expect_all_in_view(app_page, CALIFORNIA, "the tab opened")

        add_city(app_page, "Paris")
        expect_all_in_view(app_page, [*CALIFORNIA, "Paris"], "adding Paris")
        add_city(app_page, "Tokyo")
        cities = [*CALIFORNIA, "Paris", "Tokyo"]
        expect_all_in_view(app_page, cities, "adding Tokyo")

        page.get_by_role("button", name="°C · m/s").click()
        expect_all_in_view(app_page, cities, "switching to °C")
        choose(page, "Humidity (%)")
        expect_all_in_view(app_page, cities, "choosing humidity")

        # Drag the map far away, then the reset tool brings every city back.
        box = page.locator(".bk-Canvas").filter(visible=True).last.bounding_box()
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.move(*centre)
        page.mouse.down()
        page.mouse.move(centre[0] + 400, centre[1] + 250, steps=8)
        page.mouse.up()
        app_page.wait_until(lambda: not all_in_view(page, cities), message="the map dragged")
        page.locator(".bk-tool-icon-reset").filter(visible=True).first.click()
        expect_all_in_view(app_page, cities, "the reset tool")

        page.locator("select[multiple]").filter(visible=True).select_option(["Tokyo"])
        page.get_by_role("button", name="Remove selected").click()
        expect_all_in_view(app_page, [*CALIFORNIA, "Paris"], "removing Tokyo")

        assert page.get_by_text("Refreshed").count() == 0
        page.get_by_role("button", name="Refresh", exact=True).click()
        app_page.wait_until(lambda: page.get_by_text("Refreshed").count() == 1, timeout_s=30,
                            message="the refresh")
        expect_all_in_view(app_page, [*CALIFORNIA, "Paris"], "a refresh")
        if tiles is None:
            app_page.wait_until(lambda: TILE_HOST in blocked_requests.hosts(),
                                message="tile requests")
        else:
            assert TILE_HOST not in blocked_requests.hosts()
        assert app_page.errors == [], app_page.errors
