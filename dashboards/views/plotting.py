"""What every plot of the dashboard shares: how it is drawn, and how to reach it once drawn."""

from __future__ import annotations

from typing import Any

import panel as pn

#: Draw on a 2D canvas, not WebGL (HoloViews' default). A few thousand points need no GPU,
#: and without one (a kiosk, a headless or virtual machine) WebGL is emulated in software:
#: copying its canvas on every repaint cost a Refresh click about a second of browser time.
#: Axis labels upright: Bokeh's default is italic, which Panel's plain page design keeps.
CANVAS = {"backend_opts": {"plot.output_backend": "canvas",
                           "xaxis.axis_label_text_font_style": "normal",
                           "yaxis.axis_label_text_font_style": "normal"}}
#: Font sizes in pixels, the same in the light and the dark theme. HoloViews' ``fontscale``
#: scales the theme's own sizes, which Panel's dark theme gives in em: the dark axis labels
#: came out a third larger, and "Wind speed (mph)" no longer fitted beside its plot.
PLOT_FONTS = {"labels": "16px", "ticks": "13px"}
MAP_FONTS = {"title": "21px", "labels": "17px", "ticks": "14px", "clabel": "17px",
             "cticks": "14px"}


#: The glyph variants a plot draws for selected, unselected and muted rows. None of the
#: dashboard's plots selects or mutes anything, yet HoloViews gives each glyph all three:
#: on the Real Time tab 18 of a page's 220 Bokeh models, and an eighth of the document the
#: browser pulls. Bokeh's own default, "auto", derives them in the browser if ever needed.
UNUSED_GLYPH_VARIANTS = ("selection_glyph", "nonselection_glyph", "muted_glyph")


def without_unused_glyphs(plot: Any, _element: Any) -> None:
    """A HoloViews hook: leave a plot's glyph variants in ``UNUSED_GLYPH_VARIANTS`` to Bokeh.

    Set before the page is sent, so they never reach it. Were HoloViews to redraw the plot,
    it would make them afresh, which costs only those models again.
    """
    renderer = plot.handles.get("glyph_renderer")
    if renderer is not None:
        for variant in UNUSED_GLYPH_VARIANTS:
            setattr(renderer, variant, "auto")


def drawn_plots(pane: pn.pane.HoloViews) -> list[Any]:
    """The HoloViews plots ``pane`` has drawn, one per page showing it, each once.

    ``pane._plots`` is private but stable. Panel's templates file one plot under two root
    ids: going through it as it is streamed every update into the same lines twice.
    """
    plots = {id(plot): plot for plot, _pane in pane._plots.values()}
    return list(plots.values())
