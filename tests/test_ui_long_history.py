"""Days of history in a real browser: screen resolution, a zoom drawn finer, the forecast."""

from __future__ import annotations

import pytest

from dashboards.config import DEFAULT_CITIES
from testing.served import REPO_ROOT, ServedApp, open_app_page
from tests.test_cli_history import run_cli

pytestmark = pytest.mark.ui

DAYS = 3
STEP_S = 30

#: Per layer of the temperature plot, each city's points and its first and last time.
LAYERS_JS = """() => {
  const get = (m, k) => (m.data instanceof Map ? m.data.get(k) : m.data[k]);
  const out = {};
  for (const doc of Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (m.type === 'ColumnDataSource' && m.name &&
          (m.name.endsWith('-temperature') || m.name === 'realtime-forecast')) {
        const xs = get(m, 'xs'), cities = get(m, 'city');
        out[m.name] = {};
        for (let i = 0; i < xs.length; i++) {
          out[m.name][cities[i]] = {n: xs[i].length, first: xs[i][0], last: xs[i][xs[i].length - 1],
                                    times: Array.from(xs[i])};
        }
      }
      if (m.type === 'GlyphRenderer' && m.name === 'forecast') {
        out.dashes = (out.dashes || []).concat([String(m.glyph.line_dash)]);
      }
      if (m.type === 'Plot' && m.left.length && String(m.left[0].axis_label).startsWith('Temp')) {
        out.range = [m.x_range.start, m.x_range.end];
      }
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def three_days(tmp_path_factory):
    """A history file with three days of 30-second demo polls of the default cities."""
    db_path = tmp_path_factory.mktemp("long") / "history.sqlite3"
    env = {"WEATHER_PROVIDER": "demo", "WEATHER_DB": str(db_path),
           "WEATHER_INTERVAL": str(STEP_S)}
    result = run_cli("backfill", "--days", str(DAYS), env=env)
    assert result.returncode == 0, result.stderr
    return env


def layers(page) -> dict:
    return page.evaluate(LAYERS_JS)


def test_days_arrive_at_screen_resolution_with_a_dashed_forecast_per_city(three_days,
                                                                          browser_context):
    """Test that three days of 30-second polls reach the page as at most 1,500 points per
    line, every city's line spanning the three days, and that every city has a dashed
    forecast line running on after now."""
    with ServedApp(REPO_ROOT / "app.py", env=three_days) as app:
        page = open_app_page(browser_context, app.url, timeout_s=90)
        overview = "realtime-overview-temperature"
        page.wait_until(lambda: len(layers(page.page).get(overview, {})) == len(DEFAULT_CITIES),
                        timeout_s=120, message="an overview line per city")
        drawn = layers(page.page)
        for city, line in drawn[overview].items():
            assert 1000 <= line["n"] <= 1500, city
            assert line["last"] - line["first"] >= (DAYS - 0.1) * 86_400_000, city
        page.wait_until(
            lambda: len(layers(page.page).get("realtime-forecast", {}))
            == len(DEFAULT_CITIES), timeout_s=120, message="a forecast line per city")
        drawn = layers(page.page)
        for city, line in drawn["realtime-forecast"].items():
            assert line["n"] >= 40, city
            assert line["last"] - drawn[overview][city]["last"] >= 40 * 3_600_000, city
        assert len(drawn["dashes"]) == 3 and all(d not in ("solid", "") for d in drawn["dashes"])
        # A window chosen on the page: 24 hours before the newest reading, 48 after.
        page.page.get_by_role("button", name="24 h", exact=True).click()

        def shown_hours() -> float:
            start, end = layers(page.page)["range"]
            return (end - start) / 3_600_000 if start == start and end == end else 0.0

        page.wait_until(lambda: 70 <= shown_hours() <= 74, timeout_s=60,
                        message="the 24 h window and the forecast on the time axis")
        assert page.errors == []


def test_a_box_zoom_in_the_browser_draws_every_reading_of_the_range(three_days,
                                                                    browser_context):
    """Test that zooming the temperature plot to a short range with the box zoom tool gets
    each 30-second reading of that range drawn, once the zooming stops."""
    with ServedApp(REPO_ROOT / "app.py", env=three_days) as app:
        page = open_app_page(browser_context, app.url + "?window=all", timeout_s=90)
        overview = "realtime-overview-temperature"
        page.wait_until(lambda: len(layers(page.page).get(overview, {})) == len(DEFAULT_CITIES),
                        timeout_s=120, message="an overview line per city")
        box = page.page.locator(".bk-Plot canvas").first.bounding_box()
        page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.page.locator('[title^="Box Zoom"]').first.click()
        y = box["y"] + box["height"] / 2
        left = box["x"] + box["width"] * 0.50
        page.page.mouse.move(left, y - 5)
        page.page.mouse.down()
        page.page.mouse.move(left + box["width"] * 0.03, y + 5, steps=5)
        page.page.mouse.up()

        def readings_in_range() -> int:
            drawn = layers(page.page)
            start, end = drawn["range"]
            times = drawn[overview]["Fresno"]["times"]
            return sum(start <= t <= end for t in times), (end - start) / (STEP_S * 1000)

        page.wait_until(lambda: readings_in_range()[0] >= 0.9 * readings_in_range()[1],
                        timeout_s=60, message="every reading of the zoomed range")
        count, expected = readings_in_range()
        assert count <= expected + 2
        assert page.errors == []
