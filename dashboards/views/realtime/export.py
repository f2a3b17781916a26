"""A viewer's download of the stored observations behind their plots, as CSV or Parquet."""

from __future__ import annotations

import asyncio
import io
import logging
import time

import pandas as pd
import panel as pn
import param

from dashboards.server import export
from dashboards.server.history import History
from dashboards.views.settings import ViewerSettings

#: Format labels shown to the viewer, by the format's name in ``export.FORMATS``.
FORMAT_LABELS = {"CSV": "csv", "Parquet": "parquet"}

#: The look (and height) of the Window choice's buttons, for the download button.
PRIMARY_OUTLINE_CSS = """
.bk-btn { line-height: var(--line-height); }
:host(.outline) .bk-btn.bk-btn-default {
  border-color: var(--primary-color);
}
:host(.outline) .bk-btn.bk-btn-default:hover {
  background-color: var(--primary-color); color: var(--button-primary-text-color);
}
"""

log = logging.getLogger(__name__)


class ExportDownload(pn.viewable.Viewer):
    """A download button that makes, when clicked, a file of the raw stored rows of this
    viewer's cities and time window in their units, with a format choice when ``pyarrow`` is
    installed. The rows are read and encoded in a worker thread, so the server's event loop
    keeps serving other viewers meanwhile."""

    history = param.ClassSelector(class_=History, doc="The process-wide history to read.")
    settings = param.ClassSelector(class_=ViewerSettings, doc="""
        This viewer's display choices: the file is in their units.""")
    cities = param.List(default=[], item_type=str, doc="The cities whose rows are exported.")
    window_s = param.Number(default=None, allow_None=True, bounds=(0, None), doc="""
        Seconds back from the moment of the click whose rows are exported; None exports
        everything stored.""")
    fmt = param.Selector(default="csv", objects=list(export.FORMATS), doc="""
        File format; Parquet is offered only when pyarrow is installed.""")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        if self.settings is None:
            self.settings = ViewerSettings()
        self.parquet = export.parquet_available()
        # Coloured by a stylesheet: FileDownload does not pass its ``color`` to the page.
        self.download = pn.widgets.FileDownload(
            callback=self._on_click, filename=self.filename(), label="Download",
            variant="outline", width=110, description=None, margin=(5, 10, 10, 10),
            stylesheets=[PRIMARY_OUTLINE_CSS])
        self.format_choice = pn.widgets.RadioButtonGroup(
            options=FORMAT_LABELS, value=self.fmt, color="primary", variant="outline",
            width=150, margin=(5, 0, 10, 10), visible=self.parquet)
        self.format_choice.link(self, value="fmt")
        # Shown only when an export fails; a message, never markup.
        self.error = pn.pane.Str("", visible=False, margin=(13, 10, 10, 0),
                                 styles={"color": "#b42318"})
        self._layout = pn.Column(
            pn.pane.HTML("Export the stored rows shown", margin=(5, 10, 0, 10)),
            pn.Row(self.format_choice, self.download, self.error, margin=0),
            margin=0)
        self._update_enabled()

    def __panel__(self):
        return self._layout

    # -- what the button and tests call -------------------------------------------------------
    def start(self, now_s: float | None = None) -> pd.Timestamp | None:
        """The exported span's start (UTC), ``window_s`` before ``now_s``; None: no start.
        The span ends at the click."""
        if self.window_s is None:
            return None
        return _utc((time.time() if now_s is None else now_s) - self.window_s)

    def filename(self, now_s: float | None = None) -> str:
        """The name of the file a click makes now: cities, window (UTC), units, format."""
        return export.export_filename(list(self.cities), self.start(now_s), None,
                                      self.settings.units, self.fmt)

    def make_file(self, now_s: float | None = None) -> tuple[str, bytes]:
        """The file's name and contents: the stored rows of the chosen cities and window."""
        # One reading of the choices, so the name says what the file holds though the
        # viewer changes them while it is made.
        cities, units, fmt, start = (list(self.cities), self.settings.units, self.fmt,
                                     self.start(now_s))
        name = export.export_filename(cities, start, None, units, fmt)
        rows = self.history.rows_between(start, None, cities)
        return name, export.export_bytes(rows, fmt, units)

    # -- handlers ---------------------------------------------------------------------------
    async def _on_click(self) -> io.BytesIO:
        """Made on a worker thread: a long history must not hold up every other viewer."""
        self.download.loading = True
        self.error.visible = False
        try:
            started = time.monotonic()
            name, data = await asyncio.to_thread(self.make_file, time.time())
        except Exception as exc:
            log.error("export: failed: %s: %s", type(exc).__name__, exc)
            # The reason stays in the server's log: an error may name the database.
            self.error.param.update(object="Export failed; the server's log says why.",
                                    visible=True)
            raise
        finally:
            self.download.loading = False
        log.info("export: %d bytes as %s in %.1f s", len(data), name,
                 time.monotonic() - started)
        self.download.filename = name
        return io.BytesIO(data)

    @param.depends("cities", watch=True)
    def _update_enabled(self) -> None:
        self.download.disabled = not self.cities


def _utc(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")
