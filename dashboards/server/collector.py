"""Python's garbage collection, done between two polls, and cheap at any other time.

A served process holds every viewer's page: at 100 viewers, millions of objects, and one full
collection of them holds the interpreter for about a second. Python starts one whenever enough
objects have piled up, and Bokeh and Panel start one whenever a viewer leaves, so every viewer
of the process gets the poll going out at that moment a second late.

While a ``QuietCollector`` runs, Python makes only its young collections (cheap, and most
garbage dies young). A third of an interval after a batch of rows went out, well before the
next, it collects what is not frozen and freezes what survived (``gc.freeze``), so every
collection looks only at objects made since the last: milliseconds for a steady audience. A
page that closes leaves frozen garbage: when someone else asked for a full collection (as
Bokeh and Panel do when a viewer leaves), or after ``whole_collection_every_s``, the quiet
collection first unfreezes everything and frees it, paying the second there.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

import param

log = logging.getLogger(__name__)

#: A full-collection threshold Python never reaches: its young collections go on as before.
_NEVER = 2**31 - 1


class QuietCollector(param.Parameterized):
    """Runs Python's garbage collection on a thread of its own, between batches."""

    quiet_after_batch_s = param.Number(10.0, bounds=(0, None), doc="""
        Seconds after a batch of rows went out to the viewers at which a collection may run:
        a third of the poll interval lets the batch reach them first and leaves two thirds
        for a collection of everything before the next poll.""")
    collection_every_s = param.Number(
        30.0, bounds=(0, None), inclusive_bounds=(False, True), doc="""
        Least seconds between two quiet collections, unless a viewer left meanwhile. With no
        batch for twice as long, one runs anyway: nothing is going out to disturb.""")
    whole_collection_every_s = param.Number(600.0, bounds=(0, None), doc="""
        Most seconds between two collections of everything, frozen objects included, when
        no viewer left meanwhile (each costs about 10 ms per open page).""")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._wake = threading.Condition()
        self._stopping = False
        self._batch_at = float("-inf")  # time.monotonic() of the last batch
        self._asked_for_whole = False
        self._thread: threading.Thread | None = None
        self._thresholds: tuple[int, int, int] | None = None
        #: Quiet collections made so far, those of everything among them, and the
        #: time.monotonic() the last one started.
        self.collections = 0
        self.whole_collections = 0
        self.last_collection_at: float | None = None

    def start(self) -> None:
        """Take the full collections over from Python (all is as before after ``stop``)."""
        if self._thread is not None:
            return
        self._thresholds = gc.get_threshold()
        young, middle = self._thresholds[:2]
        gc.set_threshold(young, middle, _NEVER)
        gc.callbacks.append(self._notice_full_collection)
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
        gc.callbacks.remove(self._notice_full_collection)
        gc.unfreeze()  # what a stopped collector froze is Python's to collect again
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)

    def batch_went_out(self, *_: object) -> None:
        """Note a batch handed to the viewers (any arguments, so it can be a stream's sink)."""
        with self._wake:
            self._batch_at = time.monotonic()
            self._wake.notify_all()

    def _notice_full_collection(self, phase: str, info: dict[str, Any]) -> None:
        # Python starts none while we run: this is someone's gc.collect(), a viewer leaving.
        thread = self._thread
        if (phase == "start" and info["generation"] == 2 and thread is not None
                and threading.get_ident() != thread.ident):
            self._asked_for_whole = True

    def _quiet_point_after(self, collected_at: float) -> bool:
        """Whether the last batch's quiet point is at least the least gap after ``collected_at``
        (any gap once a viewer left: what they leave is freed at the next quiet point)."""
        gap_s = 0.0 if self._asked_for_whole else self.collection_every_s
        return self._batch_at + self.quiet_after_batch_s >= collected_at + gap_s

    def _run(self) -> None:
        collected_at = whole_at = time.monotonic()
        while True:
            with self._wake:
                # The quiet point of a batch that comes late enough after the last collection,
                # or, with none for twice the least gap, now.
                self._wake.wait_for(
                    lambda at=collected_at: self._stopping or self._quiet_point_after(at),
                    timeout=max(0.0, collected_at + 2 * self.collection_every_s
                                - time.monotonic()))
                if self._quiet_point_after(collected_at):
                    self._wake.wait_for(lambda: self._stopping, timeout=max(
                        0.0, self._batch_at + self.quiet_after_batch_s - time.monotonic()))
                if self._stopping:
                    return
            self.last_collection_at = time.monotonic()
            whole = (self._asked_for_whole
                     or self.last_collection_at - whole_at >= self.whole_collection_every_s)
            if whole:
                self._asked_for_whole = False
                gc.unfreeze()
                whole_at = self.last_collection_at
            found = gc.collect()
            gc.freeze()
            collected_at = time.monotonic()
            self.collections += 1
            self.whole_collections += whole
            log.debug("collector: %s collection found %d objects in %.3f s",
                      "a whole" if whole else "a quiet", found,
                      collected_at - self.last_collection_at)
