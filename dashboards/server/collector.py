"""Python's full garbage collection, done between two polls, and cheap at any other time.

A served process holds every viewer's page: at 100 viewers, millions of objects, and one full
collection of them holds the interpreter for about a second. Python starts one whenever enough
objects have piled up, and Bokeh and Panel start one whenever a viewer leaves, so every viewer
of the process gets the poll going out at that moment a second late. While a
``QuietCollector`` runs, Python makes only its young collections (cheap, and most garbage dies
young). Half an interval after a batch of rows went out, well before the next, it collects
everything, then freezes what survived (``gc.freeze``): a collection Bokeh or Panel starts
meanwhile looks only at objects made since. What was frozen and became garbage since is freed
at the next quiet collection.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

import param

log = logging.getLogger(__name__)

#: A full-collection threshold Python never reaches: its young collections go on as before.
_NEVER = 2**31 - 1


class QuietCollector(param.Parameterized):
    """Runs Python's full garbage collection on a thread of its own, between batches."""

    quiet_after_batch_s = param.Number(15.0, bounds=(0, None), doc="""
        Seconds after a batch of rows went out to the viewers at which a full collection
        may run: half the poll interval puts it farthest from both polls.""")
    full_collection_every_s = param.Number(
        30.0, bounds=(0, None), inclusive_bounds=(False, True), doc="""
        Least seconds between two full collections (each costs about 10 ms per open page).
        With no batch for twice as long, one runs anyway: nothing is going out to disturb.""")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._wake = threading.Condition()
        self._stopping = False
        self._batch_at = float("-inf")  # time.monotonic() of the last batch
        self._thread: threading.Thread | None = None
        #: Quiet collections made so far, and the time.monotonic() the last one started.
        self.collections = 0
        self.last_collection_at: float | None = None
        self._thresholds: tuple[int, int, int] | None = None

    def start(self) -> None:
        """Take the full collections over from Python (all is as before after ``stop``)."""
        if self._thread is not None:
            return
        self._thresholds = gc.get_threshold()
        young, middle = self._thresholds[:2]
        gc.set_threshold(young, middle, _NEVER)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="quiet-collector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        thread.join(timeout=30)
        gc.unfreeze()  # what a stopped collector froze is Python's to collect again
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)

    def batch_went_out(self, *_: object) -> None:
        """Note a batch handed to the viewers (any arguments, so it can be a stream's sink)."""
        with self._wake:
            self._batch_at = time.monotonic()
            self._wake.notify_all()

    def _quiet_point_after(self, collected_at: float) -> bool:
        """Whether the last batch's quiet point is at least the least gap after ``collected_at``."""
        return (self._batch_at + self.quiet_after_batch_s
                >= collected_at + self.full_collection_every_s)

    def _run(self) -> None:
        collected_at = time.monotonic()
        while True:
            with self._wake:
                # The quiet point of a batch that comes late enough after the last collection,
                # or, with none for twice the least gap, now.
                self._wake.wait_for(
                    lambda at=collected_at: self._stopping or self._quiet_point_after(at),
                    timeout=max(0.0, collected_at + 2 * self.full_collection_every_s
                                - time.monotonic()))
                if self._quiet_point_after(collected_at):
                    self._wake.wait_for(lambda: self._stopping, timeout=max(
                        0.0, self._batch_at + self.quiet_after_batch_s - time.monotonic()))
                if self._stopping:
                    return
            self.last_collection_at = time.monotonic()
            gc.unfreeze()
            found = gc.collect()
            gc.freeze()
            collected_at = time.monotonic()
            self.collections += 1
            log.debug("collector: a full collection found %d objects in %.3f s", found,
                      collected_at - self.last_collection_at)
