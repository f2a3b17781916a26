"""The Real Time tab served by `panel serve app.py`, in offline Chromium, against local providers.

Every page here runs with every outside host blocked and the default map tiles (EsriImagery),
so these tests also prove that failing tiles do not stop the plots.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from testing.provider_server import ProviderServer
from testing.served import ServedApp, free_port, open_app_page, temperature_points, wait_until

pytestmark = pytest.mark.ui

INTERVAL_S = 1.0
CITIES = 7  # the article's California cities, the default
FORECAST = "/v1/forecast"



def open_page(context, url):
    # Generous: a page load waits for the server to build the whole dashboard.
    return open_app_page(context, url, timeout_s=90)


def points(app) -> int:
    return temperature_points(app.page)


def wait_for_live_updates(app) -> None:
    """Wait until a poll's points reach the page: it has loaded and caught up, and is live.

    A page draws the polls made while it was loading only once the browser reports it ready.
    """
    app.wait_until(lambda: points(app) > 0, timeout_s=120, message="a drawn plot")
    first = points(app)
    app.wait_until(lambda: points(app) > first, timeout_s=120,
                   message="an update reaching the page")


def app_env(server, db_path, **extra) -> dict[str, str]:
    return {
        "WEATHER_PROVIDER": "open-meteo",
        "OPEN_METEO_BASE_URL": server.url,
        "GEOCODING_BASE_URL": server.url,
        "WEATHER_INTERVAL": str(INTERVAL_S),
        "WEATHER_DB": str(db_path),
        **extra,
    }


@pytest.fixture(scope="module")
def shared_provider_server():
    with ProviderServer(data_period_s=0.5) as server:  # new observations at every poll
        yield server


@pytest.fixture(scope="module")
def served(shared_provider_server, tmp_path_factory):
    """One app server for the tests that do not restart it (starting one takes seconds)."""
    db_path = tmp_path_factory.mktemp("streaming") / "history.sqlite3"
    with ServedApp("app.py", env=app_env(shared_provider_server, db_path),
                   args=["--unused-session-lifetime", "1000",
                         "--check-unused-sessions", "500"]) as app:
        yield app


@pytest.fixture
def provider(shared_provider_server):
    yield shared_provider_server
    shared_provider_server.clear_faults()


def test_two_pages_update_while_upstream_calls_stay_one_per_interval(
    served, provider, browser_context
):
    """Test that two open pages both get new points while the provider sees one poll each
    interval, not one per page."""
    first = open_page(browser_context, served.url)
    second = open_page(browser_context, served.url)
    for app in (first, second):
        wait_for_live_updates(app)
    start_first, start_second = points(first), points(second)
    requests_before, started = provider.count(FORECAST), time.monotonic()
    first.wait_until(lambda: points(first) >= start_first + 3 * CITIES, timeout_s=120,
                     message="three polls drawn on the first page")
    second.wait_until(lambda: points(second) >= start_second + 3 * CITIES, timeout_s=120,
                      message="three polls drawn on the second page")
    elapsed_s = time.monotonic() - started
    requests = provider.count(FORECAST) - requests_before
    # One shared poller: never more calls than intervals elapsed (two pollers would double it).
    # A page draws a poll up to two intervals after it was asked: the last points counted
    # may come from polls asked before the count began.
    assert 1 <= requests <= elapsed_s / INTERVAL_S + 2
    assert not first.errors and not second.errors


def test_a_page_opened_later_shows_the_earlier_points_at_once(served, browser_context):
    """Test that a new viewer's first paint holds the history gathered before it came."""
    first = open_page(browser_context, served.url)
    first.wait_until(lambda: points(first) >= 4 * CITIES, timeout_s=120, message="history")
    gathered = points(first)
    first.page.close()
    late = open_page(browser_context, served.url)
    # The document arrives over the websocket: its first state with any point holds them all.
    late.wait_until(lambda: points(late) > 0, timeout_s=120, message="the first paint")
    assert points(late) >= gathered


def test_history_survives_a_restart_even_with_the_provider_down(
    provider_server, browser_context, tmp_path
):
    """Test that after a restart on the same database, with the provider unreachable, a new
    page shows the old points and says the provider cannot be reached."""
    db_path = tmp_path / "history.sqlite3"
    provider_server.data_period_s = 0.5
    with ServedApp("app.py", env=app_env(provider_server, db_path)) as first_run:
        page = open_page(browser_context, first_run.url)
        page.wait_until(lambda: points(page) >= 3 * CITIES, timeout_s=120, message="points")
        page.page.close()
    closed_port = f"http://127.0.0.1:{free_port()}"
    env = app_env(provider_server, db_path, OPEN_METEO_BASE_URL=closed_port)
    with ServedApp("app.py", env=env) as second_run:
        page = open_page(browser_context, second_run.url)
        page.wait_until(lambda: points(page) > 0, timeout_s=120, message="the first paint")
        assert points(page) >= 3 * CITIES
        page.wait_until(lambda: page.page.get_by_text("unreachable").count() > 0,
                        timeout_s=120, message="the outage in the status line")
        assert "could not connect" in second_run.log_text()


def test_pausing_one_page_does_not_pause_the_other(served, browser_context):
    """Test that Pause holds one viewer's plots while another keeps updating, then catches up."""
    paused = open_page(browser_context, served.url)
    live = open_page(browser_context, served.url)
    for app in (paused, live):
        wait_for_live_updates(app)
    paused.page.get_by_role("button", name="Pause").click()
    paused.wait_until(lambda: paused.page.get_by_text("paused for this viewer").count() > 0,
                      timeout_s=120, message="the paused status")
    held = points(paused)
    start_live = points(live)
    live.wait_until(lambda: points(live) >= start_live + 2 * CITIES, timeout_s=120,
                    message="the live page updating")
    assert points(paused) == held
    # The toggle says what a click does next.
    assert paused.page.get_by_role("button", name="Pause").count() == 0
    paused.page.get_by_role("button", name="Resume").click()
    paused.wait_until(lambda: points(paused) >= points(live) - CITIES, timeout_s=120,
                      message="the resumed page catching up")


def test_provider_outage_keeps_points_and_recovers_by_itself(served, provider, browser_context):
    """Test that while the provider fails the page keeps its points and says so, and that
    updates resume by themselves once it answers again."""
    page = open_page(browser_context, served.url)
    page.wait_until(lambda: points(page) >= 2 * CITIES, timeout_s=120, message="first points")
    provider.set_fault("500")
    page.wait_until(lambda: page.page.get_by_text("server error").count() > 0, timeout_s=120,
                    message="the outage in the status line")
    during = points(page)
    assert during >= 2 * CITIES
    provider.clear_faults()
    page.wait_until(lambda: points(page) >= during + 2 * CITIES, timeout_s=120,
                    message="updates after the outage")
    page.wait_until(lambda: page.page.get_by_text("server error").count() == 0, timeout_s=10,
                    message="the status clearing")


# Counts every time the page's busy indicator (the template's spinner) starts spinning.
WATCH_BUSY_JS = """() => {
  let watched = 0;
  window.__spins = 0;
  for (const doc of Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (!(m.css_classes || []).includes('loader')) continue;
      m.connect(m.properties.css_classes.change, () => {
        if (m.css_classes.includes('spin')) window.__spins += 1;
      });
      watched += 1;
    }
  }
  return watched;
}"""


def test_the_busy_indicator_stays_still_while_the_page_just_follows_the_feed(
    served, browser_context
):
    """Test that drawing the feed's polls does not set the header's busy spinner going.

    A poll's points are pushed to every viewer; an update that marked the session busy would
    set the spinner blinking at every poll on a screen left alone.
    """
    page = open_page(browser_context, served.url)
    wait_for_live_updates(page)
    assert page.page.evaluate(WATCH_BUSY_JS) >= 1
    start = points(page)
    page.wait_until(lambda: points(page) >= start + 3 * CITIES, timeout_s=120,
                    message="three more polls drawn")
    assert page.page.evaluate("() => window.__spins") == 0


def test_closing_the_page_releases_its_session(served, browser_context):
    """Test that closing a browser tab ends that viewer's session and its subscription."""
    page = open_page(browser_context, served.url)
    page.wait_until(lambda: points(page) > 0, timeout_s=120, message="a drawn plot")
    page.page.close()
    wait_until(lambda: "viewer session closed" in served.log_text(), timeout_s=120,
               message="the server to destroy the closed session")


def test_a_page_loading_while_polls_land_draws_every_one(provider_server, browser_context,
                                                         tmp_path):
    """Test that polls landing while a page is still loading all reach its plots.

    Panel drops a page's updates until the browser reports it ready, yet the browser has
    already received the document: a poll drawn in between would be missing for good.
    """
    db_path = tmp_path / "history.sqlite3"
    provider_server.data_period_s = 0.1  # a new observation at every poll
    env = app_env(provider_server, db_path, WEATHER_INTERVAL="0.2")
    with ServedApp("app.py", env=env) as served_app:
        page = open_page(browser_context, served_app.url)
        page.wait_until(lambda: points(page) > 0, timeout_s=120, message="a drawn plot")
        provider_server.set_fault("500")  # the feed stops adding rows

        def stored() -> int:
            with sqlite3.connect(db_path) as db:
                return db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]

        # The feed may be retrying its last poll: wait until the stored rows stay put.
        counts = [stored()]

        def settled() -> bool:
            counts.append(stored())
            return len(set(counts[-3:])) == 1 and len(counts) >= 3

        page.wait_until(settled, timeout_s=60, interval_s=1.0, message="the feed to stop")
        page.wait_until(lambda: points(page) == counts[-1], timeout_s=60,
                        message=f"all {counts[-1]} stored observations drawn "
                                f"(drawn: {points(page)})")
