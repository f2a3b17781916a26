"""The page around the two tabs: title, data source, units switch, feed status and theme."""

from __future__ import annotations

import contextlib
import html
import logging

import panel as pn
import param

from dashboards import runtime
from dashboards.config import AppConfig
from dashboards.page_scripts import leave_out_unused_bundles
from dashboards.refresh import RefreshTab
from dashboards.refresh_view import STYLE
from dashboards.streaming import StreamingTab
from dashboards.viewer_settings import ViewerSettings
from weather.api import results_frame
from weather.errors import ConfigError
from weather.models import UNIT_SYMBOLS

log = logging.getLogger(__name__)

TITLE = "Real-time weather"
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
        feed = runtime.shared_feed(config)
        self.settings = ViewerSettings(units=config.units)
        self.streaming = StreamingTab(feed=feed, settings=self.settings)
        # The Refresh tab opens on the feed's newest data: loading a page asks no provider.
        self.refresh = RefreshTab(
            provider=runtime.shared_refresh_provider(config),
            cities=list(config.cities),
            settings=self.settings,
            tiles=config.tiles,
            data=results_frame(feed.cities, feed.latest_results(), "metric",
                               provider=feed.provider.name),
        )
        # The Refresh tab goes into the page the first time it is shown, and then stays. Its
        # map and table are a quarter of the work of building a page, and most pages (a wall
        # screen) never show that tab. Panel's `Tabs(dynamic=True)` would also drop the
        # Real Time plots from a page each time Refresh is shown, and send them again after.
        # Until the map and table arrive (about 0.7 s on a two-core server), the browser shows
        # this line the moment the tab is clicked. Still text: a spinner here would turn
        # unseen behind the Real Time tab all day, a tenth of a core on every wall screen.
        self.refresh_placeholder = pn.pane.HTML(
            "Loading the map and table…", styles=STYLE, margin=(26, 10))
        self.refresh_slot = pn.Column(self.refresh_placeholder, sizing_mode="stretch_width")
        self.tabs = pn.Tabs(("Real Time", self.streaming), ("Refresh", self.refresh_slot),
                            margin=(0, 20, 0, 0))
        self.tabs.param.watch(self._on_tab_shown, "active")
        self.units = pn.widgets.RadioButtonGroup(
            label="Units", options=UNIT_CHOICES, value=config.units, color="primary",
            variant="outline",
        )
        self.units.link(self.settings, value="units")
        self.source = pn.pane.Markdown(
            f"**Data source:** {PROVIDER_NAMES.get(feed.provider.name, feed.provider.name)}  \n"
            f"Polled every {config.interval_s:g} s for {len(config.cities)} cities",
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

    def _on_tab_shown(self, event) -> None:
        if (self.tabs[event.new] is self.refresh_slot
                and self.refresh_slot.objects == [self.refresh_placeholder]):
            self.refresh_slot.objects = [self.refresh]

    def __panel__(self):
        return pn.Row(pn.Column(self.side, width=300, sizing_mode="fixed"), self.tabs)

    def page(self) -> pn.template.BaseTemplate:
        """Return the served page: a template with the side panel and the tabs."""
        return pn.template.FastListTemplate(
            title=TITLE,
            sidebar=[self.side],
            main=[self.tabs],
            sidebar_width=320,
            theme_toggle=True,
            accent="#1f6feb",
            main_layout=None,
        )


def serve_page(config: AppConfig | None = None) -> pn.viewable.Viewable:
    """Build the page for one session and mark it servable (`panel serve` runs this).

    A bad setting gives a readable error page instead. Returns the page.
    """
    _show_info_logs()
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


def _show_info_logs() -> None:
    """Let the server log say what the feed does (`panel serve` only shows warnings of ours)."""
    for name in ("dashboards", "weather"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


def config_error_page(exc: ConfigError) -> pn.viewable.Viewable:
    """A page that names the bad setting in one line, with no traceback."""
    message = html.escape(str(exc))
    return pn.template.FastListTemplate(
        title=TITLE,
        main=[
            pn.pane.Alert(
                f"<b>Configuration error.</b> {message}<br>"
                "Fix the setting and restart the server.",
                alert_type="danger",
            )
        ],
    )
