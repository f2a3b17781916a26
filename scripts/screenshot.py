"""Take the docs' screenshots: the app on demo data with 30 days of history, in Chromium.

Desktop (both tabs, 1600 x 1000: the 30 days, and the last 24 hours with the next 48 hours'
forecast), phone (390 x 844, as a phone lays pages out), the Refresh tab in the dark theme,
and a dark kiosk (1920 x 1080), into docs/.

Run from the repository after installing the test extra (it drives Playwright and Chromium):
`python scripts/screenshot.py`. Nothing leaves this machine: the app serves simulated data, the
browser's requests to other hosts are refused, and the Refresh map is drawn without tiles.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Run as `python scripts/screenshot.py`: the serving harness lives in the repository's tests.
sys.path.insert(0, str(REPO_ROOT))

from dashboards.config import DEFAULT_CITIES  # noqa: E402
from dashboards.server.backfill import backfill  # noqa: E402
from testing.served import (  # noqa: E402
    AppPage,
    ServedApp,
    launch_chromium,
    open_app_page,
)
from weather.providers.demo import DemoProvider  # noqa: E402

VIEWPORT = {"width": 1600, "height": 1000}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
WALL = {"width": 1920, "height": 1080}
KIOSK_QUERY = "?kiosk&theme=dark&window=7d"
DOCS = REPO_ROOT / "docs"
STEP_S = 300  # one simulated observation per city every five minutes
# The app's settings for the shot; None removes one the caller's environment may have set.
APP_ENV: dict[str, str | None] = {
    "WEATHER_PROVIDER": "demo",
    "OPENWEATHER_API_KEY": None,
    "WEATHER_CITIES": None,
    "WEATHER_UNITS": None,
    "WEATHER_INTERVAL": None,
    # Tiles come from outside hosts, which the browser is not allowed to reach here.
    "WEATHER_TILES": "none",
}
# Resolves once BokehJS has nothing left to do and the browser has painted twice since.
# Idle documents, and the header's busy spinner at rest (it spins while the page catches up).
SETTLED_JS = """async () => {
    const frame = () => new Promise(resolve => requestAnimationFrame(resolve))
    const spinning = () => Bokeh.documents.some(doc => [...doc._all_models.values()].some(
        m => (m.css_classes || []).includes('loader') && m.css_classes.includes('spin')))
    const settled = () => Bokeh.documents.every(doc => doc.is_idle) && !spinning()
    // Settled for 20 frames in a row: the page's load callbacks run one after another.
    for (let calm = 0; calm < 20; calm = settled() ? calm + 1 : 0) await frame()
}"""
# Cities with both an overview line and a forecast line on the temperature plot.
DRAWN_JS = """() => {
  const lines = {};
  for (const doc of Bokeh.documents) for (const m of doc._all_models.values()) {
    if (m.type !== 'ColumnDataSource' ||
        !['realtime-overview-temperature', 'realtime-forecast'].includes(m.name)) continue;
    const get = (k) => (m.data instanceof Map ? m.data.get(k) : m.data[k]);
    lines[m.name] = new Set(get('city').filter((c, i) => get('xs')[i].length > 1));
  }
  const a = lines['realtime-overview-temperature'], b = lines['realtime-forecast'];
  return a && b ? [...a].filter((c) => b.has(c)).length : 0;
}"""
TABLE_ROWS_JS = "rows => rows.filter(r => r.textContent.includes('ok')).length"


def fill_history(db_path: Path, days: int, now_s: float) -> int:
    """Write ``days`` of demo observations for the default cities, ending at ``now_s``."""
    return backfill(DemoProvider(), DEFAULT_CITIES, days, db_path, step_s=STEP_S,
                    now_s=now_s).added


def settle(app_page: AppPage) -> None:
    app_page.page.evaluate(SETTLED_JS)


def shoot_real_time(app_page: AppPage, path: Path) -> None:
    """Wait until every city's line and forecast are drawn, then take the Real Time tab."""
    app_page.wait_until(lambda: app_page.page.evaluate(DRAWN_JS) >= len(DEFAULT_CITIES),
                        timeout_s=120, message="every city's line and forecast")
    settle(app_page)
    app_page.page.screenshot(path=path)


def shoot_refresh(app_page: AppPage, path: Path) -> None:
    """Open the Refresh tab, wait for every city's row, then take it."""
    page = app_page.page
    page.locator(".bk-tab", has_text="Refresh").click()
    rows = page.locator(".tabulator-row")
    app_page.wait_until(lambda: rows.evaluate_all(TABLE_ROWS_JS) >= len(DEFAULT_CITIES),
                        timeout_s=60, message="a table row per city")
    settle(app_page)
    page.screenshot(path=path)


def shoot_page(browser, url: str, path: Path, refresh: bool = False,
               **context_args) -> None:
    """Open ``url`` in a new browser context and take its Real Time (or Refresh) tab."""
    context = browser.new_context(**context_args)
    try:
        app_page = open_app_page(context, url, timeout_s=120)
        if refresh:
            shoot_refresh(app_page, path)
        else:
            shoot_real_time(app_page, path)
        print(f"wrote {path}")
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="days of history to plot")
    parser.add_argument("--out", type=Path, default=DOCS / "screenshot.png",
                        help="the Real Time tab's PNG")
    parser.add_argument("--forecast-out", type=Path, default=DOCS / "screenshot-forecast.png",
                        help="the last 24 hours and the forecast")
    parser.add_argument("--refresh-out", type=Path, default=DOCS / "screenshot-refresh.png",
                        help="the Refresh tab's PNG")
    parser.add_argument("--phone-out", type=Path, default=DOCS / "screenshot-phone.png",
                        help="the Real Time tab on a phone")
    parser.add_argument("--refresh-dark-out", type=Path,
                        default=DOCS / "screenshot-refresh-dark.png",
                        help="the Refresh tab in the dark theme")
    parser.add_argument("--kiosk-out", type=Path, default=DOCS / "screenshot-kiosk.png",
                        help="the dark kiosk on a 1920 x 1080 screen")
    args = parser.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("screenshot: Playwright is missing: pip install -e '.[test]'", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="screenshot-") as tmp:
        db_path = Path(tmp) / "history.sqlite3"
        fill_history(db_path, args.days, time.time())
        env = {**APP_ENV, "WEATHER_DB": str(db_path)}
        with ServedApp(REPO_ROOT / "app.py", env=env, start_timeout_s=120) as app, \
                sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                context = browser.new_context(viewport=VIEWPORT)
                app_page = open_app_page(context, app.url, timeout_s=120)
                shoot_real_time(app_page, args.out)
                print(f"wrote {args.out}")
                app_page.page.get_by_role("button", name="24 h", exact=True).click()
                app_page.wait_until(
                    lambda: app_page.page.evaluate(DRAWN_JS) >= len(DEFAULT_CITIES),
                    timeout_s=60, message="the 24 h window")
                settle(app_page)
                app_page.page.screenshot(path=args.forecast_out)
                print(f"wrote {args.forecast_out}")
                shoot_refresh(app_page, args.refresh_out)
                print(f"wrote {args.refresh_out}")
                context.close()
                shoot_page(browser, app.url + "?window=24h", args.phone_out, **PHONE)
                shoot_page(browser, app.url + "?theme=dark", args.refresh_dark_out,
                           refresh=True, viewport=VIEWPORT)
                shoot_page(browser, app.url + KIOSK_QUERY, args.kiosk_out, viewport=WALL)
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
