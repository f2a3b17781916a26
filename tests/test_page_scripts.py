"""The one place the app leans on a library's insides: Bokeh's list of a page's bundles."""

from __future__ import annotations

import bokeh.resources

from dashboards.page.scripts import UNUSED_BUNDLES, leave_out_unused_bundles


def test_bokeh_still_lists_a_pages_bundles_where_we_edit_them() -> None:
    """Test that Bokeh keeps the list we edit: a release that moves it must fail here, loudly."""
    components = bokeh.resources.Resources._default_components
    assert isinstance(components, list)
    assert "bokeh" in components and "bokeh-widgets" in components


def test_leaving_out_the_unused_bundles_keeps_every_other_one() -> None:
    """Test that only the unused bundles go, and that doing it twice changes nothing more."""
    leave_out_unused_bundles()
    once = list(bokeh.resources.Resources._default_components)
    leave_out_unused_bundles()
    assert bokeh.resources.Resources._default_components == once
    assert not set(UNUSED_BUNDLES) & set(once)
    assert {"bokeh", "bokeh-widgets", "bokeh-tables"} <= set(once)
    assert bokeh.resources.Resources().components == once
