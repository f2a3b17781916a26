"""The page around the tabs, without a browser: what a page holds before and after Refresh."""

from __future__ import annotations

import pytest
from bokeh.document import Document

from dashboards import runtime
from dashboards.config import AppConfig
from dashboards.shell import Dashboard


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
