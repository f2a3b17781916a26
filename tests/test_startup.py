"""What runs once per server process starts with the server (`--setup`), before any page."""

from __future__ import annotations

from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, ServedApp, wait_until

SETUP = ("--setup", str(REPO_ROOT / "dashboards" / "server" / "on_start.py"))


def test_the_feed_polls_before_any_page_is_opened(provider_server: ProviderServer) -> None:
    """Test that a server started with the README's command polls with no viewer at all."""
    env = {"WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": provider_server.url,
           "WEATHER_DB": ":memory:", "WEATHER_INTERVAL": "1"}
    with ServedApp(REPO_ROOT / "app.py", env=env, args=SETUP, ready_check="liveness") as app:
        polls = lambda: sum("current" in r.query for r in provider_server.requests)  # noqa: E731
        wait_until(lambda: polls() >= 2, 60, 0.1, "two polls with no page open")
        assert "feed: polling open-meteo" in app.log_text()
        assert "session" not in app.log_text().lower()


def test_a_bad_setting_is_logged_once_at_start() -> None:
    """Test that a bad setting is in the server log as one line before any page is asked for."""
    env = {"WEATHER_INTERVAL": "soon"}
    with ServedApp(REPO_ROOT / "app.py", env=env, args=SETUP, ready_check="liveness") as app:
        line = "weather dashboard cannot start: WEATHER_INTERVAL"
        wait_until(lambda: line in app.log_text(), 60, 0.1, "the bad setting in the log")
        assert app.log_text().count(line) == 1
        assert "Traceback" not in app.log_text()
