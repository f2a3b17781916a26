"""The widgets and panes of one Refresh tab, built once and then only filled with new values."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import panel as pn
from bokeh.models.widgets.tables import NumberFormatter

from dashboards.server.status import clock, zone_name
from dashboards.views.refresh.data import MAX_NAME_LENGTH, TABLE_COLUMNS, count_text
from dashboards.views.refresh.map import MAP_HEIGHT_PX, CityMap
from dashboards.views.refresh.messages import Notice, literal_markdown
from dashboards.views.refresh.outlook import OUTLOOK_COLUMNS, OUTLOOK_HOURS
from weather.models import QUANTITIES

if TYPE_CHECKING:
    from dashboards.views.refresh.tab import RefreshTab

#: Every column of the table, the forecast's high and low included, fits this width.
TABLE_WIDTH_PX = 840
#: Cities the table shows without scrolling, and its height when it holds more.
TABLE_MAX_ROWS = 12
TABLE_MAX_HEIGHT_PX = 430
# Text cells are shown as text: "plaintext" escapes what a city name might hold.
PLAINTEXT = {"type": "plaintext"}
FORMATTERS = {
    "city": PLAINTEXT, "time": PLAINTEXT, "status": PLAINTEXT,
    **{q: NumberFormatter(format="0.0", nan_format="–", text_align="right")
       for q in (*QUANTITIES, *OUTLOOK_COLUMNS)},
}
STYLE = {"font-size": "1.15em"}
SCOPE_NOTE = ("Cities added or removed here are for this page only: the Real Time tab, "
              "the server's feed and other viewers keep the server's list.")
#: The table in the page's theme colours (Tabulator's own theme is white in a dark page).
TABLE_CSS = """
.tabulator, .tabulator .tabulator-header, .tabulator .tabulator-header .tabulator-col,
.tabulator .tabulator-tableholder, .tabulator .tabulator-tableholder .tabulator-table,
.tabulator .tabulator-row, .tabulator .tabulator-row .tabulator-cell,
.tabulator .tabulator-header .tabulator-col .tabulator-col-content,
.tabulator .tabulator-header .tabulator-col .tabulator-col-title,
.tabulator .tabulator-header .tabulator-col.tabulator-sortable.tabulator-col-sorter-element {
  background-color: var(--panel-background-color); color: var(--panel-on-background-color);
  border-color: color-mix(in srgb, var(--panel-on-background-color) 25%, transparent);
}
/* On a narrow screen the table scrolls sideways inside its own box, not the page. */
.tabulator { max-width: 100%; }
/* The forecast's header group in the theme's colours too, its lines as faint as the rest. */
.tabulator .tabulator-header .tabulator-col.tabulator-col-group,
.tabulator .tabulator-header .tabulator-col.tabulator-col-group .tabulator-col-group-cols {
  background-color: var(--panel-background-color) !important;
  border-color: color-mix(in srgb, var(--panel-on-background-color) 25%, transparent)
    !important;
}
/* The forecast's header wraps over its two columns rather than widening them. */
.tabulator .tabulator-header .tabulator-col.tabulator-col-group .tabulator-col-content
  .tabulator-col-title { white-space: normal; text-overflow: clip; text-align: center; }
.tabulator .tabulator-row.tabulator-row-even,
.tabulator .tabulator-row.tabulator-row-even .tabulator-cell {
  background-color: var(--panel-surface-color); color: var(--panel-on-surface-color);
}
"""
#: On a phone the table keeps the city, the chosen quantity now, its next 24 h high and low,
#: and the status; the other columns, a swipe away before, are left out. Sort arrows, drawn
#: only while sorted, leave their room to the values, so the rest fits a phone's width.
#: The table's class names the chosen quantity (``by-<column>``).
PHONE_TABLE_CSS = "@media (max-width: 700px) {\n" + ",\n".join(
    f':host(.by-{chosen}) [tabulator-field="{other}"]'
    for chosen in QUANTITIES for other in (*QUANTITIES, "time")
    if other != chosen) + """ { display: none !important; }
.tabulator .tabulator-header .tabulator-col .tabulator-col-content .tabulator-col-title {
  padding-right: 0 !important; }
.tabulator .tabulator-header .tabulator-col .tabulator-col-content .tabulator-col-sorter {
  display: none !important; }
.tabulator .tabulator-header .tabulator-col[aria-sort="ascending"] .tabulator-col-sorter,
.tabulator .tabulator-header .tabulator-col[aria-sort="descending"] .tabulator-col-sorter {
  display: flex !important; }
}
"""
#: A spinning arc, shown only while the Refresh tab waits for a fetch. Turned by CSS, which
#: the browser animates apart from the page's own work: the SVG animation it replaced took
#: twice the CPU, and ran on unseen wherever the arc sat in a hidden tab.
SPINNER_SVG = (
    '<style>@keyframes weather-spin {to {transform: rotate(360deg)}}</style>'
    '<svg width="20" height="20" viewBox="0 0 50 50" aria-label="loading" '
    'style="vertical-align:-4px;animation:weather-spin 0.9s linear infinite">'
    '<circle cx="25" cy="25" r="20" fill="none" stroke="#1f6feb" stroke-width="6" '
    'stroke-linecap="round" stroke-dasharray="90 150"/></svg>'
)


class RefreshView:
    """Controls on top, the map with the table and the city list beside it."""

    def __init__(self, tab: RefreshTab) -> None:
        self.refresh_button = pn.widgets.Button.from_param(
            tab.param.refresh, color="primary", width=160, height=40,
            margin=(22, 10, 5, 10), description="Fetch the current weather of every city")
        self.column_select = pn.widgets.Select.from_param(tab.param.column, width=240)
        # Plain text plus a spinner while a fetch runs. Only the text changes: showing or
        # hiding an element, or a loading overlay, makes the browser lay out every plot of
        # the page again (about 80 ms each here, several per click).
        self.status = pn.pane.HTML("", styles={**STYLE, "flex": "1 1 320px"},
                                   margin=(26, 10, 5, 10))
        self._status_text = ""
        self._busy = False
        self.message = pn.pane.Alert("", alert_type="info", visible=False,
                                     sizing_mode="stretch_width", margin=(5, 10))
        self.map = CityMap(dark=pn.config.theme == "dark", sizing_mode="stretch_width",
                           height=MAP_HEIGHT_PX, margin=(5, 10))
        # The map takes the width the table leaves.
        map_box = pn.Column(self.map.pane, sizing_mode="stretch_width", min_width=300,
                            styles={"flex": "1 1 480px"}, margin=0)
        # Why a city has no forecast high and low: its own box, so the current weather's
        # messages (adds, removals, failures) never hide it.
        self.forecast_message = pn.pane.Alert("", alert_type="warning", visible=False,
                                              sizing_mode="stretch_width", margin=(5, 10))
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=list(TABLE_COLUMNS)), disabled=True, show_index=False,
            selectable=False, formatters=FORMATTERS, layout="fit_data_stretch",
            sizing_mode="stretch_width", stylesheets=[TABLE_CSS, PHONE_TABLE_CSS],
        )
        self.city_input = pn.widgets.TextInput(
            label="Add a city", placeholder="City name, e.g. Chicago",
            max_length=MAX_NAME_LENGTH, sizing_mode="stretch_width")
        self.add_button = pn.widgets.Button(label="Add", width=90,
                                            margin=(26, 10, 5, 5))
        # Said where cities are added: the list is this page's own.
        self.scope_note = pn.pane.HTML(SCOPE_NOTE, sizing_mode="stretch_width",
                                       margin=(0, 10), styles={"opacity": "0.8"})
        # A native list box: its options are text, whatever the city names contain.
        self.city_list = pn.widgets.MultiSelect(label="Cities (select to remove)", size=7,
                                                sizing_mode="stretch_width")
        self.remove_button = pn.widgets.Button(label="Remove selected",
                                               variant="outline", width=180)
        side = pn.Column(
            self.table,
            self.forecast_message,
            pn.Row(self.city_input, self.add_button, sizing_mode="stretch_width"),
            self.scope_note,
            self.city_list,
            self.remove_button,
            # Its full width beside the map; a phone's width below it. A page with larger
            # text (a kiosk) widens it through the CSS variable.
            sizing_mode="stretch_width", min_width=0,
            styles={"flex": f"0 1 var(--weather-table-width, {TABLE_WIDTH_PX}px)",
                    "max-width": f"var(--weather-table-width, {TABLE_WIDTH_PX}px)"},
        )
        self.layout = pn.Column(
            # The controls wrap onto more lines on a narrow screen.
            pn.FlexBox(self.refresh_button, self.column_select, self.status, flex_wrap="wrap",
                       align_items="flex-start", sizing_mode="stretch_width"),
            self.message,
            # Side by side where both fit; on a narrower screen (1600 px or less with the side
            # panel open) the table goes below the map instead of past the page's edge.
            pn.FlexBox(map_box, side, flex_wrap="wrap", sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def show_table(self, frame: pd.DataFrame, titles: dict[str, str], outlook_header: str,
                   column: str) -> None:
        """Show ``frame`` under ``titles``, the forecast's columns grouped under
        ``outlook_header``; ``column`` is the quantity the forecast is of."""
        # A long list scrolls beside the map, and the browser then draws only the rows in
        # view: redrawing all of 30 rows took a third of a refresh's time in the browser.
        height = TABLE_MAX_HEIGHT_PX if len(frame) > TABLE_MAX_ROWS else None
        self.table.param.update(value=frame, titles=titles, height=height,
                                groups={outlook_header: list(OUTLOOK_COLUMNS)},
                                css_classes=[f"by-{column}"])

    def show_cities(self, cities: Sequence[str]) -> None:
        self.city_list.param.update(options=list(cities),
                                    value=[c for c in self.city_list.value if c in cities])

    def show_status(self, refreshed_at: float | None, results: pd.DataFrame,
                    count: int, zone: str | None = None) -> None:
        """The line under the button: when the data was refreshed (or observed), on the
        clock of ``zone`` (an IANA name; None: UTC)."""
        newest = results.loc[results["status"] == "ok", "time"].max()
        cities = count_text(count)
        if refreshed_at is not None:
            text = (f"Refreshed {clock(refreshed_at, zone)} {zone_name(zone, refreshed_at)}"
                    f" · {cities}")
        elif not pd.isna(newest):
            observed_s = newest.timestamp()
            text = (f"Observed up to {clock(observed_s, zone)[:5]} "
                    f"{zone_name(zone, observed_s)} · {cities} · Refresh for newer")
        else:
            text = "Waiting for the first data…"
        self._status_text = text
        if not self._busy:
            self.status.object = html.escape(text)

    def show_message(self, notice: Notice) -> None:
        if notice.text:
            self.message.param.update(object=notice.markdown(), alert_type=notice.kind,
                                      visible=True)
        else:
            self.message.visible = False

    def show_forecast_problems(self, lines: Sequence[str]) -> None:
        """Each plain-text line as an item of a list that renders it literally."""
        if lines:
            items = "\n".join(f"- {literal_markdown(line)}" for line in lines)
            self.forecast_message.param.update(
                object=f"Next {OUTLOOK_HOURS} h high and low missing or old:\n\n{items}",
                visible=True)
        else:
            self.forecast_message.visible = False

    def show_busy(self, busy: bool, doing: str = "") -> None:
        """Spin beside ``doing`` (plain text) while busy; then show the status again."""
        self._busy = busy
        text = f"{SPINNER_SVG} {html.escape(doing)}" if busy else html.escape(self._status_text)
        self.status.object = text
