"""The served page on a phone (390 × 844, touch, mobile viewport rules) in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testing.page_js import CANVAS_WIDTHS_JS, DRAWN_JS, TEXT_SIZES_JS
from testing.served import REPO_ROOT, ServedApp, open_app_page, record_outside_attempts

pytestmark = pytest.mark.ui

PHONE = {"width": 390, "height": 844}
# The page's width against the screen's, and what sticks out past the right edge.
WIDTH_JS = f"""() => {{
    const clipped = el => {{  // inside a box that scrolls or clips on its own
        for (let e = el.parentElement || el.getRootNode().host; e;
             e = e.parentElement || e.getRootNode().host) {{
            const style = getComputedStyle(e)
            if (style.overflowX !== 'visible' && e.id !== 'main' && e.id !== 'content' &&
                e.getBoundingClientRect().right <= innerWidth + 1) return true
        }}
        return false
    }}
    const out = ({DRAWN_JS})().filter(el => el.getBoundingClientRect().right > innerWidth + 1)
        .filter(el => !clipped(el))
    return {{inner: innerWidth, scroll: document.documentElement.scrollWidth,
             main: document.getElementById('main').scrollWidth,
             mainClient: document.getElementById('main').clientWidth,
             out: out.map(el => `${{el.tagName}}.${{el.className}}`).slice(0, 10)}}
}}"""
# The size of each piece of text drawn, with what it says.
# How many of the matched elements can be seen: the topmost element at their centre, through
# shadow roots, is the element or inside it (not clipped away nor covered).
ON_SCREEN_JS = """els => els.filter(el => {
    const box = el.getBoundingClientRect()
    const x = box.left + box.width / 2, y = box.top + box.height / 2
    if (!box.width || x < 0 || x > innerWidth || y < 0 || y > innerHeight) return false
    let hit = document.elementFromPoint(x, y)
    while (hit && hit.shadowRoot) {
        const inner = hit.shadowRoot.elementFromPoint(x, y)
        if (!inner || inner === hit) break
        hit = inner
    }
    for (let e = hit; e; e = e.parentElement || e.getRootNode().host) if (e === el) return true
    return false
}).length"""


@pytest.fixture
def phone(playwright_browser: Any, blocked_requests: Any) -> Iterator[Any]:
    """A browser context that lays pages out as a phone does (viewport meta tag obeyed)."""
    context = playwright_browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                             device_scale_factor=2)
    context.set_default_timeout(120_000)
    record_outside_attempts(context, blocked_requests)
    yield context
    context.close()


def sidebar_width(page: Any) -> float:
    return page.locator("#sidebar").evaluate("e => e.getBoundingClientRect().width")


def assert_fits(page: Any, where: str) -> None:
    widths = page.evaluate(WIDTH_JS)
    assert widths["inner"] == PHONE["width"], f"laid out wider than the phone ({where})"
    assert widths["scroll"] <= widths["inner"], (where, widths)
    assert widths["out"] == [], (where, widths)


def test_phone_layout_closed_side_panel_no_sideways_scroll_readable_text(phone):
    """Test that at 390 × 844 the page is laid out at the phone's width (viewport meta tag),
    the side panel starts closed and opens from the header, nothing sticks out sideways,
    the plots and the map span the screen, the Refresh controls wrap, the text of the page
    and the Refresh tab is at least 14 px, and the data source and demo notice are shown."""
    env = {"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:", "WEATHER_TILES": "none"}
    with ServedApp(REPO_ROOT / "app.py", env=env) as app:
        app_page = open_app_page(phone, app.url, timeout_s=90)
        page = app_page.page
        app_page.wait_until(lambda: len(page.evaluate(CANVAS_WIDTHS_JS)) >= 3, timeout_s=60,
                            message="the Real Time plots")
        assert page.evaluate("innerWidth") == PHONE["width"]
        assert sidebar_width(page) < 2
        for text in ("Demo data (simulated)", "Simulated weather, not measured"):
            assert page.get_by_text(text).evaluate_all(ON_SCREEN_JS) == 1, text
        assert_fits(page, "Real Time tab")
        for width in page.evaluate(CANVAS_WIDTHS_JS):
            assert width >= 0.85 * PHONE["width"], "a plot narrower than the screen"

        page.locator(".bk-tab", has_text="Refresh").click()
        app_page.wait_until(lambda: page.locator(".tabulator-row").count() >= 7, timeout_s=60,
                            message="the Refresh table")
        app_page.wait_until(lambda: len(page.evaluate(CANVAS_WIDTHS_JS)) >= 1,
                            message="the map")
        assert_fits(page, "Refresh tab")
        for width in page.evaluate(CANVAS_WIDTHS_JS):
            assert width >= 0.85 * PHONE["width"], "the map narrower than the screen"
        small = [(text, size) for text, size, cls in page.evaluate(TEXT_SIZES_JS)
                 if size < 14 and "bk-tool" not in cls and not text.startswith("Tiles ©")]
        assert small == [], small

        page.locator("#sidebar-button").click()
        app_page.wait_until(lambda: sidebar_width(page) > 250, message="the side panel open")
        page.locator("#sidebar-button").click()
        app_page.wait_until(lambda: sidebar_width(page) < 2, message="the side panel closed")
        assert app_page.errors == [], app_page.errors
