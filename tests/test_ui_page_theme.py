"""The dark theme in the served app: every part of the Refresh tab dark, its text readable."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from testing.served import REPO_ROOT, ServedApp, open_app_page

pytestmark = pytest.mark.ui

# For each part: the colour behind it (its own and its ancestors' backgrounds, across shadow
# roots, laid over each other down to the first opaque one) and its text colour, as RGB 0-1.
COLOURS_JS = """() => {
    const rgba = text => {
        const [r, g, b, a] = text.match(/[\\d.]+/g).map(Number)
        return [r / 255, g / 255, b / 255, a === undefined ? 1 : a]
    }
    const behind = el => {
        const layers = []
        for (let e = el; e; e = e.parentElement || (e.getRootNode().host || null)) {
            const c = rgba(getComputedStyle(e).backgroundColor)
            if (c[3] > 0) layers.push(c)
            if (c[3] >= 1) break
        }
        let colour = [1, 1, 1]  // the browser's canvas, under everything
        for (const [r, g, b, a] of layers.reverse())
            colour = [r * a + colour[0] * (1 - a), g * a + colour[1] * (1 - a),
                      b * a + colour[2] * (1 - a)]
        return colour
    }
    const all = []
    const walk = root => {
        for (const el of root.querySelectorAll('*')) {
            all.push(el)
            if (el.shadowRoot) walk(el.shadowRoot)
        }
    }
    walk(document)
    const shown = all.filter(el => el.getBoundingClientRect().width > 0)
    const ownText = el => Array.from(el.childNodes).filter(n => n.nodeType === 3)
        .map(n => n.textContent).join('').trim()
    const parts = {
        'table cell': shown.filter(el => el.classList.contains('tabulator-cell')),
        'table header': shown.filter(el => el.classList.contains('tabulator-col-title')),
        'city list': shown.filter(el => el.tagName === 'SELECT' && el.multiple),
        'remove button': shown.filter(el => el.tagName === 'BUTTON' &&
                                            el.textContent.includes('Remove selected')),
        'add box': shown.filter(el => el.tagName === 'INPUT' &&
                                      (el.placeholder || '').startsWith('City name')),
        'tile credit': shown.filter(el => ownText(el).startsWith('Tiles ©')),
    }
    return Object.fromEntries(Object.entries(parts).map(([name, els]) => [name, els.map(
        el => ({background: behind(el), text: rgba(getComputedStyle(el).color).slice(0, 3)}))]))
}"""


def luminance(rgb: list[float]) -> float:
    """Relative luminance (WCAG 2), 0 for black to 1 for white."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: list[float], b: list[float]) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def part_colours(page: Any) -> dict[str, list[dict[str, list[float]]]]:
    return page.evaluate(COLOURS_JS)


def test_dark_theme_refresh_tab_has_no_white_parts_and_readable_text(
        browser_context, blocked_requests):
    """Test that in ?theme=dark the table, the city list, its Remove button, the add box and
    the tile credit (default tiles, unreachable) are drawn on dark backgrounds, each with
    text that contrasts at least 4.5:1 (WCAG AA)."""
    env = {"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:", "WEATHER_TILES": None}
    with ServedApp(REPO_ROOT / "app.py", env=env) as app:
        app_page = open_app_page(browser_context, app.url + "?theme=dark", timeout_s=90)
        page = app_page.page
        page.set_viewport_size({"width": 1600, "height": 1000})
        page.locator(".bk-tab", has_text="Refresh").click()
        # A part not drawn in time is named below, after the colours of those drawn.
        with contextlib.suppress(TimeoutError):
            app_page.wait_until(lambda: all(part_colours(page).values()), timeout_s=60,
                                message="every part of the Refresh tab drawn")
        drawn = part_colours(page)
        for name, found in drawn.items():
            for colours in found:
                assert luminance(colours["background"]) < 0.1, (name, colours)
                assert contrast(colours["background"], colours["text"]) >= 4.5, (name, colours)
        assert [name for name, found in drawn.items() if not found] == []
