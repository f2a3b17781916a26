"""The Refresh tab in a notebook: no server loop, a kernel's event loop drawing the outputs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import panel as pn
from bokeh.document import Document
from panel.models import HTML
from pyviz_comms import Comm

from dashboards.views.refresh.jobs import SingleJob
from dashboards.views.refresh.tab import RefreshTab
from testing.served import wait_until
from tests.test_refresh import CITIES, CountingProvider

T = TypeVar("T")
POLL_S = 0.05
TIMEOUT_S = 30.0


def run_in_kernel_loop(cell: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``cell()`` on a new event loop of its own thread, as a kernel runs a cell.

    Its own thread: Playwright's sync API, once used in this process, keeps a loop running
    on the main thread.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="kernel") as kernel:
        return kernel.submit(asyncio.run, cell()).result(timeout=2 * TIMEOUT_S)


async def until(condition, message: str) -> None:
    """Let the loop run until ``condition()`` holds (the kernel idle between cells)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT_S
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {TIMEOUT_S:g} s waiting for {message}")
        await asyncio.sleep(POLL_S)


def test_a_job_started_on_a_kernel_loop_ends_on_that_loop() -> None:
    """Test that with no server session, a job started on a running event loop (a kernel's)
    hands its result and the end of its busy state to that loop's thread, not its own."""
    calls: list[tuple[str, object, int]] = []

    async def cell() -> int:
        job = SingleJob(lambda busy: calls.append(("busy", busy, threading.get_ident())))
        assert job.start(lambda: "fetched",
                         lambda outcome: calls.append(("done", outcome, threading.get_ident())))
        await until(lambda: not job.running, "the job to end")
        return threading.get_ident()

    loop_thread = run_in_kernel_loop(cell)
    assert calls == [("busy", True, loop_thread), ("done", "fetched", loop_thread),
                     ("busy", False, loop_thread)]


def jobs_running() -> bool:
    return any(t.name == "refresh-job" for t in threading.enumerate())


def test_a_fetch_ending_while_the_tab_is_drawn_ends_its_spinner_in_the_page() -> None:
    """Test that a Refresh tab drawn in a notebook while its first fetch ends (Run All) shows
    the fetched status in its drawn model, not "Refreshing …" with the spinner."""
    pn.extension("tabulator")
    provider = CountingProvider()
    provider.gate = threading.Event()

    def answer_now() -> pn.pane.Str:
        # Drawn after the tab, before the cell's output is done: the fetch answers and its
        # thread ends here, as when a fetch ends during a slow cell's drawing.
        provider.gate.set()
        wait_until(lambda: not jobs_running(), timeout_s=TIMEOUT_S,
                   message="the fetch's thread to end")
        return pn.pane.Str("drawn")

    async def cell() -> HTML:
        # Constructed as in the notebook's cell: the first fetch starts at once (there is
        # no page load to wait for in a notebook).
        tab = RefreshTab(provider=provider, cities=CITIES, tiles="none")
        assert tab.busy
        output = pn.Column(tab, pn.param.ParamFunction(answer_now, lazy=True))
        root = output.get_root(Document(), comm=Comm())
        await until(lambda: not tab.busy, "the fetch to end")
        (status,) = [m for m in root.select({"type": HTML})
                     if "cities" in m.text or "Waiting" in m.text]
        return status

    status = run_in_kernel_loop(cell)
    assert "Refreshed" in status.text and "Refreshing" not in status.text, status.text
    assert provider.calls == [CITIES]
