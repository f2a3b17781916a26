"""Hands each batch of new history rows to every viewer of this process, once, as it lands.

The feed calls ``Fanout.publish`` once per batch (a poll's new rows, or none: the status
changed). Each subscriber's update is scheduled on its own document's loop with
``add_next_tick_callback``, the one Bokeh call that is safe from another thread; a notebook
subscriber runs on the kernel's loop. Work every viewer would repeat (a batch's plot data
per unit system) is made once per batch through ``Batch.derived`` and shared read-only.
Nothing of a session is kept alive here: subscribers are held weakly and removed on close.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import partial
from types import MethodType
from typing import Any

import pandas as pd

from dashboards.server.history import History
from dashboards.server.status import FeedStatus

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Batch:
    """History rows ``first_seq..last_seq`` and what each city held before them.

    Shared by every subscriber: read it, never change it.
    """

    rows: pd.DataFrame
    first_seq: int
    last_seq: int
    #: Each city's newest row before ``first_seq`` (empty when there is none).
    before: pd.DataFrame
    #: The feed's health when the batch was made (None when not known).
    status: FeedStatus | None = None
    _derived: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def derived(self, key: Hashable, make: Callable[[Batch], Any]) -> Any:
        """``make(self)``, computed by the first subscriber that asks for ``key`` only."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = make(self)
            return self._derived[key]


class Subscription:
    """One subscriber: a callback held weakly, and where to run it."""

    def __init__(self, callback: Callable[[Batch], None], doc: Any = None) -> None:
        if isinstance(callback, MethodType):
            self._callback: Callable[[], Any] = weakref.WeakMethod(callback)
        else:
            self._callback = weakref.ref(callback)
        self._doc = weakref.ref(doc) if doc is not None else None
        self._loop = _running_loop() if doc is None else None

    @property
    def alive(self) -> bool:
        return self._callback() is not None and (self._doc is None or self._doc() is not None)

    def deliver(self, batch: Batch) -> bool:
        """Schedule the callback with ``batch`` where it belongs; False once it is gone."""
        callback = self._callback()
        doc = self._doc() if self._doc is not None else None
        if callback is None or (self._doc is not None and doc is None):
            return False
        if doc is not None:
            try:
                doc.add_next_tick_callback(partial(_run, callback, batch))
            except RuntimeError:  # the session was destroyed meanwhile
                return False
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(_run, callback, batch)
        else:
            _run(callback, batch)
        return True


class Fanout:
    """This process's subscribers to one history, and the batches made of its new rows."""

    def __init__(self, history: History,
                 status: Callable[[], FeedStatus] | None = None,
                 catch_up_cache_size: int = 8) -> None:
        self.history = history
        self._status = status
        self._catch_up_cache_size = catch_up_cache_size
        self._lock = threading.Lock()
        self._publishing = threading.Lock()
        self._subscribers: dict[int, Subscription] = {}
        self._ids = itertools.count(1)
        self._catch_ups: dict[tuple[int, int], Batch] = {}
        self._newest: pd.DataFrame | None = None  # each city's newest row, up to _seen_seq
        self._seen_seq = 0
        self._last_status: FeedStatus | None = None

    # -- subscribers ------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[Batch], None], doc: Any = None) -> int:
        """Call ``callback(batch)`` for every later batch; return the id to unsubscribe with.

        With a served session's ``doc`` it runs on that document's loop; without one, on
        the event loop running here (a notebook kernel's), else at once on the publisher's
        thread. ``callback`` is held weakly: it must be kept alive by its owner.
        """
        subscription = Subscription(callback, doc)
        with self._lock:
            key = next(self._ids)
            self._subscribers[key] = subscription
        return key

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    @property
    def subscriber_count(self) -> int:
        """Subscribers whose callback and document are still alive."""
        with self._lock:
            return sum(s.alive for s in self._subscribers.values())

    # -- batches ----------------------------------------------------------------------------
    def publish(self, rows: pd.DataFrame) -> Batch:
        """Tell every subscriber about ``rows``, just returned by ``history.add``.

        With no rows, only a changed status is told.
        """
        with self._publishing:  # one batch after the other, in history order
            batch = self._batch(rows)
            if not len(rows) and batch.status == self._last_status:
                return batch  # nothing new to tell
            self._last_status = batch.status
            with self._lock:
                self._catch_ups.clear()
                subscribers = list(self._subscribers.items())
            gone = []
            for key, subscription in subscribers:
                try:
                    if not subscription.deliver(batch):
                        gone.append(key)
                except Exception:
                    log.exception("push: a viewer's update could not be scheduled")
            with self._lock:
                for key in gone:
                    self._subscribers.pop(key, None)
            return batch

    def since(self, seq: int) -> Batch:
        """A batch of every row after ``seq``, for a viewer catching up (or a first paint).

        Viewers asking with the same ``seq`` before the next batch share it.
        """
        rows, last = self.history.since(seq)
        with self._lock:
            cached = self._catch_ups.get((seq, last))
        if cached is not None:
            return cached
        before = _newest_per_city(self.history.frame(), up_to_seq=seq) if seq else _none(rows)
        first = int(rows["seq"].iloc[0]) if len(rows) else last + 1
        batch = Batch(rows=rows, first_seq=first, last_seq=last, before=before)
        with self._lock:
            if len(self._catch_ups) >= self._catch_up_cache_size:
                self._catch_ups.pop(next(iter(self._catch_ups)))
            self._catch_ups[(seq, last)] = batch
        return batch

    def _batch(self, rows: pd.DataFrame) -> Batch:
        status = self._status() if self._status is not None else None
        if not len(rows):
            last = self.history.last_seq
            return Batch(rows=rows, first_seq=last + 1, last_seq=last,
                         before=_none(rows), status=status)
        first, last = int(rows["seq"].iloc[0]), int(rows["seq"].iloc[-1])
        if self._newest is None or self._seen_seq != first - 1:
            # Rows reached the history without passing here: look at what it holds.
            self._newest = _newest_per_city(self.history.frame(), up_to_seq=first - 1)
        before = self._newest
        both = [f for f in (before, rows) if len(f)]
        self._newest = _newest_per_city(pd.concat(both, ignore_index=True), up_to_seq=last)
        self._seen_seq = last
        return Batch(rows=rows, first_seq=first, last_seq=last, before=before, status=status)


def _newest_per_city(frame: pd.DataFrame, up_to_seq: int) -> pd.DataFrame:
    frame = frame.loc[frame["seq"] <= up_to_seq]
    return frame.sort_values("time", kind="stable").groupby("city", sort=False).tail(1)


def _none(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.iloc[0:0]


def _run(callback: Callable[[Batch], None], batch: Batch) -> None:
    try:
        callback(batch)
    except Exception:
        log.exception("push: a viewer's update failed")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
