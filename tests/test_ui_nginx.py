"""Two served processes behind nginx configured by `deploy/nginx.conf`, driven in Chromium."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from testing.nginx import INSTALL_HINT, Nginx, nginx_path
from testing.served import (
    REPO_ROOT,
    ServedApp,
    free_port,
    open_app_page,
    temperature_points,
)

pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(nginx_path() is None, reason=f"nginx is not installed: {INSTALL_HINT}"),
]

WS_OPENED = "WebSocket connection opened"  # Bokeh's server log, once per page's websocket
MAX_VIEWERS = 16  # each lands on either process by its cookie: 16 all on one is 1 in 32,768


def opened(apps: list[ServedApp], before: list[int]) -> list[int]:
    """Websockets each process opened since ``before``."""
    return [a.log_text().count(WS_OPENED) - b for a, b in zip(apps, before, strict=True)]


def one_viewer(browser, url: str, apps: list[ServedApp]) -> list[int]:
    """Open ``url`` in a new browser, see it update, reload it; return the websockets each
    process opened meanwhile."""
    before = [a.log_text().count(WS_OPENED) for a in apps]
    context = browser.new_context()
    context.set_default_timeout(120_000)
    try:
        app_page = open_app_page(context, url, timeout_s=60)
        page = app_page.page
        app_page.wait_until(lambda: temperature_points(page) > 0, 60, "first points")
        first = temperature_points(page)
        app_page.wait_until(lambda: temperature_points(page) > first, 60, "a later poll")
        # A reload keeps the cookie: the new page goes to the same process.
        page.reload(wait_until="domcontentloaded")
        app_page.wait_until(lambda: sum(opened(apps, before)) == 2, 60,
                            "the reloaded page's websocket")
    finally:
        context.close()
    return opened(apps, before)


def test_viewers_behind_nginx_load_and_update_on_both_processes(playwright_browser) -> None:
    """Test that pages through nginx keep their session's process, update, and use both."""
    port = free_port()
    env = {"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:", "WEATHER_INTERVAL": "1",
           "WEATHER_CITIES": "San Francisco;Fresno"}
    args = ("--allow-websocket-origin", f"127.0.0.1:{port}", "--use-xheaders")
    with ExitStack() as stack:
        apps = [stack.enter_context(ServedApp(REPO_ROOT / "app.py", env=env, args=args))
                for _ in range(2)]
        proxy = stack.enter_context(Nginx([a.port for a in apps], port=port))
        landed = [0, 0]
        viewers = 0
        while min(landed) == 0 and viewers < MAX_VIEWERS:
            opened_now = one_viewer(playwright_browser, f"{proxy.url}/app", apps)
            assert sorted(opened_now) == [0, 2], f"one viewer's pages went to both: {opened_now}"
            landed = [n + (o > 0) for n, o in zip(landed, opened_now, strict=True)]
            viewers += 1
        assert min(landed) > 0, f"{viewers} viewers all landed on one process: {landed}"
        assert "[error]" not in proxy.error_log()
