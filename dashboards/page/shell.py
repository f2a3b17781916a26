"""The page around the two tabs: title, data source, units switch, feed status and theme."""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Callable

import panel as pn
import param

from dashboards.config import AppConfig
from dashboards.page.scripts import leave_out_unused_bundles
from dashboards.server import shared as runtime
from dashboards.server.server_log import (
    quiet_closed_websockets_of_this_server,
    show_info_logs,
)
from dashboards.views.realtime.tab import StreamingTab
from dashboards.views.refresh.layout import STYLE
from dashboards.views.refresh.tab import RefreshTab
from dashboards.views.settings import ViewerSettings
from weather.api import results_frame
from weather.errors import ConfigError
from weather.models import UNIT_SYMBOLS

log = logging.getLogger(__name__)

TITLE = "Real-time weather"
HEADER_COLOUR = "#1f6feb"
#: The theme switch: a link drawn as a button, at the header's right end (the pane takes
#: the header's width, as every pane here stretches).
THEME_SWITCH_CSS = """
:host { text-align: right; }
a { color: white; text-decoration: none; font-size: 1.05em; white-space: nowrap;
    border: 1px solid rgba(255, 255, 255, 0.6); border-radius: 4px; padding: 4px 10px; }
a:hover, a:focus { background: rgba(255, 255, 255, 0.15); }
"""
#: Tab titles readable from across a room (the plain design draws them at 12 px), the open
#: one in the page's text colour: the plain dark design draws it near-black on dark grey.
TABS_CSS = """
.bk-tab { font-size: 15px; padding: 6px 16px; }
.bk-tab.bk-active { color: var(--panel-on-background-color); }
"""
UNIT_CHOICES = {
    f"{UNIT_SYMBOLS['imperial']['temperature']} · {UNIT_SYMBOLS['imperial']['wind_speed']}":
        "imperial",
    f"{UNIT_SYMBOLS['metric']['temperature']} · {UNIT_SYMBOLS['metric']['wind_speed']}":
        "metric",
}
PROVIDER_NAMES = {
    "demo": "Demo data (simulated)",
    "open-meteo": "Open-Meteo (live, no key)",
    "openweather": "OpenWeather (live)",
}
DEMO_NOTICE = (
    "**Simulated weather.** These values are generated on this server, not measured. "
    "For live data, start the server with `WEATHER_PROVIDER=open-meteo` (no key needed) "
    "or with `OPENWEATHER_API_KEY` set."
)


class Dashboard(pn.viewable.Viewer):
    """Both tabs and the side panel for one viewer; ``page()`` wraps them in a template."""

    config = param.ClassSelector(class_=AppConfig, doc="The server's settings.")

    def __init__(self, config: AppConfig, **params) -> None:
        super().__init__(config=config, **params)
        self.feed = feed = runtime.shared_feed(config)
        self.settings = ViewerSettings(units=config.units)
        self.streaming = StreamingTab(feed=feed, settings=self.settings)
        # The Refresh tab is made the first time it is shown, and then stays. Its map and
        # table are a quarter of the work of building a page, its widgets a tenth more, and
        # most pages (a wall screen) never show that tab. Panel's `Tabs(dynamic=True)` would
        # also drop the Real Time plots from a page each time Refresh is shown, and send them
        # again after. Until the map and table arrive (about 0.7 s on a two-core server), the
        # browser shows this line the moment the tab is clicked. Still text: a spinner here
        # would turn unseen behind the Real Time tab all day, a tenth of a core on every
        # wall screen.
        self.refresh: RefreshTab | None = None
        self.refresh_placeholder = pn.pane.HTML(
            "Loading the map and table…", styles=STYLE, margin=(26, 10))
        self.refresh_slot = pn.Column(self.refresh_placeholder, sizing_mode="stretch_width")
        self.real_time_slot = pn.Column(
            pn.pane.HTML("Loading the plots…", styles=STYLE, margin=(26, 10)),
            sizing_mode="stretch_width")
        self.tabs = pn.Tabs(("Real Time", self.real_time_slot), ("Refresh", self.refresh_slot),
                            margin=(0, 20, 0, 0), stylesheets=[TABS_CSS])
        _after_the_page_is_sent(self._draw_real_time)
        self.tabs.param.watch(self._on_tab_shown, "active")
        self.units = pn.widgets.RadioButtonGroup(
            label="Units", options=UNIT_CHOICES, value=config.units, color="primary",
            variant="outline",
        )
        self.units.link(self.settings, value="units")
        self.source = pn.pane.Markdown(
            f"**Data source:** {PROVIDER_NAMES.get(feed.provider.name, feed.provider.name)}  \n"
            f"Polled every {config.interval_s:g} s for {len(config.cities)} "
            f"{'city' if len(config.cities) == 1 else 'cities'}",
            margin=(0, 10),
        )
        self.notice = pn.pane.Alert(
            DEMO_NOTICE, alert_type="warning", visible=feed.provider.name == "demo",
            margin=(5, 10),
        )
        self.side = pn.Column(
            self.source,
            self.notice,
            pn.pane.Markdown("**Units**", margin=(10, 10, 0, 10)),
            self.units,
            pn.pane.Markdown("**Feed status**", margin=(10, 10, 0, 10)),
            self.streaming.feed_status,
        )

    def _draw_real_time(self) -> None:
        self.real_time_slot.objects = [self.streaming]

    def _on_tab_shown(self, event) -> None:
        if self.tabs[event.new] is self.refresh_slot and self.refresh is None:
            self.refresh = self._refresh_tab()
            self.refresh_slot.objects = [self.refresh]

    def _refresh_tab(self) -> RefreshTab:
        # It opens on the feed's newest data: showing it asks no provider.
        return RefreshTab(
            provider=runtime.shared_refresh_provider(self.config),
            cities=list(self.config.cities),
            settings=self.settings,
            tiles=self.config.tiles,
            data=results_frame(self.feed.cities, self.feed.latest_results(), "metric",
                               provider=self.feed.provider.name),
        )

    def __panel__(self):
        return pn.Row(pn.Column(self.side, width=300, sizing_mode="fixed"), self.tabs)

    def page(self) -> pn.template.BaseTemplate:
        """Return the served page: a template with the side panel and the tabs."""
        return page_template(main=[self.tabs], sidebar=[self.side], sidebar_width=320)


def page_template(**params: object) -> pn.template.BaseTemplate:
    """The page around every view the app serves: title, theme switch and ``params``' areas.

    Panel's plain template. The FAST templates load 0.9 MB of web components (a fifth of a
    page's scripts) and style every widget through them: a page showed its first plot 0.15 s
    later (2.89 s against 2.72 s, median of 10 loads on two cores), for a switch in the header.
    """
    return pn.template.VanillaTemplate(
        title=TITLE, header=[theme_switch(pn.config.theme)], header_background=HEADER_COLOUR,
        **params,
    )


def theme_switch(theme: str) -> pn.pane.HTML:
    """A link in the header to this page in the other theme (Panel reads ``?theme=``)."""
    dark = theme == "dark"
    other, label = ("default", "☀ Light theme") if dark else ("dark", "☾ Dark theme")
    return pn.pane.HTML(
        f'<a href="?theme={other}" title="Show this page in the {label[2:].lower()}">{label}</a>',
        stylesheets=[THEME_SWITCH_CSS], margin=(0, 10), align="center",
    )


def _after_the_page_is_sent(draw: Callable[[], None]) -> None:
    """Run ``draw`` once the server has sent a served page's HTML, else (a notebook) now.

    Drawing the Real Time plots is three quarters of building a page. Done before the HTML
    goes out, the browser waits for it before it can even ask for its 3 MB of scripts; done
    just after, the server draws while the browser loads them, and the plots are there when
    the page asks for its document.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        draw()
        return

    def draw_frozen() -> None:
        with doc.models.freeze():  # one walk of the model graph, not one per new model
            draw()

    doc.add_next_tick_callback(draw_frozen)


def serve_page(config: AppConfig | None = None) -> pn.viewable.Viewable:
    """Build the page for one session and mark it servable (`panel serve` runs this).

    A bad setting gives a readable error page instead. Returns the page.
    """
    show_info_logs()
    quiet_closed_websockets_of_this_server()
    leave_out_unused_bundles()
    doc = pn.state.curdoc
    # Bokeh walks the whole model graph of a document each time a root is added to it, and
    # a page adds a root for each template area: a fifth of building a page went to those
    # walks. Frozen, the document walks its graph once, when the page is complete.
    with doc.models.freeze() if doc is not None else contextlib.nullcontext():
        return page_for(config).servable()


def page_for(config: AppConfig | None = None) -> pn.viewable.Viewable:
    """The page of one session, or a readable error page for a bad setting."""
    try:
        config = AppConfig.from_env() if config is None else config
        return Dashboard(config).page()
    except ConfigError as exc:
        log.error("weather dashboard cannot start: %s", exc)
        return config_error_page(exc)


def config_error_page(exc: ConfigError) -> pn.viewable.Viewable:
    """A page that names the bad setting in one line, with no traceback."""
    message = html.escape(str(exc))
    return page_template(
        main=[
            pn.pane.Alert(
                f"<b>Configuration error.</b> {message}<br>"
                "Fix the setting and restart the server.",
                alert_type="danger",
            )
        ],
    )
