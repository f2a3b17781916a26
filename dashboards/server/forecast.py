"""The shared forecast poll: one per server process, on its own thread, kept in a store."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import param

from dashboards.server.forecast_store import ForecastStore, empty_forecast
from dashboards.server.status import clock, zone_name
from weather.api import forecast_frame
from weather.errors import RateLimitError, WeatherError
from weather.providers.base import DEFAULT_FORECAST_HOURS, MAX_FORECAST_HOURS, Provider

log = logging.getLogger(__name__)


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
    """

    interval_s = param.Number(3600.0, bounds=(0, None), inclusive_bounds=(False, True),
                              doc="Seconds between two forecast polls.")
    hours = param.Integer(DEFAULT_FORECAST_HOURS, bounds=(1, MAX_FORECAST_HOURS),
                          doc="Hours of forecast asked for, from now.")
    retry_s = param.Number(300.0, bounds=(0, None), inclusive_bounds=(False, True), doc="""
        Seconds before trying again after a poll that failed as a whole (unreachable,
        timeout, rejected key), when that is sooner than the next regular poll.""")

    def __init__(self, provider: Provider, cities: Sequence[str], store: ForecastStore,
                 clock: Callable[[], float] = time.time, **params) -> None:
        super().__init__(**params)
        self.provider = provider
        self.cities = tuple(cities)
        self.store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        stored = store.latest(provider.name)
        self._frame = self._in_order(stored[stored["city"].isin(self.cities)])
        self._fetched_at = _newest(self._frame)
        # A stored forecast is polled again when it is an interval old, or at once when a
        # city has none (one just added to the list).
        complete = set(self.cities) <= set(self._frame["city"])
        self._next_at = (self._fetched_at + self.interval_s
                         if self._fetched_at and complete else clock())
        self._error: str | None = None
        self._failing: dict[str, WeatherError] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Poll on a thread of its own: at once, unless the stored forecast is still fresh."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="forecast-poll", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop polling (a poll under way finishes first); the forecast stays readable."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(max(0.0, self.next_poll_at - self._clock())):
            self.poll_now()

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
        return self.frame()

    def _poll(self) -> None:
        now = self._clock()
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
                   interval_s: float) -> ForecastPoll:
    """Build the forecast poll with its store in ``db_path`` and start it."""
    poll = ForecastPoll(provider, cities, ForecastStore(db_path), interval_s=interval_s)
    poll.start()
    log.info("forecast: polling %s for %d cities every %gs", provider.name, len(cities),
             interval_s)
    return poll
