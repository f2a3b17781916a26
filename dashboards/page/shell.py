"""The page around the two tabs: title, data source, units switch, feed status and theme."""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Callable
from urllib.parse import urlencode

import panel as pn
import param

from dashboards.config import AppConfig
from dashboards.page.address import AddressChoices, read_address
from dashboards.page.reconnect import reload_when_server_back
from dashboards.page.scripts import leave_out_unused_bundles
from dashboards.page.styles import (
    COMPACT_SOURCE_CSS,
    KIOSK_CSS,
    KIOSK_SOURCE_CSS,
    KIOSK_TABS_CSS,
    META_VIEWPORT,
    PHONE_CSS,
    KioskDesign,
    PageDesign,
)
from dashboards.server import shared as runtime
from dashboards.server.server_log import (
    quiet_closed_websockets_of_this_server,
    show_info_logs,
)
from dashboards.views.realtime.tab import StreamingTab
from dashboards.views.refresh.layout import STYLE
from dashboards.views.refresh.messages import literal_markdown
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
@media (max-width: 700px) { .word { display: none; } }
"""
#: Tab titles readable from across a room (the plain design draws them at 12 px), the open
#: one in the page's text colour: the plain dark design draws it near-black on dark grey.
TABS_CSS = """
.bk-tab { font-size: 15px; padding: 6px 16px; }
.bk-tab.bk-active { color: var(--panel-on-background-color); }
"""
#: The clocks a viewer can read times on, by their button's label.
TIME_ZONE_CHOICES = {"UTC": "UTC", "Local": "local"}
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
#: Plot height in a kiosk: the three plots, controls and source lines fit a 1080p screen.
KIOSK_PLOT_HEIGHT_PX = 230
#: Text in a kiosk, the plots' tick labels included, is read from across a room.
KIOSK_TEXT_PX = 18
#: What each provider asks its users to show (Open-Meteo's data is CC BY 4.0).
PROVIDER_CREDITS = {
    "open-meteo": "Weather data by Open-Meteo.com (CC BY 4.0)",
    "openweather": "Weather data by OpenWeather",
}
DEMO_NOTICE = (
    "**Simulated weather.** These values are generated on this server, not measured. "
    "For live data, start the server with `WEATHER_PROVIDER=open-meteo` (no key needed) "
    "or with `OPENWEATHER_API_KEY` set."
)


class Dashboard(pn.viewable.Viewer):
    """Both tabs and the side panel for one viewer; ``page()`` wraps them in a template."""

    config = param.ClassSelector(class_=AppConfig, doc="The server's settings.")
    address = param.ClassSelector(class_=AddressChoices, doc="""
        What the page's address chose: kiosk mode, cities, units, tab, window.""")

    def __init__(self, config: AppConfig, address: AddressChoices | None = None,
                 **params) -> None:
        address = address if address is not None else AddressChoices()
        super().__init__(config=config, address=address, **params)
        self.feed = feed = runtime.shared_feed(config)
        self.settings = ViewerSettings(units=address.units or config.units,
                                       time_zone=address.time_zone or "UTC")
        _follow_browser_zone(self.settings)
        chosen = {k: v for k, v in (("cities", list(address.cities or [])),
                                     ("window", address.window)) if v}
        if address.kiosk:
            chosen.update(plot_height_px=KIOSK_PLOT_HEIGHT_PX, tick_text_px=KIOSK_TEXT_PX,
                          show_export=False)
        self.streaming = StreamingTab(feed=feed, forecast=runtime.shared_forecast(config),
                                      settings=self.settings, **chosen)
        # The Refresh tab is made when first shown, then stays: most pages (a wall screen)
        # never show it. Until it arrives the tab holds still text, not a spinner that would
        # turn unseen all day.
        self.refresh: RefreshTab | None = None
        self.refresh_placeholder = pn.pane.HTML(
            "Loading the map and table…", styles=STYLE, margin=(26, 10))
        self.refresh_slot = pn.Column(self.refresh_placeholder, sizing_mode="stretch_width")
        self.tabs = pn.Tabs(("Real Time", self.streaming), ("Refresh", self.refresh_slot),
                            margin=(0, 20, 0, 0),
                            stylesheets=[TABS_CSS, *([KIOSK_TABS_CSS] if address.kiosk else [])])
        self.tabs.param.watch(self._on_tab_shown, "active")
        if address.tab:
            self.tabs.active = address.tab
        self.units = pn.widgets.RadioButtonGroup(
            label="Units", options=UNIT_CHOICES, value=self.settings.units, color="primary",
            variant="outline",
        )
        self.units.link(self.settings, value="units")
        self.time_zone = pn.widgets.RadioButtonGroup(
            label="Times", options=TIME_ZONE_CHOICES, value=self.settings.time_zone,
            color="primary", variant="outline",
        )
        self.time_zone.link(self.settings, value="time_zone")
        source_name = PROVIDER_NAMES.get(feed.provider.name, feed.provider.name)
        credit = PROVIDER_CREDITS.get(feed.provider.name, "")
        count = len(config.cities)
        self.source = pn.pane.Markdown(
            f"**Data source:** {source_name}  \n"
            f"Polled every {config.interval_s:g} s for {count} {'city' if count == 1 else 'cities'}"
            + (f"  \n{credit}" if credit else ""),
            margin=(0, 10),
        )
        # The source in one line above the tabs, for screens where the side panel is closed
        # (a phone) or absent (a kiosk).
        self.compact_source = pn.pane.HTML(
            compact_source_html(source_name, credit, feed.provider.name == "demo"),
            stylesheets=[KIOSK_SOURCE_CSS if address.kiosk else COMPACT_SOURCE_CSS],
            sizing_mode="stretch_width", margin=(0, 10))
        # Address values that could not be used: said on the page, never an error page.
        # Boxes are made only when they have something to say.
        self.address_notes = [pn.pane.Alert(
            "\n\n".join(literal_markdown(n) for n in address.notes), alert_type="warning",
            sizing_mode="stretch_width", margin=(5, 10))] if address.notes else []
        self.notice = [pn.pane.Alert(DEMO_NOTICE, alert_type="warning", margin=(5, 10))
                       ] if feed.provider.name == "demo" else []
        self.side = pn.Column(
            self.source,
            *self.notice,
            pn.pane.Markdown("**Units**", margin=(10, 10, 0, 10)),
            self.units,
            pn.pane.Markdown("**Times**", margin=(10, 10, 0, 10)),
            self.time_zone,
            pn.pane.Markdown("**Feed status**", margin=(10, 10, 0, 10)),
            self.streaming.feed_status,
        )

    def _on_tab_shown(self, event) -> None:
        if self.tabs[event.new] is self.refresh_slot and self.refresh is None:
            self.refresh = self._refresh_tab()
            self.refresh_slot.objects = [self.refresh]

    def _refresh_tab(self) -> RefreshTab:
        # It opens on the feed's newest data: showing it asks no provider.
        return RefreshTab(
            provider=runtime.shared_refresh_provider(self.config),
            forecast=runtime.shared_forecast(self.config),
            cities=list(self.address.cities or self.config.cities),
            settings=self.settings,
            tiles=self.config.tiles,
            data=results_frame(self.feed.cities, self.feed.latest_results(), "metric",
                               provider=self.feed.provider.name),
        )

    def __panel__(self):
        return pn.Row(pn.Column(self.side, width=300, sizing_mode="fixed"), self.tabs)

    @property
    def main_area(self) -> list[pn.viewable.Viewable]:
        """What the page's main area holds: the source line, the address's notes, the tabs."""
        return [self.compact_source, *self.address_notes, self.tabs]

    def page(self) -> pn.template.BaseTemplate:
        """Return the page: a template with the side panel (none in a kiosk) and the tabs."""
        return dashboard_template(self.address.kiosk, main=self.main_area, sidebar=[self.side])


def dashboard_template(kiosk: bool, main: list, sidebar: list) -> pn.template.BaseTemplate:
    """The dashboard's template around ``main`` and, unless a kiosk, ``sidebar``."""
    if kiosk:
        return page_template(main=main, kiosk=True)
    return page_template(main=main, sidebar=sidebar, sidebar_width=320)


def page_template(kiosk: bool = False, **params: object) -> pn.template.BaseTemplate:
    """The page around every view the app serves: title, theme switch and ``params``' areas.

    Panel's plain template: the FAST ones load a fifth more script for little the page uses.
    """
    template = pn.template.VanillaTemplate(
        title=TITLE, header=[theme_switch(pn.config.theme)], header_background=HEADER_COLOUR,
        meta_viewport=META_VIEWPORT, design=KioskDesign if kiosk else PageDesign, **params,
    )
    template.config.raw_css.append(KIOSK_CSS if kiosk else PHONE_CSS)
    return template


def compact_source_html(source_name: str, credit: str, demo: bool) -> str:
    """One line naming the data source and its credit; for the demo, that it is simulated."""
    line = f"<p><b>Data source:</b> {html.escape(source_name)}"
    line += f" · {html.escape(credit)}</p>" if credit else "</p>"
    if demo:
        line += ('<p class="demo">Simulated weather, not measured: start the server with '
                 "WEATHER_PROVIDER=open-meteo for live data.</p>")
    return line


def theme_switch(theme: str) -> pn.pane.HTML:
    """A link in the header to this page in the other theme (Panel reads ``?theme=``); the
    address's other choices (cities, units, ...) are kept."""
    dark = theme == "dark"
    other, label = ("default", "☀ Light theme") if dark else ("dark", "☾ Dark theme")
    kept = [(name, value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
            for name, values in (pn.state.session_args or {}).items() if name != "theme"
            for value in values]
    href = html.escape("?" + urlencode([*kept, ("theme", other)]))
    return pn.pane.HTML(
        f'<a href="{href}" title="Show this page in the {label[2:].lower()}">'
        f'{label[0]}<span class="word"> {label[2:]}</span></a>',
        stylesheets=[THEME_SWITCH_CSS], margin=(0, 10), align="center",
    )


def _after_the_page_is_sent(draw: Callable[[], None]) -> None:
    """Run ``draw`` on the server's next tick, once it has sent the page's HTML."""
    doc = pn.state.curdoc

    def draw_frozen() -> None:
        with doc.models.freeze():  # one walk of the model graph, not one per new model
            draw()

    doc.add_next_tick_callback(draw_frozen)


def _built_after_the_page_is_sent(config: AppConfig,
                                  address: AddressChoices) -> pn.template.BaseTemplate:
    """The page's template at once, its dashboard built just after the HTML is sent.

    The browser then loads its scripts while the server builds the viewer's tabs and side
    panel, instead of waiting for them before the HTML comes.
    """
    runtime.shared_feed(config)  # a setting found wrong here still gets the error page
    main = pn.Column(pn.pane.HTML("Loading the plots…", styles=STYLE, margin=(26, 10)),
                     sizing_mode="stretch_width")
    side = pn.Column(sizing_mode="stretch_width")
    template = dashboard_template(address.kiosk, main=[main], sidebar=[side])

    def build() -> None:
        try:
            dashboard = Dashboard(config, address)
        except ConfigError as exc:
            log.error("weather dashboard cannot start: %s", exc)
            main.objects = [config_error_alert(exc)]
            return
        main.objects = dashboard.main_area
        side.objects = [dashboard.side]

    _after_the_page_is_sent(build)
    return template


def serve_page(config: AppConfig | None = None) -> pn.viewable.Viewable:
    """Build the page for one session and mark it servable (`panel serve` runs this).

    A bad setting gives a readable error page instead. Returns the page.
    """
    show_info_logs()
    quiet_closed_websockets_of_this_server()
    leave_out_unused_bundles()
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        reload_when_server_back(doc)
    # Frozen, the document walks its model graph once, not once per template area it adds.
    with doc.models.freeze() if doc is not None else contextlib.nullcontext():
        return page_for(config).servable()


def page_for(config: AppConfig | None = None) -> pn.viewable.Viewable:
    """The page of one session, or a readable error page for a bad setting."""
    try:
        config = AppConfig.from_env() if config is None else config
        address = read_address(pn.state.session_args or {}, config.cities)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            return _built_after_the_page_is_sent(config, address)
        return Dashboard(config, address).page()
    except ConfigError as exc:
        log.error("weather dashboard cannot start: %s", exc)
        return page_template(main=[config_error_alert(exc)])


def config_error_alert(exc: ConfigError) -> pn.pane.Alert:
    """A box that names the bad setting in one line, with no traceback."""
    return pn.pane.Alert(
        f"<b>Configuration error.</b> {html.escape(str(exc))}<br>"
        "Fix the setting and restart the server.",
        alert_type="danger",
    )


def _follow_browser_zone(settings: ViewerSettings) -> None:
    """Keep ``settings.browser_zone`` at the zone the page's browser reports (served pages)."""
    info = pn.state.browser_info
    if info is None:
        return
    settings.browser_zone = info.timezone or None
    info.param.watch(lambda event: setattr(settings, "browser_zone", event.new or None),
                     "timezone")
