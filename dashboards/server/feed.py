"""The shared feed: one poller per server process that fills the history and knows its health."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import pandas as pd
import param
from streamz.dataframe import PeriodicDataFrame

from dashboards.server.history import History, empty_frame, observations_frame
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


class WeatherFeed(param.Parameterized):
    """Polls one provider for every city on a streamz ``PeriodicDataFrame`` into a ``History``.

    The poll runs on streamz's own IO-loop thread, so a slow provider never blocks a Panel
    server's event loop. Each batch of new rows goes to the viewers through ``fanout``, which
    holds them weakly, so nothing of a browser session is kept alive here.
    """

    interval_s = param.Number(30.0, bounds=(0, None), inclusive_bounds=(False, True),
                              doc="Seconds between two polls of the provider.")
    auth_retry_s = param.Number(300.0, bounds=(0, None), doc="""
        Seconds between polls while the provider rejects the API key: a new OpenWeather key
        takes a while to activate, so keep trying, slowly.""")
    stale_after_intervals = param.Integer(3, bounds=(1, None), doc="""
        A city whose last success is older than this many intervals is reported stale.""")

    def __init__(self, provider: Provider, cities: Sequence[str], history: History,
                 clock: Callable[[], float] = time.time, **params) -> None:
        super().__init__(**params)
        self.provider = provider
        self.cities = tuple(cities)
        self.history = history
        self._clock = clock
        self._lock = threading.Lock()
        self._started_at = clock()
        self._last_poll_at: float | None = None
        self._last_tick_at: float | None = None
        self._hold_until = 0.0
        self._feed_error: str | None = None
        self._last_success: dict[str, float] = {}
        self._last_error: dict[str, WeatherError] = {}
        self._frames: PeriodicDataFrame | None = None
        #: Tells this process's viewers about each batch of new rows.
        self.fanout = Fanout(history, status=self.status)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start polling: at once, then every ``interval_s``."""
        if self._frames is not None:
            return
        primed = threading.Event()

        def poll(**_):
            # PeriodicDataFrame calls this once while it is built, only to learn the columns:
            # answer with no rows rather than calling the provider on the caller's thread.
            if not primed.is_set():
                primed.set()
                return _NO_ROWS
            return self._poll()

        self._frames = PeriodicDataFrame(poll, interval=f"{self.interval_s}s")
        self._frames.stream.sink(self._store)
        self._frames.loop.add_callback(self._emit_now)

    def stop(self) -> None:
        """Stop polling; the history stays readable."""
        if self._frames is not None:
            self._frames.stop()
            self._frames = None

    def poll_now(self) -> pd.DataFrame:
        """Poll once on the caller's thread and return the rows that were new."""
        return self._store(self._poll())

    async def _emit_now(self) -> None:
        frames = self._frames
        if frames is not None:
            now = pd.Timestamp.now()
            for result in frames.source._emit({"last": now, "now": now}):
                await result

    # -- polling ----------------------------------------------------------------------------
    def _poll(self) -> pd.DataFrame:
        """Ask the provider once; never raise (an exception would end streamz's loop)."""
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

    def _store(self, rows: pd.DataFrame) -> pd.DataFrame:
        try:
            new = self.history.add(rows) if len(rows) else rows
        except Exception:
            log.exception("feed: storing %d rows failed; polling goes on", len(rows))
            new = _NO_ROWS
        try:
            self.fanout.publish(new)
        except Exception:
            log.exception("feed: telling the viewers about %d rows failed", len(new))
        return new

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
            return FeedStatus(
                provider=self.provider.name,
                last_poll_at=self._last_poll_at,
                next_poll_at=next_poll_at if self._frames is not None else None,
                error=self._feed_error,
                cities=cities,
                history_error=self.history.db_error,
            )


def _describe(exc: WeatherError) -> str:
    """A readable line for the status bar and the log (error messages never hold the key)."""
    return str(exc)
