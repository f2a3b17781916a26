"""The walk-through notebook as people use it: JupyterLab in Chromium, offline, Run All."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testing.jupyter import (
    CODE_CELL,
    JupyterLab,
    cells_done,
    error_outputs,
    open_notebook,
    prompts,
    run_all_cells,
    temperature_points_by_document,
    traceback_outputs,
)
from testing.served import AppPage, wait_until
from tests.test_notebook import CITIES, NOTEBOOK

pytestmark = pytest.mark.ui
pytest.importorskip("jupyterlab", reason="JupyterLab is missing: pip install -e '.[test]'")

POLL_S = 2  # WEATHER_INTERVAL: short, so two polls pass quickly
RUN_ALL_TIMEOUT_S = 300  # imports and the first render take tens of seconds on a busy machine
#: Cells whose output is drawn with Bokeh canvases: the Real Time plots, the Refresh map, the app.
PLOT_CELLS = ("StreamingTab(", "RefreshTab(", "import Dashboard")


@pytest.fixture
def lab() -> Iterator[JupyterLab]:
    """JupyterLab on 127.0.0.1 with a copy of the notebook, demo data and no history file."""
    env = {"WEATHER_PROVIDER": "demo", "WEATHER_INTERVAL": str(POLL_S), "WEATHER_DB": ":memory:"}
    with JupyterLab([NOTEBOOK], env=env) as server:
        yield server
        assert server.alive(), server.log_tail()


@pytest.fixture
def notebook(lab: JupyterLab, browser_context: Any) -> AppPage:
    """The notebook opened in JupyterLab, every cell run from the Run menu."""
    app = AppPage(browser_context.new_page())
    app.page.set_viewport_size({"width": 1400, "height": 1000})
    open_notebook(app.page, lab.url(NOTEBOOK.name))
    run_all_cells(app.page)

    def every_cell_ran() -> None:
        assert cells_done(app.page), f"prompts: {prompts(app.page)}"

    app.wait_until(every_cell_ran, timeout_s=RUN_ALL_TIMEOUT_S, message="every cell to run")
    return app


def plot_cell(page: Any, snippet: str) -> Any:
    """The code cell whose source holds ``snippet``."""
    cells = page.locator(CODE_CELL)
    matches = [cells.nth(i) for i in range(cells.count())
               if snippet in cells.nth(i).locator(".jp-InputArea-editor").text_content()]
    assert len(matches) == 1, snippet
    return matches[0]


def test_notebook_runs_and_draws_in_jupyterlab_offline(notebook: AppPage, blocked_requests
                                                       ) -> None:
    """Test that Run All in JupyterLab, with no outside host reachable, leaves no error or
    stderr output, draws every plot cell's canvases, and ends the Refresh cell's busy state."""
    page = notebook.page
    for snippet in PLOT_CELLS:
        canvas = plot_cell(page, snippet).locator(".jp-OutputArea-output canvas").first
        canvas.scroll_into_view_if_needed()
        notebook.wait_until(canvas.is_visible, timeout_s=60, message=f"a plot of {snippet!r}")

    refresh = plot_cell(page, "RefreshTab(")
    # Panel draws in shadow roots, which get_by_text looks into (text_content does not).
    notebook.wait_until(lambda: refresh.get_by_text("Refreshed").count() == 1, timeout_s=60,
                        message="the Refresh cell's first fetch to end")
    assert refresh.get_by_text("Refreshing").count() == 0

    assert error_outputs(page) == []
    assert not notebook.logged("Bokeh or Panel library is missing"), notebook.console_text()
    assert notebook.errors == []
    # The plots drew from the inlined scripts; what is still asked of outside hosts: the
    # scripts hvPlot's import loads again (from the CDN), and the map's tiles.
    assert blocked_requests.hosts() <= {"cdn.bokeh.org", "cdn.holoviz.org",
                                        "server.arcgisonline.com"}


def test_notebook_plots_grow_in_jupyterlab(notebook: AppPage) -> None:
    """Test that every plot drawn in the notebook (the Real Time cell's, the whole app's)
    gains a poll's points in the browser within a couple of polls, with no traceback shown."""
    page = notebook.page
    notebook.wait_until(lambda: sum(temperature_points_by_document(page)) > 0, timeout_s=60,
                        message="plotted points")
    first = temperature_points_by_document(page)
    plotted = [i for i, n in enumerate(first) if n > 0]

    def grown() -> None:
        now = temperature_points_by_document(page)
        assert all(now[i] >= first[i] + len(CITIES) for i in plotted), (first, now)

    wait_until(grown, timeout_s=20 * POLL_S, interval_s=0.5, message="new points in every plot",
               page=page)
    # Nor does a poll's update, pushed to the browser and sent back by it (Panel's notebook
    # comm returns each patch it applies), end in a traceback in a cell's output.
    assert traceback_outputs(page) == []
