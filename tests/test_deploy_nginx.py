"""`deploy/nginx.conf` in front of two processes on one PostgreSQL, driven by real browsers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testing.provider_server import ProviderServer
from testing.served import ServedApp, free_port, open_app_page, temperature_points, wait_until

pytestmark = pytest.mark.ui

OPENED = "WebSocket connection opened"


def counts(apps: list[ServedApp]) -> list[int]:
    """Websockets opened by each process, from its log."""
    return [app.log_text().count(OPENED) for app in apps]


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    with ProviderServer(data_period_s=0.5) as server:
        yield server


def test_pages_through_nginx_load_update_and_land_on_both_processes(
    postgres_url, provider, playwright_browser
):
    """Test that browsers reach both processes through nginx, each page's websocket goes to the
    process that made its page (a wrong one would fail the session), and pages update."""
    from testing.nginx import INSTALL_HINT, NGINX, Nginx

    if not os.path.exists(NGINX):
        pytest.skip(INSTALL_HINT)
    env = {"WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": provider.url,
           "GEOCODING_BASE_URL": provider.url, "WEATHER_INTERVAL": "2", "WEATHER_DB": postgres_url}
    port = free_port()
    # The browser's origin is nginx's address: every process must accept it.
    apps = [ServedApp("app.py", env=env, start_timeout_s=120,
                      args=["--allow-websocket-origin", f"127.0.0.1:{port}"]) for _ in range(2)]
    contexts = []
    try:
        for app in apps:
            app.start()
        with Nginx([app.port for app in apps], port=port) as nginx:
            pages = []
            by_process: dict[int, list] = {0: [], 1: []}
            # Each new browser gets a random cookie, so about half land on each process.
            for _ in range(12):
                before = counts(apps)
                context = playwright_browser.new_context()
                context.set_default_timeout(120_000)
                contexts.append(context)
                page = open_app_page(context, f"{nginx.url}/app", timeout_s=120)
                pages.append(page)
                after = counts(apps)
                landed = [i for i in (0, 1) if after[i] > before[i]]
                assert len(landed) == 1, (before, after)
                i = landed[0]
                by_process[i].append(page)
                # A reload keeps the cookie, so the same browser stays on its process.
                if all(by_process.values()) and len(pages) >= 3:
                    break
            assert all(by_process.values()), "every browser landed on one process"
            for page in (by_process[0][0], by_process[1][0]):
                page.wait_until(lambda page=page: temperature_points(page.page) > 0,
                                timeout_s=120, message="a drawn plot")
                seen = temperature_points(page.page)
                page.wait_until(lambda page=page, seen=seen: temperature_points(page.page) > seen,
                                timeout_s=120, message="an update through nginx")
                assert not page.errors
            for context in contexts:
                context.close()
            # Each browser's page and websocket went to one and the same process.
            def ws_closed() -> bool:
                return sum(" /app/ws" in r[1] for r in nginx.routes()) >= len(pages)

            wait_until(ws_closed, timeout_s=30, message="nginx to log the websockets")
            by_browser: dict[str, set[tuple[str, str]]] = {}
            for cookie, request, upstream, _ in nginx.routes():
                path = [*request.split(), "", ""][1].split("?")[0]
                if path in ("/app", "/app/ws"):
                    # nginx logs an empty variable as "-": $uid_got is empty on the first visit.
                    by_browser.setdefault(cookie.strip("-"), set()).add((path, upstream))
            assert len(by_browser) == len(pages)
            for cookie, seen in by_browser.items():
                assert {p for p, _ in seen} == {"/app", "/app/ws"}, (cookie, seen)
                assert len({u for _, u in seen}) == 1, (cookie, seen)
            assert len({u for seen in by_browser.values() for _, u in seen}) == 2
    finally:
        for context in contexts:
            context.close()
        for app in apps:
            app.stop()
