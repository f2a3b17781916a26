"""What every plot of the dashboard shares: how it is drawn, and how to reach it once drawn."""

from __future__ import annotations

from typing import Any

import panel as pn

#: Draw on a 2D canvas, not WebGL (HoloViews' default). A few thousand points need no GPU,
#: and without one (a kiosk, a headless or virtual machine) WebGL is emulated in software:
#: copying its canvas on every repaint cost a Refresh click about a second of browser time.
CANVAS = {"backend_opts": {"plot.output_backend": "canvas"}}
#: Font sizes in pixels, the same in the light and the dark theme. HoloViews' ``fontscale``
#: scales the theme's own sizes, which Panel's dark theme gives in em: the dark axis labels
#: came out a third larger, and "Wind speed (mph)" no longer fitted beside its plot.
PLOT_FONTS = {"labels": "16px", "ticks": "13px"}
MAP_FONTS = {"title": "21px", "labels": "17px", "ticks": "14px", "clabel": "17px",
             "cticks": "14px"}


def drawn_plots(pane: pn.pane.HoloViews) -> list[Any]:
    """The HoloViews plots ``pane`` has drawn, one per page showing it, each once.

    ``pane._plots`` is private but stable. Panel's templates file one plot under two root
    ids: going through it as it is streamed every update into the same lines twice.
    """
    plots = {id(plot): plot for plot, _pane in pane._plots.values()}
    return list(plots.values())
