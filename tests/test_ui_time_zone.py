"""The viewer's clock in a real browser: UTC by default, the browser's own zone on demand."""

from __future__ import annotations

import pytest

from testing.served import REPO_ROOT, ServedApp, open_app_page, temperature_points

pytestmark = pytest.mark.ui

ENV = {"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:", "WEATHER_TILES": "none"}
#: The text of every model that has one: status lines and legend are in shadow roots.
TEXTS_JS = """() => {
  const out = [];
  for (const doc of Bokeh.documents) for (const m of doc._all_models.values())
    if (typeof m.text === 'string') out.push(m.text);
  return out.join('\\n');
}"""
#: The time axis's title, as the Real Time tab's last plot draws it.
AXIS_TITLE_JS = """() => {
  for (const doc of Bokeh.documents) for (const m of doc._all_models.values())
    if (m.type === 'DatetimeAxis' && m.axis_label) return m.axis_label;
  return null;
}"""


@pytest.fixture
def india(playwright_browser):
    """A browser context in India's zone (UTC+05:30 all year, no daylight saving)."""
    context = playwright_browser.new_context(timezone_id="Asia/Kolkata",
                                             viewport={"width": 1400, "height": 900})
    context.set_default_timeout(120_000)
    yield context
    context.close()


def page_text(app_page) -> str:
    return app_page.page.evaluate(TEXTS_JS)


def test_the_local_clock_follows_the_browsers_zone_and_utc_comes_back(india):
    """Test that ?tz=local names the browser's zone on the axis, in the status lines and in
    the Refresh table, and that choosing UTC in the side panel goes back to UTC."""
    with ServedApp(REPO_ROOT / "app.py", env=ENV) as app:
        page = open_app_page(india, app.url + "?tz=local", timeout_s=90)
        page.wait_until(lambda: temperature_points(page.page) > 0, timeout_s=120,
                        message="a drawn plot")
        page.wait_until(lambda: page.page.evaluate(AXIS_TITLE_JS) == "Time (IST)",
                        timeout_s=60, message="the axis in IST")
        page.wait_until(lambda: "IST" in page_text(page) and "times in IST" in page_text(page),
                        timeout_s=60, message="the status and legend in IST")
        page.page.locator(".bk-tab", has_text="Refresh").click()
        headers = page.page.locator(".tabulator-col-title")
        page.wait_until(lambda: "Time (IST)" in headers.all_inner_texts(), timeout_s=60,
                        message="the table's times in IST")
        page.page.get_by_role("button", name="UTC", exact=True).click()
        page.wait_until(lambda: "Time (UTC)" in headers.all_inner_texts(), timeout_s=60,
                        message="the table's times in UTC again")
        page.page.locator(".bk-tab", has_text="Real Time").click()
        page.wait_until(lambda: page.page.evaluate(AXIS_TITLE_JS) == "Time (UTC)",
                        timeout_s=60, message="the axis in UTC again")
        page.wait_until(lambda: "times in UTC" in page_text(page)
                        and "IST" not in page_text(page), timeout_s=60,
                        message="the status and legend in UTC again")
        assert page.errors == []
