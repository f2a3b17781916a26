"""The page around the tabs, without a browser: what a page holds before and after Refresh."""

from __future__ import annotations

import weakref

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.server.callbacks import NextTickCallback
from panel.io.state import set_curdoc

from dashboards.config import AppConfig
from dashboards.page.shell import Dashboard
from dashboards.server import shared as runtime


@pytest.fixture
def dashboard():
    config = AppConfig.from_env({"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:",
                                 "WEATHER_INTERVAL": "600"})
    runtime.reset()
    try:
        yield Dashboard(config)
    finally:
        runtime.reset()


def model_kinds(doc: Document) -> set[str]:
    return {type(model).__name__ for model in doc.models}


def test_the_refresh_tab_joins_the_page_when_first_shown_and_then_stays(dashboard):
    """Test that a page opens without the Refresh tab, not even its Python objects, and that
    showing the tab brings its map and table in once, holding the current data, and keeps
    them on later switches."""
    doc = Document()
    doc.add_root(dashboard.__panel__().get_root(doc))
    assert "DataTabulator" not in model_kinds(doc)
    assert dashboard.refresh is None
    assert dashboard.refresh_slot.objects == [dashboard.refresh_placeholder]
    assert "Loading the map and table" in dashboard.refresh_placeholder.object
    dashboard.tabs.active = 1
    tables = [m for m in doc.models if type(m).__name__ == "DataTabulator"]
    assert len(tables) == 1
    assert list(tables[0].source.data["city"]) == list(dashboard.refresh.cities)
    shown = dashboard.refresh_slot.objects[0]
    dashboard.tabs.active = 0
    dashboard.tabs.active = 1
    assert dashboard.refresh_slot.objects == [shown]
    assert len([m for m in doc.models if type(m).__name__ == "DataTabulator"]) == 1


def shows_plots(dashboard: Dashboard) -> bool:
    """Whether the Real Time tab holds its three plots."""
    shown = {id(p) for p in dashboard.real_time_slot.select(pn.pane.Bokeh)}
    return all(id(p) in shown for p in dashboard.streaming.plots.values())


class _Request:
    def __init__(self) -> None:
        self.arguments: dict[str, list[bytes]] = {}
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}


class _Session:
    """Stands in for the session context a served document has (it is held weakly)."""

    request = _Request()
    id = "test-session"


def test_a_served_page_draws_the_real_time_plots_after_its_html_is_sent(dashboard):
    """Test that in a served session the Real Time tab holds only a line of text while the
    page's HTML is made, and that the plots join it on the server's next tick; outside a
    server (a notebook) they are drawn at once."""
    assert shows_plots(dashboard)  # no session: at once
    doc = Document()
    session = _Session()
    doc._session_context = weakref.ref(session)
    with set_curdoc(doc):
        served = Dashboard(dashboard.config)
    (slot_text,) = served.real_time_slot.objects
    assert "Loading the plots" in slot_text.object
    (tick,) = [c for c in doc.callbacks.session_callbacks if isinstance(c, NextTickCallback)]
    doc.add_root(served.tabs.get_root(doc))
    assert "GlyphRenderer" not in model_kinds(doc)
    tick.callback()
    try:
        assert shows_plots(served)
        assert "GlyphRenderer" in model_kinds(doc)
    finally:
        served.streaming.close()


def test_the_side_panel_counts_one_city_in_the_singular():
    """Test that a feed of one city says "1 city", and of more, "N cities"."""
    runtime.reset()
    try:
        for cities, words in (("Fresno", "for 1 city"), ("Fresno;Davis", "for 2 cities")):
            config = AppConfig.from_env({"WEATHER_PROVIDER": "demo", "WEATHER_DB": ":memory:",
                                         "WEATHER_INTERVAL": "600", "WEATHER_CITIES": cities})
            dashboard = Dashboard(config)
            try:
                assert dashboard.source.object.rstrip().endswith(words)
            finally:
                dashboard.streaming.close()
                runtime.reset()
    finally:
        runtime.reset()
