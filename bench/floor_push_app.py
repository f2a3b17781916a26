"""The least a pushed Panel page costs: three Bokeh figures streamed each poll, from one thread.

Not a dashboard: ``bench.push`` serves it beside ours and the article's to show the floor for
pushing a poll to many sessions on this stack, in the same run, on the same machine. One
poller thread per process asks the same provider for the same cities every
``WEATHER_INTERVAL`` seconds and schedules each session's stream of the new points on that
session's document with ``add_next_tick_callback``.
"""

from __future__ import annotations

import os

import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure


class Poller:
    """Polls the provider on its own thread and pushes each poll's points to every session.

    Made once per process (``pn.state.as_cached``), it imports what it uses itself: the server
    clears this script's globals when the session that first ran it ends.
    """

    quantities = ("temperature_c", "humidity_pct", "wind_speed_ms")

    def __init__(self) -> None:
        import threading

        from weather.providers import OpenWeatherProvider

        self.provider = OpenWeatherProvider(os.environ["OPENWEATHER_API_KEY"],
                                            base_url=os.environ["OPENWEATHER_BASE_URL"])
        self.cities = [c for c in os.environ["WEATHER_CITIES"].split(";") if c]
        self.interval_s = float(os.environ.get("WEATHER_INTERVAL", "5"))
        self.lock = threading.Lock()
        self.sessions: dict[int, tuple[object, dict]] = {}
        threading.Thread(target=self.run, daemon=True, name="floor-poller").start()

    def add(self, doc, sources: dict) -> None:
        import weakref

        with self.lock:
            self.sessions[id(doc)] = (weakref.ref(doc), sources)

    def remove(self, doc) -> None:
        with self.lock:
            self.sessions.pop(id(doc), None)

    def run(self) -> None:
        import contextlib
        import time
        from functools import partial

        while True:
            time.sleep(self.interval_s - time.time() % self.interval_s)
            try:
                results = self.provider.current(self.cities)
            except Exception:
                continue
            now = time.time() * 1000
            points = [r for r in results if hasattr(r, "temperature_c")]
            new = {q: {"time": [now] * len(points), "value": [getattr(r, q) for r in points]}
                   for q in self.quantities}
            with self.lock:
                sessions = list(self.sessions.values())
            for doc_ref, sources in sessions:
                doc = doc_ref()
                if doc is not None:
                    # A session being destroyed refuses callbacks: the others still get theirs.
                    with contextlib.suppress(Exception):
                        doc.add_next_tick_callback(partial(self.stream, sources, new))

    @staticmethod
    def stream(sources: dict, new: dict) -> None:
        for quantity, source in sources.items():
            source.stream(new[quantity], rollover=10_000)


poller = pn.state.as_cached("floor-push-poller", Poller)
sources = {q: ColumnDataSource({"time": [], "value": []}) for q in Poller.quantities}
figures = []
for quantity, source in sources.items():
    fig = figure(x_axis_type="datetime", height=230, sizing_mode="stretch_width",
                 title=quantity)
    fig.scatter("time", "value", source=source)
    figures.append(pn.pane.Bokeh(fig, sizing_mode="stretch_width"))
doc = pn.state.curdoc
poller.add(doc, sources)
doc.on_session_destroyed(lambda _context, doc=doc, poller=poller: poller.remove(doc))
pn.Column(*figures, sizing_mode="stretch_width").servable()
