"""The BokehJS bundles a served page loads: the two the dashboard never runs are left out.

Of the 6 MB of JavaScript a page loaded, 2 MB were bundles it does not use:

- ``bokeh-mathjax`` (1.8 MB): Panel adds it to every page holding an HTML or Markdown pane,
  in case the text holds TeX. None of ours does, and Panel's HTML view checks that MathJax is
  there before it uses it.
- ``bokeh-gl`` (0.2 MB): for plots drawn with WebGL. Every plot here is drawn on a canvas
  (``output_backend="canvas"``).

Bokeh's server lists a page's scripts from the default components of its ``Resources``,
read for each page; Panel only ever removes MathJax from that list, never adds it back.
"""

from __future__ import annotations

import bokeh.resources

UNUSED_BUNDLES = ("bokeh-gl", "bokeh-mathjax")


def leave_out_unused_bundles() -> None:
    """Serve pages without the bundles in ``UNUSED_BUNDLES`` (idempotent)."""
    resources = bokeh.resources.Resources
    # A private class attribute: tests/test_ui_app.py checks a served page's scripts, so a
    # Bokeh release that reads its bundles elsewhere shows up as a failing test.
    resources._default_components = [
        c for c in resources._default_components if c not in UNUSED_BUNDLES
    ]
