"""The Refresh tab: the article's param class (Refresh action, column selector) as map and table."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import pandas as pd
import panel as pn
import param

from dashboards.config import DEFAULT_TILES, TILES
from dashboards.server.feed import NoDataYet
from dashboards.views.refresh import data as rd
from dashboards.views.refresh import messages as msg
from dashboards.views.refresh.jobs import SingleJob
from dashboards.views.refresh.layout import RefreshView
from dashboards.views.settings import ViewerSettings
from weather.models import Observation, quantity_label
from weather.providers.base import Provider

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
    provider = param.ClassSelector(class_=Provider, doc="Where current weather comes from.")
    settings = param.ClassSelector(class_=ViewerSettings, doc="The viewer's display units.")
    busy = param.Boolean(default=False, constant=True, doc="True while a fetch is running.")
    refreshed_at = param.Number(default=None, allow_None=True, constant=True, doc="""
        Unix time (s) at which the data shown was fetched.""")

    def __init__(self, provider: Provider, cities: Sequence[str],
                 settings: ViewerSettings | None = None, tiles: str = DEFAULT_TILES,
                 data: pd.DataFrame | None = None, **params: Any) -> None:
        settings = settings if settings is not None else ViewerSettings()
        super().__init__(provider=provider, cities=list(dict.fromkeys(cities)),
                         settings=settings, tiles=tiles, data=data, **params)
        self.param.column.objects = rd.column_choices(settings.units)
        self._page_ready = False
        self._stale: list[str] = []  # cities whose last fetch failed, older values shown
        self._job = SingleJob(self._update_busy)
        # Cities the feed has not polled yet are not failures worth a message.
        results = self.results()
        self._notice = msg.partial_failure(results[results["status"] != NoDataYet.status])
        self.view = RefreshView(self)
        self.view.add_button.on_click(self._on_add)
        self.view.city_input.param.watch(self._on_add, "enter_pressed")
        self.view.remove_button.on_click(self._on_remove)
        settings.param.watch(self._on_units, "units")
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
        return rd.map_frame(self.results(), self.column, self.units)

    def map_label(self) -> str:
        """The colour bar's title, e.g. "Temperature (°F)"."""
        return quantity_label(self.column, self.units)

    def table_data(self) -> pd.DataFrame:
        return rd.table_frame(self.results(), self.units, stale=self._stale)

    def _map_tiles(self) -> str | None:
        # Tiles wait for the page to load: BokehJS does not report a page ready while tiles
        # are failing to load, and Panel then holds onload callbacks and stream updates.
        return self.tiles if self._page_ready and self.tiles != "none" else None

    def _update_map(self) -> None:
        self.view.map.show(self.map_data(), self.column, self.map_label(), self._map_tiles())

    def _update_views(self) -> None:
        with pn.io.hold():
            self._update_map()
            self.view.show_table(self.table_data(), rd.table_titles(self.units))
            self.view.show_cities(self.cities)
            self.view.show_status(self.refreshed_at, self.results(), len(self.cities))
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
        cities = list(self.cities)
        return self._job.start(partial(self.provider.current, cities),
                               partial(self._on_fetched, cities),
                               doing=f"Refreshing {rd.count_text(len(cities))}…")

    def _on_fetched(self, cities: list[str], outcome: Any) -> None:
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

    @param.depends("column", "tiles", watch=True)
    def _on_column(self) -> None:
        self._update_map()

    def _on_units(self, event: param.parameterized.Event) -> None:
        self.param.column.objects = rd.column_choices(event.new)
        self._update_views()

    def _on_add(self, event: Any = None) -> None:
        name = " ".join(str(self.view.city_input.value or "").split())
        problem = msg.check_new_city(name, self.cities)
        if problem is not None:
            self._say(problem)
        elif not self._job.start(partial(self.provider.current, [name]),
                                 partial(self._on_city_checked, name),
                                 doing=f"Looking up {name}…"):
            self._say(msg.BUSY)

    def _on_city_checked(self, name: str, outcome: Any) -> None:
        result = outcome if isinstance(outcome, Exception) else outcome[0]
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
