"""City names holding markup, from every source, shown as text everywhere in the served app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, AppPage, ServedApp, open_app_page

pytestmark = pytest.mark.ui

#: From the setting: a name the geocoder knows, so it is drawn, listed and hovered.
SET = "<img src=x onerror=alert(1)>"
#: Typed by a viewer on the Refresh tab; the geocoder's answer carries the same markup back.
TYPED = "<svg onload=alert(2)>"
#: What a name could have made of the page, in the document and in every shadow root.
INJECTED_JS = """() => {
    const found = []
    const walk = root => {
        for (const el of root.querySelectorAll('*')) {
            if (['IMG', 'SVG'].includes(el.tagName.toUpperCase()) && (
                    el.getAttribute('src') === 'x' || el.hasAttribute('onload')))
                found.push(el.outerHTML)
            if (el.hasAttribute('onerror') || el.hasAttribute('onload')) found.push(el.outerHTML)
            if (el.shadowRoot) walk(el.shadowRoot)
        }
    }
    walk(document)
    return found
}"""
#: Every piece of text the page shows, shadow roots included.
DEEP_TEXT_JS = """() => {
    const parts = [document.body.innerText]
    const walk = root => {
        for (const el of root.querySelectorAll('*')) {
            if (el.shadowRoot) {
                for (const c of el.shadowRoot.children) if (c.innerText) parts.push(c.innerText)
                walk(el.shadowRoot)
            }
        }
    }
    walk(document)
    return parts.join('\\n')
}"""


@pytest.fixture
def upstream() -> Iterator[ProviderServer]:
    with ProviderServer() as server:
        server.add_city(SET, 36.0, -119.0)
        server.add_city(TYPED, 37.0, -120.0)
        yield server


def _open(context: Any, url: str, dialogs: list[str]) -> AppPage:
    context.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return open_app_page(context, url)


def test_markup_in_city_names_never_becomes_page_elements(upstream, browser_context):
    """Test that names from the setting, the geocoder and a viewer are literal text, unrun."""
    env = {"WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": upstream.url,
           "GEOCODING_BASE_URL": upstream.url, "WEATHER_CITIES": f"San Francisco;{SET};Fresno",
           "WEATHER_DB": ":memory:", "WEATHER_TILES": "none", "WEATHER_INTERVAL": "2"}
    dialogs: list[str] = []
    with ServedApp(REPO_ROOT / "app.py", env=env) as app:
        app_page = _open(browser_context, app.url, dialogs)
        page = app_page.page
        text = lambda: page.evaluate(DEEP_TEXT_JS)  # noqa: E731
        # The Real Time tab: its cities chooser, legend and per-city status lines.
        app_page.wait_until(lambda: text().count(SET) >= 3, timeout_s=60,
                            message="the name in the chooser, the legend and the status")
        assert page.evaluate(INJECTED_JS) == []

        page.locator(".bk-tab", has_text="Refresh").click()
        app_page.wait_until(lambda: page.locator(".tabulator-row", has_text=SET).count() == 1,
                            timeout_s=60, message="the name in the table")
        page.get_by_placeholder("City name").fill(TYPED)
        page.get_by_role("button", name="Add").click()
        app_page.wait_until(lambda: page.locator(".tabulator-row", has_text=TYPED).count() == 1,
                            timeout_s=60, message="the typed name in the table")
        assert TYPED in text()
        assert page.evaluate(INJECTED_JS) == []
    assert dialogs == []
