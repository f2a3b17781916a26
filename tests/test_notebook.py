"""The walk-through notebook: executed headless in a kernel, and served by `panel serve`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from testing.served import REPO_ROOT, ServedApp, open_app_page, temperature_points
from weather import FRAME_COLUMNS

NOTEBOOK = REPO_ROOT / "realtime_dashboard.ipynb"
CITIES = ("San Francisco", "Los Angeles", "Santa Barbara", "Sacramento", "Fresno", "San Diego",
          "San Luis Obispo")
CELL_TIMEOUT_S = 300  # one cell; a busy two-core machine takes tens of seconds per import



def kernel_manager(tmp_path: Path) -> KernelManager:
    """A manager for a python3 kernel of this interpreter, whatever specs the user has."""
    spec_dir = tmp_path / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


def code_cell(nb: Any, snippet: str) -> Any:
    """The one code cell whose source contains `snippet`."""
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    return cell


def test_notebook_is_committed_without_outputs() -> None:
    """Test that the committed notebook carries no outputs or execution counts."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_notebook_runs_headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Test that every cell runs without error or warning and the frame cell shows the frame."""
    monkeypatch.setenv("WEATHER_DB", str(tmp_path / "history.sqlite3"))
    monkeypatch.setenv("WEATHER_INTERVAL", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    km = kernel_manager(tmp_path)
    client = NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(REPO_ROOT)}},
    )
    try:
        client.execute()  # raises CellExecutionError, naming the cell, if one fails
    finally:
        # nbclient leaves a kernel it was given running; its feed would poll on for ever.
        if km.has_kernel:
            km.shutdown_kernel(now=True)

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert [o for o in cell.outputs if o.output_type == "error"] == [], cell.source
        stderr = "".join(o.text for o in cell.outputs
                         if o.output_type == "stream" and o.name == "stderr")
        assert stderr == "", f"{cell.source}\n--- stderr ---\n{stderr}"

    (frame,) = [o for o in code_cell(nb, "weather_data(").outputs
                if o.output_type == "execute_result"]
    table = frame.data["text/html"]
    assert [c for c in FRAME_COLUMNS if f"<th>{c}</th>" not in table] == []
    assert [c for c in CITIES if f"<td>{c}</td>" not in table] == []
    assert table.count("<td>ok</td>") == len(CITIES)
    assert table.count("<td>demo</td>") == len(CITIES)
    assert (tmp_path / "history.sqlite3").exists()


@pytest.mark.ui
def test_served_notebook_streams(tmp_path: Path, browser_context: Any, blocked_requests) -> None:
    """Test that `panel serve` on the notebook serves both tabs and plots that gain points."""
    env = {"WEATHER_DB": str(tmp_path / "history.sqlite3"), "WEATHER_INTERVAL": "1"}
    with ServedApp(NOTEBOOK, env=env, start_timeout_s=120) as app:
        app_page = open_app_page(browser_context, app.url, timeout_s=120)
        page = app_page.page
        tabs = page.locator(".bk-tab")
        app_page.wait_until(
            lambda: {"Real Time", "Refresh"} <= set(tabs.all_inner_texts()),
            timeout_s=30, message="the Real Time and Refresh tabs",
        )
        # The page marked servable, not the notebook's cell outputs laid out by Panel.
        assert page.title() == "Real-time weather"
        assert page.get_by_text("A walk through the dashboard").count() == 0

        app_page.wait_until(lambda: temperature_points(page) > 0, timeout_s=60,
                            message="plotted points")
        first = temperature_points(page)
        app_page.wait_until(lambda: temperature_points(page) >= first + len(CITIES),
                            timeout_s=60, message="a poll's points added to the plots")

        assert app_page.errors == []
        assert app.alive(), app.log_tail()
    assert "Traceback" not in app.log_text(), app.log_tail()
    # Only the page's web fonts are asked of outside hosts, and refused.
    assert blocked_requests.hosts() <= {"fonts.googleapis.com", "server.arcgisonline.com"}
