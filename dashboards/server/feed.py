"""The shared feed: the one poller of a store, filling the history and knowing its health."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import param
from streamz import Stream

from dashboards.server.history import History, empty_frame, observations_frame
from dashboards.server.overview import OverviewCache
from dashboards.server.push import Fanout
from dashboards.server.status import CityStatus, FeedStatus
from weather.errors import AuthError, RateLimitError, WeatherError
from weather.models import Observation
from weather.providers.base import Provider

log = logging.getLogger(__name__)

_NO_ROWS = empty_frame().drop(columns="seq")


class NoDataYet(WeatherError):
    """A city the feed has not fetched yet."""

    status = "waiting"


class ReportedError(WeatherError):
    """A city's error as the polling process reported it in the shared status."""

    def __init__(self, message: str, status: str, city: str | None = None) -> None:
        super().__init__(message, city=city)
        self.status = status


class WeatherFeed(param.Parameterized):
    """Polls one provider for every city, on a timer thread of its own, into a ``History``.

    On a store shared by several processes (PostgreSQL), only the process holding the store's
    poller lock polls; the others follow: they take the rows it stores and show its status.

    The poll runs on the feed's thread, so a slow provider never blocks a Panel server's event
    loop. Every batch of new rows, polled here or stored by another process, goes through
    ``_take_rows`` and out on the streamz stream ``updates``, and to the viewers through
    ``fanout``, which holds them weakly: nothing of a browser session is kept alive here.
    """

    interval_s = param.Number(30.0, bounds=(0, None), inclusive_bounds=(False, True),
                              doc="Seconds between two polls of the provider.")
    auth_retry_s = param.Number(300.0, bounds=(0, None), doc="""
        Seconds between polls while the provider rejects the API key: a new OpenWeather key
        takes a while to activate, so keep trying, slowly.""")
    stale_after_intervals = param.Integer(3, bounds=(1, None), doc="""
        A city whose last success is older than this many intervals is reported stale.""")
    stalled_after_s = param.Number(300.0, bounds=(0, None), inclusive_bounds=(False, True),
                                   doc="""
        On a shared store: seconds without a status from the poller after which it is taken
        to be hung, and a follower ends its database session to take over. Longer than the
        slowest poll (timeouts and retries included).""")

    def __init__(self, provider: Provider, cities: Sequence[str], history: History,
                 clock: Callable[[], float] = time.time, **params) -> None:
        super().__init__(**params)
        self.provider = provider
        self.cities = tuple(cities)
        self.history = history
        #: Every batch of rows new to this process, as a history frame.
        self.updates = Stream()
        #: Tells this process's viewers about each batch of new rows, and the status with it.
        self.fanout = Fanout(history, status=self.status)
        #: Each window's lines at screen resolution, made once for every viewer.
        self.overviews = OverviewCache(history, cities_count=len(self.cities))
        self._clock = clock
        self._lock = threading.Lock()
        self._started_at = clock()
        self._last_poll_at: float | None = None
        self._last_tick_at: float | None = None
        self._hold_until = 0.0
        self._feed_error: str | None = None
        self._last_success: dict[str, float] = {}
        self._last_error: dict[str, WeatherError] = {}
        self._shared_next_poll_at: float | None = None
        store = history.store
        self._shared = store is not None and store.shared
        # Alone on its store, this process is the poller; sharing one, it must win the lock.
        self._leading = not self._shared
        self._leadership: Any = store.leadership(provider.name) if self._shared else None
        self._listener: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._due = 0.0  # time.monotonic() of the next poll

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the timer: poll at once (or follow the poller), then every ``interval_s``."""
        if self._thread is not None:
            return
        self._stopping.clear()
        if self._shared:
            self._listener = self.history.store.listen(self.catch_up)
        self._thread = threading.Thread(target=self._run, name="weather-feed", daemon=True)
        self._thread.start()
        self.overviews.warm()

    def stop(self) -> None:
        """Stop polling (and let another process take over); the history stays readable."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        thread.join(timeout=30)
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._leadership is not None:
            self._leadership.release()
            self._leading = False

    @property
    def leading(self) -> bool:
        """Whether this process polls the provider (always, on a store of its own)."""
        return self._leading

    def poll_now(self) -> pd.DataFrame:
        """Poll once on the caller's thread and return the rows that were new."""
        rows = self._poll()
        # Status first: a process woken by the rows' NOTIFY then reads a matching status.
        self._publish_status()
        return self._take_rows(rows)

    def catch_up(self) -> pd.DataFrame:
        """Take the rows another process stored since the last look; return those new here."""
        rows = self.history.catch_up()
        if not self._leading:
            self._adopt_shared_status()
        return self._take_rows(rows, stored=True)

    def _take_rows(self, rows: pd.DataFrame, stored: bool = False) -> pd.DataFrame:
        """The one way rows enter this process's history, whether polled here or elsewhere."""
        new = rows
        if len(rows):
            try:
                new = self.history.add(rows, stored=stored)
            except Exception:
                log.exception("feed: storing %d rows failed; polling goes on", len(rows))
                new = _NO_ROWS
            if len(new):
                self.updates.emit(new)
        # Even a poll that brought nothing new tells the viewers, when the status changed.
        try:
            self.fanout.publish(new)
        except Exception:
            log.exception("feed: telling the viewers about %d rows failed", len(new))
        return new

    # -- timer ------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                delay = self._step()
            except Exception:
                log.exception("feed: a step failed unexpectedly; polling goes on")
                delay = self.interval_s
            self._stopping.wait(max(delay, 0.01))

    def _step(self) -> float:
        """One turn of the timer; returns the seconds to wait before the next."""
        # A process sharing the store looks at the lock and the store often enough to take
        # over within one interval of the poller's end.
        check_s = self.interval_s / 2 if self._shared else float("inf")
        if self._shared:
            self._elect()
            self.catch_up()
        if self._leading:
            now = time.monotonic()
            if now >= self._due:
                self.poll_now()
                # On the beat; after a late poll (or the first), an interval from its start.
                self._due += self.interval_s
                if self._due <= now:
                    self._due = now + self.interval_s
        # What the store missed while it could not be used (also after losing the lock).
        self.history.flush()
        if not self._leading:
            return check_s
        return min(self._due - time.monotonic(), check_s)

    def _elect(self) -> None:
        held = self._leadership.hold()
        if held is None:
            # Database unreachable: nobody can take the lock from us meanwhile, so the last
            # poller keeps polling into memory and the others keep following.
            return
        if held and not self._leading:
            self._adopt_shared_status()
            with self._lock:
                next_at = self._shared_next_poll_at
            wait_s = 0.0 if next_at is None else max(0.0, next_at - self._clock())
            self._due = time.monotonic() + min(wait_s, self.interval_s)
            log.info("feed: this process polls %s now (it holds the poller lock)",
                     self.provider.name)
        elif not held and self._leading:
            log.info("feed: another process polls %s; this one follows it", self.provider.name)
        elif not held and self._leadership.end_stalled_holder(self.provider.name,
                                                              self.stalled_after_s):
            log.warning("feed: the poller of %s shared no status for %g s; its database "
                        "session was ended so that another process takes over",
                        self.provider.name, self.stalled_after_s)
        self._leading = held

    # -- polling ----------------------------------------------------------------------------
    def _poll(self) -> pd.DataFrame:
        """Ask the provider once; never raise (polling must go on)."""
        try:
            return self._poll_unguarded()
        except Exception:
            log.exception("feed: poll failed unexpectedly; polling goes on")
            return _NO_ROWS

    def _poll_unguarded(self) -> pd.DataFrame:
        now = self._clock()
        with self._lock:
            self._last_tick_at = now
            if now < self._hold_until:
                return _NO_ROWS
        try:
            results = self.provider.current(self.cities)
        except AuthError as exc:
            self._set_feed_error(exc, hold_s=self.auth_retry_s, now=now)
            return _NO_ROWS
        except RateLimitError as exc:
            self._set_feed_error(exc, hold_s=exc.retry_after_s or self.interval_s, now=now)
            return _NO_ROWS
        except WeatherError as exc:
            self._set_feed_error(exc, hold_s=0.0, now=now)
            return _NO_ROWS
        self._set_feed_error(None, hold_s=0.0, now=now)
        observations = [r for r in results if isinstance(r, Observation)]
        for city, result in zip(self.cities, results, strict=True):
            self._record(city, result, now)
        return observations_frame(observations) if observations else _NO_ROWS

    # -- shared status ----------------------------------------------------------------------
    def _status_record(self) -> dict[str, Any]:
        with self._lock:
            tick = self._last_tick_at if self._last_tick_at is not None else self._started_at
            return {
                "last_poll_at": self._last_poll_at,
                "next_poll_at": max(tick + self.interval_s, self._hold_until),
                "hold_until": self._hold_until,
                "error": self._feed_error,
                "last_success": dict(self._last_success),
                "errors": {city: [exc.status, _describe(exc)]
                           for city, exc in self._last_error.items()},
            }

    def _publish_status(self) -> None:
        if not (self._shared and self._leading):
            return
        try:
            self.history.store.write_status(self.provider.name, self._status_record())
        except Exception as exc:  # the history reports the store's trouble; polling goes on
            log.debug("feed: status not shared (%s)", exc)

    def _adopt_shared_status(self) -> None:
        """Show (and, on taking over, continue) the status the poller shared last."""
        try:
            record = self.history.store.read_status(self.provider.name)
        except Exception:
            return
        if not record:
            return
        with self._lock:
            self._last_poll_at = record.get("last_poll_at")
            self._hold_until = record.get("hold_until") or 0.0
            self._feed_error = record.get("error")
            self._shared_next_poll_at = record.get("next_poll_at")
            self._last_success = {c: float(t) for c, t in record.get("last_success", {}).items()}
            self._last_error = {c: ReportedError(message, status, city=c)
                                for c, (status, message) in record.get("errors", {}).items()}

    def _set_feed_error(self, exc: WeatherError | None, hold_s: float, now: float) -> None:
        message = None if exc is None else _describe(exc)
        with self._lock:
            self._last_poll_at = now
            self._hold_until = now + hold_s
            previous, self._feed_error = self._feed_error, message
        if message and message != previous:
            log.warning("feed: %s", message)
        elif previous and not message:
            log.warning("feed: provider answers again (was: %s)", previous)

    def _record(self, city: str, result: Observation | WeatherError, now: float) -> None:
        with self._lock:
            previous = self._last_error.get(city)
            if isinstance(result, Observation):
                self._last_success[city] = now
                self._last_error.pop(city, None)
            else:
                self._last_error[city] = result
        if isinstance(result, WeatherError):
            if previous is None or previous.status != result.status:
                log.warning("feed: %s: %s", city, _describe(result))
        elif previous is not None:
            log.warning("feed: %s recovered (was: %s)", city, previous.status)

    def latest_results(self) -> list[Observation | WeatherError]:
        """Each city's newest observation from the history, or why there is none yet.

        Lets a page show current weather at once without asking the provider.
        """
        frame = self.history.frame()
        newest = frame.groupby("city", sort=False).tail(1).set_index("city")
        with self._lock:
            errors = dict(self._last_error)
        results: list[Observation | WeatherError] = []
        for city in self.cities:
            if city in newest.index:
                row = newest.loc[city]
                results.append(Observation(
                    city=city, lat=row["lat"], lon=row["lon"], time=row["time"].to_pydatetime(),
                    temperature_c=row["temperature"], humidity_pct=row["humidity"],
                    wind_speed_ms=row["wind_speed"], provider=row["provider"],
                ))
            else:
                results.append(errors.get(city) or NoDataYet("no data yet", city=city))
        return results

    # -- status -----------------------------------------------------------------------------
    def status(self) -> FeedStatus:
        """Return a snapshot of the feed's health for the status bars."""
        now = self._clock()
        stale_s = self.stale_after_intervals * self.interval_s
        with self._lock:
            cities = tuple(
                CityStatus(
                    city=city,
                    last_success_at=self._last_success.get(city),
                    error=_describe(self._last_error[city]) if city in self._last_error else None,
                    error_status=getattr(self._last_error.get(city), "status", None),
                    stale=now - self._last_success.get(city, self._started_at) > stale_s,
                )
                for city in self.cities
            )
            tick = self._last_tick_at if self._last_tick_at is not None else self._started_at
            next_poll_at = max(tick + self.interval_s, self._hold_until)
            if self._shared and not self._leading:
                next_poll_at = self._shared_next_poll_at
            return FeedStatus(
                provider=self.provider.name,
                last_poll_at=self._last_poll_at,
                next_poll_at=next_poll_at if self._thread is not None else None,
                error=self._feed_error,
                cities=cities,
                history_error=self.history.db_error,
            )


def _describe(exc: WeatherError) -> str:
    """A readable line for the status bar and the log (error messages never hold the key)."""
    return str(exc)
