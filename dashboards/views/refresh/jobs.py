"""One background job at a time per viewer, its result handed back to that viewer's session."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

log = logging.getLogger("dashboards.views.refresh.tab")


def call_on_session(doc: Document | None, callback: Callable[[], None],
                    loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Run ``callback`` on ``doc``'s event loop with its lock held; with no server, on
    ``loop`` (a notebook kernel's), or now if there is none.

    Bokeh documents may only be changed from their own loop; ``pn.state.execute`` schedules
    the call there, with ``doc`` as Panel's current document.
    """
    if doc is not None and doc.session_context is not None:
        with set_curdoc(doc):
            pn.state.execute(callback, schedule=True)
    elif loop is not None:
        # A kernel draws a cell's output on its loop; a change made from another thread
        # meanwhile is lost for the part already drawn (a spinner left turning).
        loop.call_soon_threadsafe(callback)
    else:
        callback()


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running the caller (a notebook kernel's), if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class SingleJob:
    """Runs at most one job at a time on a thread; a start while one runs is refused.

    ``work()`` runs on a new thread, never on the server's event loop, so a slow provider
    does not freeze any page. Its result, or the exception it raised, is passed to
    ``done(outcome)`` on the session of the caller (in a notebook, on the kernel's event
    loop); then ``on_idle()`` is called there.
    """

    def __init__(self, on_busy: Callable[[bool], None]) -> None:
        self._on_busy = on_busy
        self._lock = threading.Lock()
        self.doing = ""  # what the running job, or the last one, does, in words

    @property
    def running(self) -> bool:
        return self._lock.locked()

    def start(self, work: Callable[[], Any], done: Callable[[Any], None],
              doc: Document | None = None, doing: str = "") -> bool:
        """Start ``work`` (``doing`` says what it does); return False, doing nothing, if a
        job is still running."""
        if not self._lock.acquire(blocking=False):
            return False
        self.doing = doing
        doc = doc if doc is not None else pn.state.curdoc
        loop = running_loop() if doc is None or doc.session_context is None else None
        try:
            self._on_busy(True)
            threading.Thread(target=self._run, args=(work, done, doc, loop), daemon=True,
                             name="refresh-job").start()
        except BaseException:
            self._lock.release()
            raise
        return True

    def _run(self, work: Callable[[], Any], done: Callable[[Any], None],
             doc: Document | None, loop: asyncio.AbstractEventLoop | None) -> None:
        try:
            outcome = work()
        except Exception as exc:  # handed to `done`, which tells the viewer
            outcome = exc
        try:
            call_on_session(doc, partial(self._finish, done, outcome), loop)
        except Exception:
            # Mostly the viewer closed the page while the job ran: nobody is left to tell.
            # Whatever it was, the next job must be able to start.
            log.info("refresh: result dropped, its page could not be reached", exc_info=True)
            self._lock.release()

    def _finish(self, done: Callable[[Any], None], outcome: Any) -> None:
        # The result and the end of the busy state reach the page as one update.
        with pn.io.hold():
            try:
                done(outcome)
            except Exception:
                log.exception("refresh: could not show the result")
            finally:
                self._lock.release()
                self._on_busy(False)
