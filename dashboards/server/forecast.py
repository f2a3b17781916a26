"""The shared forecast poll: one for all viewers (on PostgreSQL, for all processes), kept.

On PostgreSQL the process whose feed polls current weather (it holds the feed's advisory lock)
polls the forecast too: one election and one failover serve both polls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import param

from dashboards.server.feed import ReportedError
from dashboards.server.forecast_store import ForecastStore, empty_forecast, newest_ms
from dashboards.server.status import clock, zone_name
from weather.api import forecast_frame
from weather.errors import RateLimitError, WeatherError
from weather.providers.base import DEFAULT_FORECAST_HOURS, MAX_FORECAST_HOURS, Provider

log = logging.getLogger(__name__)

#: Seconds between two looks of a process sharing the database at whether its feed polls now:
#: a memory read, so a new poller starts the forecast within a second of winning the lock.
LEADING_CHECK_S = 1.0


@dataclass(frozen=True)
class ForecastStatus:
    """How the forecast poll goes; times are wall-clock seconds since the epoch."""

    provider: str
    fetched_at: float | None
    next_poll_at: float | None
    error: str | None
    #: (city, short reason, message) of each city whose last forecast poll failed.
    failing: tuple[tuple[str, str, str], ...] = ()
    store_error: str | None = None

    def problems(self) -> list[str]:
        """Each forecast problem as its own line, apart from the current weather's."""
        lines = []
        if self.error:
            lines.append(f"forecast: {self.error}")
        lines.extend(f"forecast for {city}: {status}" for city, status, _ in self.failing)
        if self.store_error:
            lines.append(self.store_error)
        return lines

    def summary(self, zone: str | None = None) -> str:
        """One line: when the forecast was fetched, when it is polled next, any problem;
        times on the clock of ``zone`` (an IANA name; None: UTC)."""
        parts = [f"forecast fetched {clock(self.fetched_at, zone)} "
                 f"{zone_name(zone, self.fetched_at)}" if self.fetched_at
                 else "no forecast yet"]
        if self.next_poll_at is not None:
            parts.append(f"next {clock(self.next_poll_at, zone)}")
        return " · ".join([*parts, *self.problems()])


class ForecastPoll(param.Parameterized):
    """Asks one provider for every city's forecast every ``interval_s``, for all viewers.

    It runs on a daemon thread of its own, never on a server's event loop. The newest
    forecast (metric, ``weather.FORECAST_COLUMNS``) is kept in ``store`` and read with
    ``frame()``: a city whose poll failed keeps the forecast it had, with its older
    ``fetched_at``. Failures never touch the current-weather feed: they are this poll's own
    status lines (``status().problems()``) and one log line when they start and end.

    On a store shared by several processes (PostgreSQL) only the process for which
    ``leading()`` is true polls; it shares the forecast and its status through the store.
    The others follow: woken by the store's NOTIFY (and every ``follow_s``), they read the
    shared status, and the forecast only when it names a newer fetch.
    """

    interval_s = param.Number(3600.0, bounds=(0, None), inclusive_bounds=(False, True),
                              doc="Seconds between two forecast polls.")
    hours = param.Integer(DEFAULT_FORECAST_HOURS, bounds=(1, MAX_FORECAST_HOURS),
                          doc="Hours of forecast asked for, from now.")
    retry_s = param.Number(300.0, bounds=(0, None), inclusive_bounds=(False, True), doc="""
        Seconds before trying again after a poll that failed as a whole (unreachable,
        timeout, rejected key), when that is sooner than the next regular poll.""")
    follow_s = param.Number(60.0, bounds=(0, None), inclusive_bounds=(False, True), doc="""
        On a store shared by several processes: seconds between two reads of the shared
        forecast status by a process that does not poll, besides each NOTIFY of a new one
        (a missed NOTIFY costs at most this delay).""")

    def __init__(self, provider: Provider, cities: Sequence[str], store: ForecastStore,
                 clock: Callable[[], float] = time.time,
                 leading: Callable[[], bool] | None = None, **params) -> None:
        super().__init__(**params)
        self.provider = provider
        self.cities = tuple(cities)
        self.store = store
        self._clock = clock
        #: Whether this process polls, on a shared store (the feed's ``leading``).
        self._leading = leading or (lambda: True)
        self._polling = False  # whether it did at the last step
        self._woken = False
        self._follow_due = 0.0  # time.monotonic() of the next timed read of the shared status
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame = empty_forecast()
        self._fetched_at: float | None = None
        self._next_at = clock()
        self._adopt_stored()
        self._error: str | None = None
        self._failing: dict[str, WeatherError] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Poll on a thread of its own: at once, unless the stored forecast is still fresh."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._polling = False
        self._thread = threading.Thread(target=self._run, name="forecast-poll", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop polling (a poll under way finishes first); the forecast stays readable."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        listener = self.store.listen(self._on_wake)
        try:
            while not self._stop.is_set():
                try:
                    delay = self._step()
                except Exception:
                    log.exception("forecast: a step failed unexpectedly; polling goes on")
                    delay = LEADING_CHECK_S if self.store.shared else self.retry_s
                self._wake.wait(max(0.0, delay))
                self._wake.clear()
        finally:
            if listener is not None:
                listener.stop()

    def _on_wake(self) -> None:
        self._woken = True  # before the event: a step after the wait sees it
        self._wake.set()

    def _step(self) -> float:
        """One turn of the thread: poll if due (and this process polls), or follow the
        process that does; returns the seconds to wait before the next turn."""
        if not self.store.shared:
            if self._clock() >= self.next_poll_at:
                self.poll_now()
            return self.next_poll_at - self._clock()
        leading = bool(self._leading())
        took_over = leading and not self._polling
        if took_over:
            log.info("forecast: this process polls the forecast of %s now", self.provider.name)
        elif self._polling and not leading:
            log.info("forecast: another process polls the forecast of %s; this one follows",
                     self.provider.name)
        self._polling = leading
        woken, self._woken = self._woken, False
        now_mono = time.monotonic()
        # A new poller starts from what the last one stored (and its schedule and holds).
        if took_over or (not leading and (woken or now_mono >= self._follow_due)):
            self._follow()
            self._follow_due = now_mono + self.follow_s
        if not leading:
            return LEADING_CHECK_S
        self.store.flush()  # what the database missed while it was down
        if self._clock() >= self.next_poll_at:
            self.poll_now()
        return min(self.next_poll_at - self._clock(), LEADING_CHECK_S)

    def _follow(self) -> None:
        """Take the forecast and status the polling process shared, if newer than held."""
        status = self.store.follow(self.provider.name)
        if self.store.fetched_at_ms(self.provider.name) > newest_ms(self.frame()):
            self._adopt_stored()
        if not status:
            return
        with self._lock:
            self._error = status.get("error")
            self._failing = {city: ReportedError(message, reason, city=city)
                             for city, reason, message in status.get("failing", [])}
            if status.get("next_poll_at") is not None:
                self._next_at = float(status["next_poll_at"])

    def _adopt_stored(self) -> None:
        """Hold the store's forecast of our cities and schedule the poll from its age."""
        stored = self.store.latest(self.provider.name)
        frame = self._in_order(stored[stored["city"].isin(self.cities)])
        fetched_at = _newest(frame)
        # A stored forecast is polled again when it is an interval old, or at once when a
        # city has none (one just added to the list).
        complete = set(self.cities) <= set(frame["city"])
        with self._lock:
            self._frame = frame
            self._fetched_at = fetched_at
            self._next_at = (fetched_at + self.interval_s if fetched_at and complete
                             else self._clock())

    @property
    def next_poll_at(self) -> float:
        """When the next poll is due (epoch seconds), whether or not the thread runs."""
        with self._lock:
            return self._next_at

    # -- reading ----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """A copy of the newest forecast of each city (metric), cities in their order."""
        with self._lock:
            return self._frame.copy()

    @property
    def fetched_at(self) -> float | None:
        """When the newest forecast held was fetched (epoch seconds), None before any."""
        with self._lock:
            return self._fetched_at

    def status(self) -> ForecastStatus:
        """A snapshot of the poll's health for a status line."""
        with self._lock:
            failing = tuple((c, e.status, str(e)) for c, e in self._failing.items())
            return ForecastStatus(
                provider=self.provider.name, fetched_at=self._fetched_at,
                next_poll_at=self._next_at if self._thread is not None else None,
                error=self._error, failing=failing, store_error=self.store.db_error)

    # -- polling ----------------------------------------------------------------------------
    def poll_now(self) -> pd.DataFrame:
        """Poll once on the caller's thread; return the newest forecast. Never raises."""
        try:
            self._poll()
        except Exception:
            log.exception("forecast: poll failed unexpectedly; polling goes on")
            self._schedule(self._clock() + self.retry_s)
        # After the forecast is saved: a process woken by the status then finds it.
        self.store.share_status(self.provider.name, self._status_record())
        return self.frame()

    def _status_record(self) -> dict:
        """What a following process needs to show this poll's status and to take it over."""
        with self._lock:
            return {"fetched_at_ms": newest_ms(self._frame), "next_poll_at": self._next_at,
                    "error": self._error,
                    "failing": [[c, e.status, str(e)] for c, e in self._failing.items()]}

    def _poll(self) -> None:
        # Whole milliseconds, as the database keeps them: every process holds the same frame.
        now = int(self._clock() * 1000) / 1000
        try:
            results = self.provider.forecast(self.cities, self.hours)
        except RateLimitError as exc:
            self._set_error(exc, now + (exc.retry_after_s or self.interval_s))
            return
        except WeatherError as exc:
            self._set_error(exc, now + min(self.interval_s, self.retry_s))
            return
        fetched = forecast_frame(self.cities, results, datetime.fromtimestamp(now, tz=UTC),
                                 "metric", provider=self.provider.name)
        try:
            self.store.save(fetched)
        except Exception:
            log.exception("forecast: saving failed; the forecast is kept in memory only")
        failed = {c: r for c, r in zip(self.cities, results, strict=True)
                  if isinstance(r, WeatherError)}
        ok = fetched[fetched["status"] == "ok"]
        with self._lock:
            # One update, so a reader never sees the new forecast with the old schedule.
            kept = self._frame[~self._frame["city"].isin(ok["city"])]
            self._frame = self._in_order(pd.concat([kept, ok], ignore_index=True))
            if not ok.empty:
                self._fetched_at = now
            previous, self._failing = self._failing, failed
            was, self._error = self._error, None
            self._next_at = now + self.interval_s
        if was:
            log.warning("forecast: provider answers again (was: %s)", was)
        for city, error in failed.items():
            if city not in previous or previous[city].status != error.status:
                log.warning("forecast: %s: %s", city, error)
        for city in previous.keys() - failed.keys():
            log.warning("forecast: %s recovered (was: %s)", city, previous[city].status)

    def _set_error(self, exc: WeatherError | None, next_at: float) -> None:
        message = None if exc is None else str(exc)
        with self._lock:
            previous, self._error = self._error, message
            self._next_at = next_at
        if message and message != previous:
            log.warning("forecast: %s", message)
        elif previous and not message:
            log.warning("forecast: provider answers again (was: %s)", previous)

    def _schedule(self, next_at: float) -> None:
        with self._lock:
            self._next_at = next_at

    def _in_order(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame``'s rows with the cities in configured order, each by time."""
        if frame.empty:
            return empty_forecast()
        rank = {city: i for i, city in enumerate(self.cities)}
        order = frame["city"].map(rank)
        return (frame.assign(_rank=order).sort_values(["_rank", "time"], kind="stable")
                .drop(columns="_rank").reset_index(drop=True))


def _newest(frame: pd.DataFrame) -> float | None:
    """The newest ``fetched_at`` of ``frame`` in epoch seconds, None when empty."""
    if frame.empty:
        return None
    return frame["fetched_at"].max().timestamp()


def start_forecast(provider: Provider, cities: Sequence[str], db_path: str,
                   interval_s: float, leading: Callable[[], bool] | None = None
                   ) -> ForecastPoll:
    """Build the forecast poll with its store in ``db_path`` and start it; on a shared
    database it polls while ``leading()`` (the feed's) is true and follows otherwise."""
    store = ForecastStore(db_path)
    poll = ForecastPoll(provider, cities, store, leading=leading, interval_s=interval_s)
    poll.start()
    log.info("forecast: %s %s for %d cities every %gs; kept in %s",
             "one process polls" if store.shared else "polling", provider.name, len(cities),
             interval_s, store.description)
    return poll
