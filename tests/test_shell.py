"""The page around the tabs, without a browser: what a page holds before and after Refresh."""

from __future__ import annotations

import weakref

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.server.callbacks import NextTickCallback
from panel.io.state import set_curdoc

from dashboards.config import AppConfig
from dashboards.page.shell import Dashboard, page_for
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


class _Request:
    def __init__(self) -> None:
        self.arguments: dict[str, list[bytes]] = {}
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}


class _Session:
    """Stands in for the session context a served document has (it is held weakly)."""

    request = _Request()
    id = "test-session"


def test_a_served_page_is_built_after_its_html_is_sent(dashboard):
    """Test that a served session's page holds only a line of text while its HTML is made,
    and that the tabs, plots and side panel join it on the server's next tick."""
    doc = Document()
    session = _Session()
    doc._session_context = weakref.ref(session)
    with set_curdoc(doc):
        template = page_for(dashboard.config)
    (main,) = template.main.objects
    (slot_text,) = main.objects
    assert "Loading the plots" in slot_text.object
    (side,) = template.sidebar.objects
    assert side.objects == []
    (tick,) = [c for c in doc.callbacks.session_callbacks if isinstance(c, NextTickCallback)]
    doc.add_root(main.get_root(doc))
    assert "GlyphRenderer" not in model_kinds(doc)
    with set_curdoc(doc):
        tick.callback()
    try:
        assert main.select(pn.Tabs)
        assert sum(type(model).__name__ == "Plot" for model in doc.models) == 3
        assert side.objects and side.objects[0].select(pn.widgets.RadioButtonGroup)
    finally:
        for destroyed in list(doc.session_destroyed_callbacks):
            destroyed(session)  # the viewer's tab stops following the feed


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
