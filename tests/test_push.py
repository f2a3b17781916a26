"""Pushed updates, without a browser: every live viewer gets each batch once, in order.

Served sessions are Bokeh documents with a session, as `panel serve` makes them: a push is
scheduled on each document's next tick, which these tests run as the server loop would.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from typing import ClassVar

import pytest
from bokeh.document import Document
from bokeh.server.callbacks import NextTickCallback, PeriodicCallback
from panel.io.state import set_curdoc

from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History
from dashboards.server.push import Fanout
from dashboards.views.realtime.tab import StreamingTab
from dashboards.views.settings import ViewerSettings
from tests.test_streaming import CITIES, add_polls, feed_polls, plotted, poll
from weather.providers.demo import DemoProvider


class _Request:
    arguments: ClassVar[dict[str, list[bytes]]] = {}
    cookies: ClassVar[dict[str, str]] = {}
    headers: ClassVar[dict[str, str]] = {}


class _Session:
    """Stands in for the session context a served document has (it is held weakly)."""

    request = _Request()
    id = "test-session"


class Viewer:
    """One served session's Real Time tab, its document, and every change sent to it."""

    def __init__(self, feed: WeatherFeed, loaded: bool = True, **params) -> None:
        self.doc = Document()
        self.session = _Session()
        self.doc._session_context = weakref.ref(self.session)
        with set_curdoc(self.doc):
            self.tab = StreamingTab(feed=feed, settings=ViewerSettings(units="metric"),
                                    **params)
        self.doc.add_root(self.tab.__panel__().get_root(self.doc))
        if loaded:
            self.tab.page_loaded()

    def run_ticks(self) -> int:
        """Run the callbacks scheduled on this document's next tick, as its server would."""
        ran = 0
        while ticks := [c for c in self.doc.callbacks.session_callbacks
                        if isinstance(c, NextTickCallback)]:
            for tick in ticks:
                tick.callback()
                ran += 1
        return ran

    def close(self) -> None:
        """End the session as the server does when the browser tab closes."""
        for callback in list(self.doc.callbacks.session_destroyed_callbacks):
            callback(self.session)
        # The server drops the callbacks still scheduled on a destroyed session's document.
        for callback in list(self.doc.callbacks.session_callbacks):
            self.doc.remove_next_tick_callback(callback)

    def drawn_times(self) -> dict[str, list[float]]:
        """Each city's readings drawn, in drawing order: its overview line's points, then
        the end of each segment pushed since (the first starting at the line's end)."""
        overview = self.tab.overview["temperature"].data
        times: dict[str, list[float]] = {
            city: list(xs) for city, xs in zip(overview["city"], overview["xs"], strict=True)}
        lines = self.tab.lines.data
        for city, start, end in zip(lines["city"], lines["start"], lines["time"], strict=True):
            line = times.setdefault(city, [start])
            assert line[-1] == start, f"{city}: a segment starts off its line"
            line.append(end)
        return times


@pytest.fixture
def feed():
    history = History(":memory:")
    add_polls(history, 0, 10)
    return WeatherFeed(DemoProvider(), CITIES, history)


def assert_each_reading_once_in_order(viewer: Viewer, polls: int) -> None:
    """Every city's line holds ``polls`` readings, each once, in time order, with no gap."""
    for city, times in viewer.drawn_times().items():
        assert times == sorted(set(times)), city
        assert len(times) == polls, city
    assert plotted(viewer.tab) == {c: polls for c in viewer.tab.cities}


def test_each_live_session_gets_each_push_once_in_order(feed):
    """Test that several served sessions each draw every pushed poll once, in order, and that
    a poll is scheduled on each session's own document, not run on the feed's thread."""
    viewers = [Viewer(feed) for _ in range(4)]
    feed_polls(feed, 10, 3)
    assert all(plotted(v.tab) == {c: 10 for c in CITIES} for v in viewers)  # not yet run
    assert [v.run_ticks() for v in viewers] == [3, 3, 3, 3]
    feed_polls(feed, 13, 2)
    for viewer in viewers:
        viewer.run_ticks()
        assert_each_reading_once_in_order(viewer, 15)


def test_a_pushed_batch_is_turned_into_plot_data_once_for_every_session(feed, monkeypatch):
    """Test that sessions with the same units share one computation of a batch's plot data,
    and that another unit system is computed once more."""
    from dashboards.views.realtime import plot_data

    calls = []
    real = plot_data.drawing
    monkeypatch.setattr(plot_data, "drawing", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    viewers = [Viewer(feed) for _ in range(5)]
    viewers[0].tab.settings.units = "imperial"
    calls.clear()
    feed_polls(feed, 10, 1)
    for viewer in viewers:
        viewer.run_ticks()
    assert sorted(calls) == ["imperial", "metric"]
    assert plotted(viewers[1].tab) == plotted(viewers[0].tab) == {c: 11 for c in CITIES}


def test_a_paused_session_catches_up_on_resume_with_nothing_twice(feed):
    """Test that a session paused across pushes draws none of them, gets them all on resume,
    and that pushes scheduled before the resume ran do not draw anything twice."""
    paused, live = Viewer(feed), Viewer(feed)
    paused.tab.paused = True
    feed_polls(feed, 10, 2)
    paused.run_ticks()
    live.run_ticks()
    assert plotted(paused.tab) == {c: 10 for c in CITIES}
    assert "paused for this viewer" in paused.tab.status_line.object.text
    feed_polls(feed, 12, 1)  # scheduled, not yet run, when the viewer resumes
    paused.tab.paused = False
    assert plotted(paused.tab) == {c: 13 for c in CITIES}
    paused.run_ticks()
    live.run_ticks()
    for viewer in (paused, live):
        assert_each_reading_once_in_order(viewer, 13)


def test_sessions_that_change_units_or_cities_between_pushes_keep_every_reading_once(feed):
    """Test that a units switch or a city change, between and amid pushes, loses nothing and
    draws nothing twice."""
    units, cities = Viewer(feed), Viewer(feed)
    feed_polls(feed, 10, 1)
    units.tab.settings.units = "imperial"  # before its push ran
    cities.tab.cities = ["Fresno"]
    units.run_ticks()
    cities.run_ticks()
    feed_polls(feed, 11, 2)
    cities.tab.cities = ["Fresno", "San Diego"]
    units.run_ticks()
    cities.run_ticks()
    assert_each_reading_once_in_order(units, 13)
    assert_each_reading_once_in_order(cities, 13)
    assert units.tab.lines.data["temperature"][-1] > 32  # °F


def test_a_session_loading_during_polls_draws_them_once_it_has_loaded(feed):
    """Test that polls pushed while a page loads are drawn once it reports loaded (Panel
    would drop them before), and that later pushes follow on."""
    loading = Viewer(feed, loaded=False)
    feed_polls(feed, 10, 2)
    loading.run_ticks()
    assert plotted(loading.tab) == {c: 10 for c in CITIES}
    feed_polls(feed, 12, 1)  # scheduled while loading, run after
    loading.tab.page_loaded()
    assert plotted(loading.tab) == {c: 13 for c in CITIES}
    loading.run_ticks()
    feed_polls(feed, 13, 1)
    loading.run_ticks()
    assert_each_reading_once_in_order(loading, 14)


def test_a_session_closing_during_a_push_draws_nothing_and_leaves(feed):
    """Test that a session closed after a push was scheduled for it ignores the push, that the
    others still get it, and that the closed one is no longer a subscriber."""
    closing, staying = Viewer(feed), Viewer(feed)
    assert feed.fanout.subscriber_count == 2
    feed_polls(feed, 10, 1)
    closing.close()
    staying.run_ticks()
    assert closing.run_ticks() == 0  # the server drops a destroyed session's callbacks
    assert plotted(closing.tab) == {c: 10 for c in CITIES}
    assert_each_reading_once_in_order(staying, 11)
    assert feed.fanout.subscriber_count == 1


def test_no_subscriber_outlives_its_session(feed):
    """Test that closed sessions leave no subscriber, and that pushes after they closed reach
    only the sessions still open."""
    viewers = [Viewer(feed) for _ in range(20)]
    assert feed.fanout.subscriber_count == 20
    for viewer in viewers[:15]:
        viewer.close()
    assert feed.fanout.subscriber_count == 5
    feed_polls(feed, 10, 1)
    assert [v.run_ticks() for v in viewers] == [0] * 15 + [1] * 5
    for viewer in viewers[15:]:
        viewer.close()
    assert feed.fanout.subscriber_count == 0


def test_the_fanout_keeps_no_subscriber_alive(feed):
    """Test that a subscriber dropped by its owner without unsubscribing (a bound method of a
    per-session object, or its document) is let go, not kept alive by the process."""

    class View:
        def receive(self, batch):
            self.got = batch

    fanout = Fanout(feed.history)
    view, doc = View(), Document()
    fanout.subscribe(view.receive)
    fanout.subscribe(View().receive)  # its object is gone at once
    kept = View()
    fanout.subscribe(kept.receive, doc=doc)
    gone = weakref.ref(view)
    del view, doc
    gc.collect()
    assert gone() is None
    assert fanout.subscriber_count == 0
    fanout.publish(feed.history.add(poll(10)))  # nobody left to tell: nothing fails
    assert not hasattr(kept, "got")


def test_a_session_has_no_timer_of_its_own(feed):
    """Test that a served session polls nothing: it only waits for pushes."""
    viewer = Viewer(feed)
    assert [c for c in viewer.doc.callbacks.session_callbacks
            if isinstance(c, PeriodicCallback)] == []


def test_the_status_line_is_pushed_with_each_poll_even_without_new_rows(feed):
    """Test that a poll that adds nothing (the provider failing) still updates every viewer's
    status line through a push."""
    viewer = Viewer(feed)
    feed.cities = ("San Francisco", "Atlantis")
    feed.poll_now()  # the demo knows no Atlantis: a failure for that city
    assert "Atlantis" not in viewer.tab.status_line.object.text
    viewer.run_ticks()
    assert "Atlantis: not found" in viewer.tab.status_line.object.text


def test_a_subscriber_without_a_session_runs_on_the_event_loop_it_subscribed_from(feed):
    """Test that a notebook's subscriber (no session; the kernel's loop running) gets pushes
    published from another thread on that loop's thread, in order."""
    fanout = Fanout(feed.history)
    got: list[tuple[int, str]] = []

    def receive(batch):
        got.append((batch.last_seq, threading.current_thread().name))

    async def subscribe_then_wait():
        fanout.subscribe(receive)
        publisher = threading.Thread(target=lambda: [
            fanout.publish(feed.history.add(poll(m))) for m in (10, 11)], name="feed")
        publisher.start()
        publisher.join()
        for _ in range(100):
            if len(got) == 2:
                break
            await asyncio.sleep(0.05)

    asyncio.run(subscribe_then_wait())
    assert [seq for seq, _ in got] == sorted(seq for seq, _ in got)
    assert {thread for _, thread in got} == {threading.current_thread().name}
    assert len(got) == 2
