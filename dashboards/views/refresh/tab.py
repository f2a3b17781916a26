"""The Refresh tab: the article's param class (Refresh action, column selector) as map and table."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pandas as pd
import panel as pn
import param

from dashboards.config import DEFAULT_TILES, TILES
from dashboards.server.feed import NoDataYet
from dashboards.server.forecast import ForecastPoll
from dashboards.server.forecast_store import empty_forecast
from dashboards.views.refresh import data as rd
from dashboards.views.refresh import messages as msg
from dashboards.views.refresh import outlook
from dashboards.views.refresh.jobs import SingleJob
from dashboards.views.refresh.layout import RefreshView
from dashboards.views.refresh.own_forecast import OwnForecasts, ask_forecast
from dashboards.views.settings import ViewerSettings
from weather.models import Observation, quantity_label
from weather.providers.base import DEFAULT_FORECAST_HOURS, Provider

log = logging.getLogger(__name__)


class RefreshTab(pn.viewable.Viewer):
    """Current weather of a list of cities, fetched when the viewer asks, on a map and a table.

    Data is fetched on a background thread, through ``provider`` (the server's shared, cached
    one), never on the server's event loop. Choosing another ``column`` or unit system redraws
    from the data already fetched. The tab opens on ``data`` when given (e.g. the feed's newest
    observations); when that has nothing to draw, the first fetch starts once the page has
    loaded in the browser, so serving a page never waits on the provider.
    """

    refresh = param.Action(lambda self: self.param.trigger("refresh"), label="Refresh", doc="""
        Fetch every city again; ignored while a fetch is still running.""")
    column = param.Selector(default="temperature", objects=rd.column_choices("imperial"),
                            label="Colour by", doc="The quantity that colours the map.")
    cities = param.List(default=[], item_type=str, doc="The cities shown, in order.")
    data = param.DataFrame(default=None, allow_None=True, doc="""
        Metric results of the last fetch, with weather.FRAME_COLUMNS; pass a frame to start
        with it instead of fetching when the page loads.""")
    tiles = param.Selector(default=DEFAULT_TILES, objects=list(TILES), doc="""
        Map background tiles, or "none" for a plain longitude/latitude map.""")
    provider = param.ClassSelector(class_=Provider, doc="""
        Where current weather comes from, and the forecast of cities ``forecast`` lacks.""")
    forecast = param.ClassSelector(class_=ForecastPoll, default=None, allow_None=True, doc="""
        The server's shared forecast poll: the table's next 24 h high and low of its cities
        come from it, without asking the provider. Other cities (added by the viewer) have
        their forecast fetched with each Refresh.""")
    forecast_hours = param.Integer(default=DEFAULT_FORECAST_HOURS, bounds=(24, None), doc="""
        Hours of forecast asked of the provider for the viewer's own cities, as the shared
        poll asks: an older forecast then still covers the next 24 h for a while.""")
    settings = param.ClassSelector(class_=ViewerSettings, doc="The viewer's display units.")
    busy = param.Boolean(default=False, constant=True, doc="True while a fetch is running.")
    refreshed_at = param.Number(default=None, allow_None=True, constant=True, doc="""
        Unix time (s) at which the data shown was fetched.""")

    def __init__(self, provider: Provider, cities: Sequence[str],
                 settings: ViewerSettings | None = None, tiles: str = DEFAULT_TILES,
                 data: pd.DataFrame | None = None, forecast: ForecastPoll | None = None,
                 **params: Any) -> None:
        settings = settings if settings is not None else ViewerSettings()
        super().__init__(provider=provider, cities=list(dict.fromkeys(cities)),
                         settings=settings, tiles=tiles, data=data, forecast=forecast,
                         **params)
        self.param.column.objects = rd.column_choices(settings.units)
        self._page_ready = False
        self._stale: list[str] = []  # cities whose last fetch failed, older values shown
        self._own = OwnForecasts()
        self._job = SingleJob(self._update_busy)
        # Cities the feed has not polled yet are not failures worth a message.
        results = self.results()
        self._notice = msg.partial_failure(results[results["status"] != NoDataYet.status])
        self.view = RefreshView(self)
        self.view.add_button.on_click(self._on_add)
        self.view.city_input.param.watch(self._on_add, "enter_pressed")
        self.view.remove_button.on_click(self._on_remove)
        settings.param.watch(self._on_units, "units")
        settings.param.watch(lambda _event: self._update_views(), ["time_zone", "browser_zone"])
        self._update_views()
        pn.state.onload(self._on_page_loaded)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.view.layout

    # -- what is drawn --------------------------------------------------------------------
    @property
    def units(self) -> str:
        return self.settings.units

    @property
    def notice(self) -> msg.Notice:
        """The message shown to the viewer (plain text; the pane shows it escaped)."""
        return self._notice

    def results(self) -> pd.DataFrame:
        """The rows of the current cities in the last data, in list order."""
        data = self.data if self.data is not None else rd.empty_results()
        return rd.select_cities(data, self.cities)

    def map_data(self) -> pd.DataFrame:
        """The frame the map draws (``refresh_data.MAP_COLUMNS``)."""
        return rd.map_frame(self.results(), self.column, self.units, self.settings.zone)

    def map_label(self) -> str:
        """The colour bar's title, e.g. "Temperature (°F)"."""
        return quantity_label(self.column, self.units)

    def table_data(self, now_s: float | None = None,
                   high_low: pd.DataFrame | None = None) -> pd.DataFrame:
        """The table's rows: current values, then the next 24 h high and low of ``column``
        (``high_low`` when already computed)."""
        table = rd.table_frame(self.results(), self.units, stale=self._stale,
                               zone=self.settings.zone)
        return outlook.with_outlook(table, self.outlook(now_s) if high_low is None else high_low)

    def table_titles(self) -> dict[str, str]:
        return {**rd.table_titles(self.units, self.settings.zone), **outlook.OUTLOOK_TITLES}

    def outlook_header(self) -> str:
        """The header over the high and low columns, naming the quantity and its unit."""
        return outlook.outlook_header(self.column, self.units)

    def forecast_data(self) -> pd.DataFrame:
        """The newest forecast held of every city (metric): the shared poll's and our own."""
        shared = self.forecast.frame() if self.forecast is not None else empty_forecast()
        own = self._own.without(set(shared["city"].unique()))
        frames = [f for f in (shared, own) if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else empty_forecast()

    def outlook(self, now_s: float | None = None) -> pd.DataFrame:
        """Each city's next 24 h high and low of ``column`` in the viewer's units."""
        return outlook.high_low(self.forecast_data(), self.cities, self.column, self.units,
                                now_s)

    def _shared_cities(self) -> set[str]:
        return set(self.forecast.cities) if self.forecast is not None else set()

    def own_forecast_cities(self) -> list[str]:
        """The cities whose forecast this viewer asks the provider for: those the shared
        poll does not have."""
        shared = self._shared_cities()
        return [c for c in self.cities if c not in shared]

    def forecast_problems(self, now_s: float | None = None,
                          high_low: pd.DataFrame | None = None) -> list[str]:
        """One plain-text line per city without a next 24 h high and low, saying why."""
        problems = dict(self._own.problems)
        if self.forecast is not None:
            status = self.forecast.status()
            if status.error:
                problems.update({c: f"the forecast poll failed: {status.error}"
                                 for c in self.forecast.cities})
            problems.update({city: reason for city, reason, _ in status.failing})
        return outlook.problem_lines(
            self.cities, self.outlook(now_s) if high_low is None else high_low, problems)

    def _map_tiles(self) -> str | None:
        # Tiles wait for the page to load: BokehJS does not report a page ready while tiles
        # are failing to load, and Panel then holds onload callbacks and stream updates.
        return self.tiles if self._page_ready and self.tiles != "none" else None

    def _update_map(self) -> None:
        self.view.map.show(self.map_data(), self.column, self.map_label(), self._map_tiles())

    def _update_table(self) -> None:
        now_s = time.time()
        high_low = self.outlook(now_s)
        self.view.show_table(self.table_data(now_s, high_low), self.table_titles(),
                             self.outlook_header(), self.column)
        self.view.show_forecast_problems(self.forecast_problems(now_s, high_low))

    def _update_views(self) -> None:
        with pn.io.hold():
            self._update_map()
            self._update_table()
            self.view.show_cities(self.cities)
            self.view.show_status(self.refreshed_at, self.results(), len(self.cities),
                                  self.settings.zone)
            self.view.show_message(self._notice)

    def _update_busy(self, busy: bool) -> None:
        with param.edit_constant(self):
            self.busy = busy
        self.view.show_busy(busy, self._job.doing)

    # -- handlers -------------------------------------------------------------------------
    def _on_page_loaded(self) -> None:
        self._page_ready = True
        if self._map_tiles():
            self._update_map()
        if self.cities and self.map_data().empty:
            # Nothing to draw yet (no data passed in, or the feed has not polled yet).
            self._fetch()

    @param.depends("refresh", watch=True)
    def _on_refresh(self) -> None:
        if not self.cities:
            self._say(msg.NO_CITIES)
        elif not self._fetch():
            log.debug("refresh: click ignored, a fetch is running")

    def _fetch(self) -> bool:
        cities, own = list(self.cities), self.own_forecast_cities()
        return self._job.start(partial(self._ask_both, cities, own),
                               partial(self._on_fetched, cities, own),
                               doing=f"Refreshing {rd.count_text(len(cities))}…")

    def _ask_both(self, cities: list[str], own: list[str]) -> tuple[Any, Any]:
        """Current weather of ``cities`` and the forecast of ``own`` at once (on the job's
        thread): a failure of either is returned in its place, never raised."""
        if not own:
            return _outcome(self.provider.current, cities), None
        with ThreadPoolExecutor(1, thread_name_prefix="refresh-forecast") as pool:
            forecast = pool.submit(_outcome, self._ask_forecast, own)
            return _outcome(self.provider.current, cities), forecast.result()

    def _ask_forecast(self, cities: list[str]) -> Any:
        return ask_forecast(self.provider, cities, self.forecast_hours)

    def _on_fetched(self, cities: list[str], own: list[str], outcome: Any) -> None:
        current, forecast = outcome
        if own:
            self._own.take(own, forecast, self.provider.name)
        self._on_current(cities, current)

    def _on_current(self, cities: list[str], outcome: Any) -> None:
        if isinstance(outcome, Exception):
            log.error("refresh: failed: %s", msg.describe(outcome))
            self._stale = [c for c in cities if c in self._good_cities()]
            self._say(msg.fetch_failed(outcome, self._newest_shown()))
            self._update_views()
            return
        frame = rd.fetched_frame(cities, outcome, self.provider.name)
        failed = rd.failed_rows(frame)
        for row in failed.itertuples():
            log.warning("refresh: %s: %s (%s)", row.city, row.status, row.error)
        shown, kept = rd.keep_older(self.data, frame)
        self._stale = kept
        if len(failed) == len(frame) and self.data is not None:
            # Nothing came back (provider down, or this server offline): keep what the
            # viewer had, marked stale.
            self._notice = msg.nothing_fetched(frame, self._newest_shown())
            self.data = shown
            return
        with param.edit_constant(self):
            self.refreshed_at = time.time()
        self._notice = msg.partial_failure(frame, kept)
        self.data = shown

    def _good_cities(self) -> list[str]:
        results = self.results()
        return results.loc[results["status"] == "ok", "city"].tolist()

    def _newest_shown(self) -> pd.Timestamp | None:
        """The newest observation time of the values shown, if any."""
        results = self.results()
        newest = results.loc[results["status"] == "ok", "time"].max()
        return None if pd.isna(newest) else newest

    @param.depends("data", "cities", watch=True)
    def _on_data(self) -> None:
        self._update_views()

    @param.depends("column", watch=True)
    def _on_column(self) -> None:
        with pn.io.hold():
            self._update_map()
            self._update_table()

    @param.depends("tiles", watch=True)
    def _on_tiles(self) -> None:
        self._update_map()

    def _on_units(self, event: param.parameterized.Event) -> None:
        self.param.column.objects = rd.column_choices(event.new)
        self._update_views()

    def _on_add(self, event: Any = None) -> None:
        name = " ".join(str(self.view.city_input.value or "").split())
        problem = msg.check_new_city(name, self.cities)
        if problem is not None:
            self._say(problem)
        elif not self._job.start(partial(self._look_up, name),
                                 partial(self._on_city_checked, name),
                                 doing=f"Looking up {name}…"):
            self._say(msg.BUSY)

    def _look_up(self, name: str) -> tuple[Any, Any]:
        """The current weather of ``name`` and, when it is found, its forecast (on the job's
        thread; the forecast's failure is returned, never raised)."""
        current = self.provider.current([name])
        wanted = isinstance(current[0], Observation) and name not in self._shared_cities()
        return current, _outcome(self._ask_forecast, [name]) if wanted else None

    def _on_city_checked(self, name: str, outcome: Any) -> None:
        if isinstance(outcome, Exception):
            result = outcome
        else:
            current, forecast = outcome
            result = current[0]
            if forecast is not None:
                self._own.take([name], forecast, self.provider.name)
        if not isinstance(result, Observation):
            log.warning("refresh: %r not added: %s", name, msg.describe(result))
            self._say(msg.not_added(name, result, demo=self.provider.name == "demo"))
            return
        row = rd.fetched_frame([name], [result], self.provider.name)
        base = self.data if self.data is not None else rd.empty_results()
        self.view.city_input.value = ""
        self._notice = msg.added(name)
        with param.parameterized.batch_call_watchers(self):
            self.cities = [*self.cities, name]
            self.data = rd.merge_rows(base, row)

    def _on_remove(self, event: Any = None) -> None:
        chosen = [c for c in self.view.city_list.value if c in self.cities]
        if not chosen:
            self._say(msg.NOTHING_SELECTED)
            return
        self._notice = msg.removed(chosen)
        self.cities = [c for c in self.cities if c not in chosen]

    def _say(self, notice: msg.Notice) -> None:
        self._notice = notice
        self.view.show_message(notice)


def _outcome(work: Any, *args: Any) -> Any:
    """``work(*args)``, or the exception it raised."""
    try:
        return work(*args)
    except Exception as exc:  # handed to the session, which tells the viewer
        return exc
