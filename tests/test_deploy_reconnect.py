"""Behind `deploy/nginx.conf`, a page whose process dies comes back from a live one by itself."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from testing.provider_server import ProviderServer
from testing.served import (
    WEBSOCKET_OPEN,
    ServedApp,
    free_port,
    open_app_page,
    temperature_points,
)

pytestmark = pytest.mark.ui

OPENED = "WebSocket connection opened"
#: When the page started each check of its own address (ms since it loaded, in order).
CHECK_TIMES_JS = """() => performance.getEntriesByType('resource')
  .filter((e) => e.initiatorType === 'fetch' && e.name === window.location.href)
  .map((e) => e.startTime)"""


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    with ProviderServer(data_period_s=0.5) as server:
        yield server


def points(page) -> int:
    """The page's temperature points; 0 while it reloads (its scripts are gone meanwhile)."""
    try:
        return temperature_points(page)
    except Exception as exc:  # a navigation destroys the context the script ran in
        if "context was destroyed" in str(exc) or "navigation" in str(exc):
            return 0
        raise


def count_loads_from_now(page) -> list[float]:
    """Times of the page's loads (reloads) from now on, once its first load is over."""
    page.wait_until(lambda: page.page.evaluate("document.readyState") == "complete",
                    timeout_s=120, message="the page loaded")
    loads: list[float] = []
    page.page.on("load", lambda _: loads.append(time.monotonic()))
    return loads


def test_a_page_whose_process_dies_reloads_from_a_live_one_and_never_while_none_answers(
    postgres_url, provider, playwright_browser
):
    """Test that after a SIGKILL of the process serving a page through nginx, the page reloads
    by itself once, from the live process, and draws and updates again; and that while no
    process answers it only checks (HEAD, with backoff) and reloads once one is back."""
    from testing.nginx import INSTALL_HINT, NGINX, Nginx

    if not os.path.exists(NGINX):
        pytest.skip(INSTALL_HINT)
    port = free_port()
    env = {"WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": provider.url,
           "GEOCODING_BASE_URL": provider.url, "WEATHER_INTERVAL": "2", "WEATHER_DB": postgres_url}
    args = ["--allow-websocket-origin", f"127.0.0.1:{port}"]

    def serve(on_port: int | None = None) -> ServedApp:
        return ServedApp("app.py", env=env, start_timeout_s=120, args=args, port=on_port)

    apps = [serve() for _ in range(2)]
    context = playwright_browser.new_context()
    context.set_default_timeout(120_000)
    try:
        for app in apps:
            app.start()
        with Nginx([app.port for app in apps], port=port) as nginx:
            before = [app.log_text().count(OPENED) for app in apps]
            page = open_app_page(context, f"{nginx.url}/app", timeout_s=120)
            loads = count_loads_from_now(page)
            serving = [i for i, app in enumerate(apps) if app.log_text().count(OPENED) > before[i]]
            assert len(serving) == 1, serving
            dead, live = apps[serving[0]], apps[1 - serving[0]]
            page.wait_until(lambda: points(page.page) > 0, timeout_s=120, message="a drawn plot")

            killed_at = time.monotonic()
            os.kill(dead.pid, signal.SIGKILL)
            page.wait_until(lambda: loads and points(page.page) > 0, timeout_s=120,
                            message="the page reloaded and drawn again")
            back_s = time.monotonic() - killed_at
            seen = points(page.page)
            page.wait_until(lambda: points(page.page) > seen, timeout_s=120,
                            message="a push to the reloaded page")
            print(f"\nkill to plots back: {back_s:.1f} s (reloaded after "
                  f"{loads[0] - killed_at:.1f} s)")
            assert len(loads) == 1
            assert page.console_text().count(WEBSOCKET_OPEN) == 2
            # nginx sent the reload (after trying the dead process, if it did) to the live one.
            reloads = [r for r in nginx.routes() if r[1].startswith("GET /app ")]
            assert reloads[-1][2].split(", ")[-1] == f"127.0.0.1:{live.port}", reloads
            assert reloads[-1][3] == "200"

            # No process answers for a while: the page checks with backoff and never reloads.
            logged = len(nginx.routes())
            os.kill(live.pid, signal.SIGKILL)

            def checks() -> list[tuple[str, ...]]:
                return [r for r in nginx.routes()[logged:] if r[1].startswith("HEAD /app ")]

            page.wait_until(lambda: len(checks()) >= 4, timeout_s=120,
                            message="four checks while no process answers")
            assert {r[3] for r in checks()} == {"502"}
            assert len(loads) == 1
            assert not any(r[1].startswith("GET /app ") for r in nginx.routes()[logged:])
            # Backoff: waits of 1, 2, 4 s (each times 0.5 to 1.5) between the first four
            # checks, by the browser's clock: at least 3.5 s, where a loop would take none.
            started = page.page.evaluate(CHECK_TIMES_JS)
            assert len(started) >= 4 and started[3] - started[0] >= 3500, started
            notice = page.page.locator(".notyf__disconnect")
            assert "reloads by itself" in notice.inner_text()

            apps.append(serve(dead.port).start())  # a process back where the dead one was
            page.wait_until(lambda: len(loads) == 2 and points(page.page) > 0, timeout_s=120,
                            message="one reload once a process answers, drawn again")
            assert page.console_text().count(WEBSOCKET_OPEN) == 3
            assert not page.errors
    finally:
        context.close()
        for app in apps:
            app.stop()


def test_a_page_waits_for_its_restarted_process_without_reloading_meanwhile(
    browser_context, tmp_path
):
    """Test that a page served directly (one process, SQLite) whose process is killed only
    checks its address while nothing answers, and reloads once when the process is back."""
    env = {"WEATHER_INTERVAL": "1", "WEATHER_DB": str(tmp_path / "h.sqlite3")}
    first = ServedApp("app.py", env=env, start_timeout_s=120)
    apps = [first]
    try:
        first.start()
        page = open_app_page(browser_context, first.url, timeout_s=120)
        loads = count_loads_from_now(page)
        failed_checks: list[str] = []
        page.page.on("requestfailed", lambda r: failed_checks.append(r.url)
                     if r.method == "HEAD" else None)
        page.wait_until(lambda: points(page.page) > 0, timeout_s=120, message="a drawn plot")

        os.kill(first.pid, signal.SIGKILL)
        page.wait_until(lambda: len(failed_checks) >= 3, timeout_s=120,
                        message="three checks while nothing answers")
        assert loads == []
        assert set(failed_checks) == {first.url}

        apps.append(ServedApp("app.py", env=env, start_timeout_s=120, port=first.port).start())
        page.wait_until(lambda: len(loads) == 1 and points(page.page) > 0, timeout_s=120,
                        message="one reload once the process is back, drawn again")
        seen = points(page.page)
        page.wait_until(lambda: points(page.page) > seen, timeout_s=120,
                        message="a push to the reloaded page")
        assert len(loads) == 1
        assert page.console_text().count(WEBSOCKET_OPEN) == 2
        assert not page.errors
    finally:
        for app in apps:
            app.stop()
