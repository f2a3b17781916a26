"""The whole page as people run it: `panel serve app.py` in offline Chromium."""

from __future__ import annotations

import re

import pytest

from testing.provider_server import ProviderServer
from testing.served import ServedApp, free_port, open_app_page, temperature_points, wait_until

pytestmark = pytest.mark.ui

FAKE_KEY = "SECRET-KEY-0123456789abcdef"  # recognisable, so any leak is found
# Console noise that only says an outside host (map tiles, web fonts) could not be reached.
OUTSIDE_HOST_NOISE = re.compile(
    r"ERR_FAILED|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|unable to load|"
    r"without a cross origin policy|Failed to load resource|allowHTML|GL Driver|GPU stall"
)


def open_page(context, url):
    return open_app_page(context, url, timeout_s=90)


def real_errors(app) -> list[str]:
    """Console errors and page errors that are not about unreachable outside hosts."""
    messages = [text for kind, text in app.console if kind == "error"] + app.errors
    return [m for m in messages if not OUTSIDE_HOST_NOISE.search(m)]


def test_api_key_appears_nowhere_the_user_or_a_log_can_see(
    provider_server, browser_context, tmp_path
):
    """Test that the OpenWeather key is not in the served HTML, any websocket message, or the
    server log, while the app polls and refreshes with it."""
    env = {
        "OPENWEATHER_API_KEY": FAKE_KEY,
        "OPENWEATHER_BASE_URL": provider_server.url,
        "WEATHER_INTERVAL": "1",
        "WEATHER_DB": str(tmp_path / "h.sqlite3"),
        "WEATHER_CITIES": "San Francisco;Atlantis",  # one city the provider does not know
    }
    provider_server.valid_keys = {FAKE_KEY}
    with ServedApp("app.py", env=env) as served:
        page = browser_context.new_page()
        frames: list[str] = []
        page.on("websocket", lambda ws: (
            ws.on("framereceived", lambda payload: frames.append(str(payload))),
            ws.on("framesent", lambda payload: frames.append(str(payload))),
        ))
        response = page.goto(served.url, wait_until="domcontentloaded", timeout=90_000)
        html = response.text()
        wait_until(lambda: provider_server.count("/data/2.5/weather") >= 4, timeout_s=120,
                   page=page, message="several polls with the key")
        page.locator(".bk-tab", has_text="Refresh").click()
        page.get_by_role("button", name="Refresh").click()
        wait_until(lambda: page.get_by_text("Atlantis").count() > 0, timeout_s=120, page=page,
                   message="the Refresh tab showing its cities")
        assert any(FAKE_KEY in r.query.get("appid", "") for r in provider_server.requests)
        assert frames and "Real-time weather" in html
        assert FAKE_KEY not in html
        assert not [f for f in frames if FAKE_KEY in f]
        assert FAKE_KEY not in served.log_text()
        assert "Atlantis" in served.log_text()  # the failing city is logged, without the key


def test_invalid_setting_shows_one_readable_line_and_no_traceback(browser_context):
    """Test that a bad WEATHER_INTERVAL gives a page naming the setting, not a traceback."""
    with ServedApp("app.py", env={"WEATHER_INTERVAL": "soon"}) as served:
        page = open_page(browser_context, served.url)
        line = page.page.get_by_text("WEATHER_INTERVAL").first
        # Panel shows the text once its stylesheets have loaded: until then it reads as "".
        page.wait_until(lambda: line.count() > 0 and "Configuration error" in line.inner_text(),
                        timeout_s=120, message="the configuration error")
        assert "must be a number of seconds greater than 0" in line.inner_text()
        assert page.page.get_by_text("Traceback").count() == 0
        assert "Traceback" not in served.log_text()
        assert "WEATHER_INTERVAL" in served.log_text()


def test_page_loads_with_the_provider_down_and_fills_in_when_it_answers(
    provider_server, browser_context, tmp_path
):
    """Test that with no provider the page loads and says so, then fills in by itself."""
    port = free_port()
    env = {
        "WEATHER_PROVIDER": "open-meteo",
        "OPEN_METEO_BASE_URL": f"http://127.0.0.1:{port}",
        "WEATHER_INTERVAL": "1",
        "WEATHER_DB": str(tmp_path / "h.sqlite3"),
    }
    with ServedApp("app.py", env=env) as served:
        page = open_page(browser_context, served.url)
        page.wait_until(lambda: page.page.get_by_text("unreachable").count() > 0,
                        timeout_s=120, message="the outage in the status")
        # The provider comes up on the port the app was told about.
        with ProviderServer(port=port):
            page.wait_until(lambda: page.page.get_by_text(re.compile(r"ok \d\d:")).count() > 0,
                            timeout_s=120, message="cities reporting ok")
            page.wait_until(lambda: temperature_points(page.page) > 0, timeout_s=120,
                            message="points on the plots")


def test_units_switch_changes_both_tabs_for_that_viewer(browser_context, tmp_path):
    """Test that choosing °C relabels the Real Time plots and the Refresh table."""
    env = {"WEATHER_INTERVAL": "1", "WEATHER_DB": str(tmp_path / "h.sqlite3")}
    with ServedApp("app.py", env=env) as served:
        page = open_page(browser_context, served.url)
        p = page.page
        page.wait_until(lambda: "Temperature (°F)" in axis_labels(p), timeout_s=120,
                        message="Fahrenheit axis labels")
        p.get_by_role("button", name="°C · m/s").click()
        page.wait_until(lambda: axis_labels(p) >= {"Temperature (°C)", "Wind speed (m/s)"},
                        timeout_s=120, message="Celsius axis labels")
        p.locator(".bk-tab", has_text="Refresh").click()
        page.wait_until(lambda: p.get_by_text("Temp (°C)").count() > 0 and
                        p.get_by_text("Temp (°F)").count() == 0, timeout_s=120,
                        message="the Refresh table in Celsius")
        other = open_page(browser_context, served.url)  # another viewer keeps °F
        other.wait_until(lambda: "Temperature (°F)" in axis_labels(other.page), timeout_s=120,
                         message="the other viewer still in Fahrenheit")


def test_no_console_errors_on_load_tab_switch_and_theme_switch(browser_context, tmp_path):
    """Test that loading, switching tabs and switching to the dark theme log no errors other
    than outside hosts being unreachable."""
    env = {"WEATHER_INTERVAL": "1", "WEATHER_DB": str(tmp_path / "h.sqlite3")}
    with ServedApp("app.py", env=env) as served:
        page = open_page(browser_context, served.url)
        p = page.page
        page.wait_until(lambda: axis_labels(p), timeout_s=120, message="the plots")
        p.locator(".bk-tab", has_text="Refresh").click()
        page.wait_until(lambda: p.get_by_text("refreshed").count() > 0 or
                        p.get_by_role("button", name="Refresh").count() > 0, timeout_s=120,
                        message="the Refresh tab")
        p.locator(".bk-tab", has_text="Real Time").click()
        switch_theme(page, to="dark")
        assert real_errors(page) == []
        assert "Traceback" not in served.log_text()


# The page's background as [r, g, b].
BACKGROUND_JS = "() => getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number)"


def switch_theme(page, to: str) -> None:
    """Click the header's theme switch and wait for the page to come back in theme ``to``."""
    p = page.page
    name, other = ("Dark theme", "Light theme") if to == "dark" else ("Light theme", "Dark theme")
    p.get_by_role("link", name=name).click()
    page.wait_until(lambda: f"theme={to}" in p.url and axis_labels(p)
                    and p.get_by_role("link", name=other).count() == 1,
                    timeout_s=120, message=f"the page in the {to} theme")
    page.wait_until(lambda: (sum(p.evaluate(BACKGROUND_JS)[:3]) < 200) == (to == "dark"),
                    timeout_s=30, message=f"a {to} background")


def test_the_theme_switch_turns_the_page_dark_and_back(browser_context, tmp_path):
    """Test that the header's switch shows the page, plots included, in the dark theme, and
    that the same switch then brings back the light one."""
    env = {"WEATHER_DB": str(tmp_path / "h.sqlite3")}
    with ServedApp("app.py", env=env) as served:
        page = open_page(browser_context, served.url)
        page.wait_until(lambda: axis_labels(page.page), timeout_s=120, message="the plots")
        assert sum(page.page.evaluate(BACKGROUND_JS)[:3]) > 600
        switch_theme(page, to="dark")
        switch_theme(page, to="default")
        assert real_errors(page) == []


def test_the_page_loads_only_the_scripts_it_runs(browser_context, tmp_path):
    """Test that a served page loads no MathJax or WebGL bundle, and still shows its text."""
    env = {"WEATHER_DB": str(tmp_path / "h.sqlite3")}
    with ServedApp("app.py", env=env) as served:
        page = open_page(browser_context, served.url)
        p = page.page
        page.wait_until(lambda: axis_labels(p), timeout_s=120, message="the plots")
        scripts = p.evaluate("() => performance.getEntriesByType('resource')"
                             ".map(r => r.name).filter(n => n.includes('.js'))")
        assert any("bokeh.min.js" in s for s in scripts) and any("panel" in s for s in scripts)
        assert [s for s in scripts if "mathjax" in s or "bokeh-gl" in s] == []
        page.wait_until(lambda: p.get_by_text("Simulated weather.").count() > 0,
                        timeout_s=30, message="the demo notice, a Markdown pane")
        assert real_errors(page) == []


# Every element of the page, inside shadow roots too, that is animated: SVG's own animations
# and CSS animations running now.
ANIMATED_JS = """() => {
  const found = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (['animate', 'animateTransform', 'animateMotion', 'set'].includes(el.localName))
        found.push('svg ' + el.localName);
      for (const a of el.getAnimations ? el.getAnimations() : [])
        if (a.playState === 'running') found.push('css ' + (a.animationName || a.id));
      if (el.shadowRoot) visit(el.shadowRoot);
    }
  };
  visit(document);
  return found;
}"""


def test_a_page_left_on_the_real_time_tab_animates_nothing(browser_context, tmp_path):
    """Test that an idle page runs no animation while its Refresh tab is hidden.

    The Refresh tab's placeholder had a spinner that turned on behind the Real Time tab and
    cost the browser of each wall screen a tenth of a core or more.
    """
    env = {"WEATHER_DB": str(tmp_path / "h.sqlite3")}
    with ServedApp("app.py", env=env) as served:
        page = open_page(browser_context, served.url)
        p = page.page
        page.wait_until(lambda: axis_labels(p), timeout_s=120, message="the plots")
        page.wait_until(lambda: p.get_by_text("Loading the map and table").count() == 1,
                        timeout_s=30, message="the Refresh tab's placeholder")
        assert p.evaluate(ANIMATED_JS) == []


AXIS_LABELS_JS = """() => {
  const labels = [];
  for (const doc of Bokeh.documents)
    for (const m of doc._all_models.values())
      if (m.type === 'LinearAxis' && m.axis_label) labels.push(m.axis_label);
  return labels;
}"""


def axis_labels(page) -> set[str]:
    return set(page.evaluate(AXIS_LABELS_JS))
