"""Offline headless Chromium for the benchmarks, with timings taken inside each page.

Each viewer gets its own browser context (a new visitor: no cache). Outside hosts are out of
the browser's reach by its own flags (``testing.served.CHROMIUM_ARGS``), so no request is
intercepted and pages load as in a user's browser. A script added to every page records, on
the page's own clock (``performance.now()``, milliseconds since navigation started), when a
line plot first holds data, and can time a click until a table or a text changes, so
Python's polling adds nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from testing.served import (
    WEBSOCKET_OPEN,
    BlockedRequests,
    WebsocketMeter,
    launch_chromium,
    record_outside_attempts,
)

INIT_JS = """
(() => {
  const models = function* () {
    for (const doc of (window.Bokeh && Bokeh.documents) || []) yield* doc._all_models.values();
  };
  const kind = (m) => m.constructor.__name__;
  // Rows held by the line plots: plots with a Line or Segment glyph (not the map's dots),
  // counting every glyph they draw, the dots at the newest readings included.
  const lineRows = () => {
    let rows = 0;
    for (const m of models()) {
      if (!Array.isArray(m.renderers)) continue;  // a plot (a tool's may be 'auto')
      const glyphs = m.renderers.filter((r) => r.glyph && r.data_source);
      if (!glyphs.some((r) => ['Line', 'Segment'].includes(kind(r.glyph)))) continue;
      let drawn = 0;
      for (const r of glyphs) {
        // A dot's data has a row for every city, missing values until its first reading.
        const field = r.glyph.y && r.glyph.y.field;
        const column = field && r.data_source.get_column(field);
        drawn += column ? Array.from(column).filter(Number.isFinite).length
                        : r.data_source.get_length() || 0;
      }
      rows = Math.max(rows, drawn);
    }
    return rows;
  };
  const tableSig = () => {
    const out = [];
    for (const m of models()) {
      if ((kind(m) === 'DataTable' || kind(m) === 'DataTabulator') && m.source) {
        const d = m.source.data;
        const cols = d instanceof Map ? [...d.entries()] : Object.entries(d);
        out.push(JSON.stringify(cols.map(([k, v]) => [k, Array.from(v || [])])));
      }
    }
    return out.sort().join('|');
  };
  const textSig = (needle) => {
    const out = [];
    for (const m of models()) {
      const t = m.text;
      if (typeof t === 'string' && t.includes(needle)) out.push(t);
    }
    return out.sort().join('|');
  };
  const s = window.__bench = {firstPlotMs: null, clickMs: null, doneMs: null};
  s.lineRows = lineRows;
  s.tableSig = tableSig;
  s.textSig = textSig;
  const plotTimer = setInterval(() => {
    try {
      if (lineRows() > 0) { s.firstPlotMs = performance.now(); clearInterval(plotTimer); }
    } catch (e) {}
  }, 25);
  // Time the next click until the tables (or the texts holding `needle`) change.
  s.arm = (what, needle) => {
    const sig = what === 'table' ? tableSig : () => textSig(needle);
    const before = sig();
    s.clickMs = null; s.doneMs = null;
    clearInterval(s.armTimer);
    const onClick = () => { if (s.clickMs === null) s.clickMs = performance.now(); };
    document.addEventListener('click', onClick, {capture: true, once: true});
    s.armTimer = setInterval(() => {
      if (s.clickMs !== null && sig() !== before) {
        s.doneMs = performance.now(); clearInterval(s.armTimer);
      }
    }, 10);
  };
})();
"""


class View:
    """One viewer: a page in its own context, its console and its websocket traffic."""

    def __init__(self, context: Any, url: str) -> None:
        self.context = context
        self.url = url
        self.page = context.new_page()
        self.console: list[str] = []
        self.meter = WebsocketMeter(self.page)
        self.page.on("console", lambda msg: self.console.append(msg.text))
        self.started_at: float | None = None  # time.time() when navigation was started

    def go(self) -> View:
        """Start loading the app without waiting, so several viewers can load at once."""
        self.started_at = time.time()
        # The navigation may replace the document before the call returns.
        with contextlib.suppress(PlaywrightError):
            self.page.evaluate("url => { window.location.href = url; }", self.url)
        return self

    def state(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page; None while the page is between documents."""
        try:
            return self.page.evaluate(expression)
        except PlaywrightError:
            return None

    @property
    def ws_open(self) -> bool:
        return any(WEBSOCKET_OPEN in text for text in self.console)

    def first_plot_s(self) -> float | None:
        """Seconds from navigation start until a line plot held data, once it has."""
        ms = self.state("() => window.__bench && window.__bench.firstPlotMs")
        return None if ms is None else ms / 1000

    def first_plot_at(self) -> float | None:
        """Epoch seconds at which a line plot first held data, once it has."""
        ms = self.state("() => window.__bench && window.__bench.firstPlotMs !== null"
                        " ? performance.timeOrigin + window.__bench.firstPlotMs : null")
        return None if ms is None else ms / 1000

    def line_rows(self) -> int:
        return self.state("() => window.__bench ? window.__bench.lineRows() : 0") or 0

    def timed_click(self, locator: Any, what: str = "table", needle: str = "",
                    timeout_s: float = 30.0) -> float | None:
        """Seconds from clicking ``locator`` until the tables (or texts with ``needle``) change."""
        self.page.evaluate("([w, n]) => window.__bench.arm(w, n)", [what, needle])
        locator.click(timeout=timeout_s * 1000)
        result: list[float] = []

        def done() -> bool:
            got = self.state("() => window.__bench.doneMs === null ? null"
                             " : window.__bench.doneMs - window.__bench.clickMs")
            if got is not None:
                result.append(got / 1000)
            return bool(result)

        wait_for(self, done, timeout_s)
        return result[0] if result else None

    def close(self) -> None:
        with contextlib.suppress(PlaywrightError):
            self.context.close()


class Browser:
    """Headless Chromium making no outside traffic; ``view(url)`` opens a new visitor."""

    def __init__(self) -> None:
        self.blocked = BlockedRequests()
        self._playwright: Any = None
        self.browser: Any = None

    def __enter__(self) -> Browser:
        self._playwright = sync_playwright().start()
        try:
            self.browser = launch_chromium(self._playwright)
        except BaseException:
            self._playwright.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.browser.close()
        finally:
            self._playwright.stop()

    def view(self, url: str) -> View:
        context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        record_outside_attempts(context, self.blocked)
        context.add_init_script(INIT_JS)
        return View(context, url)

    def open(self, url: str, n: int = 1) -> list[View]:
        """Open ``n`` viewers of ``url`` at once (navigations started back to back)."""
        views = [self.view(url) for _ in range(n)]
        for view in views:
            view.go()
        return views


def wait_for(view: View, condition: Callable[[], bool], timeout_s: float,
             interval_s: float = 0.05) -> bool:
    """Poll ``condition`` while Playwright delivers the page's events; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        try:
            view.page.wait_for_timeout(interval_s * 1000)
        except PlaywrightError:
            time.sleep(interval_s)


def wait_all_plotted(views: Sequence[View], timeout_s: float) -> dict[int, float]:
    """Wait until every view shows a plot with data; epoch seconds of each that did."""
    seen: dict[int, float] = {}

    def all_seen() -> bool:
        for i, view in enumerate(views):
            if i not in seen and (at := view.first_plot_at()) is not None:
                seen[i] = at
        return len(seen) == len(views)

    if views:
        wait_for(views[0], all_seen, timeout_s, 0.1)
    return seen


def wait_all_connected(views: Sequence[View], timeout_s: float) -> int:
    """Wait until every view's websocket is open; return how many are."""
    if views:
        wait_for(views[0], lambda: all(v.ws_open for v in views), timeout_s, 0.1)
    return sum(v.ws_open for v in views)


def close_all(views: Sequence[View]) -> None:
    for view in views:
        view.close()
