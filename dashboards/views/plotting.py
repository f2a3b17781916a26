"""What every plot of the dashboard shares: its text sizes."""

from __future__ import annotations

#: Font sizes in pixels, the same in the light and the dark theme (Panel's dark theme gives
#: Bokeh's sizes in em, which drew the dark labels larger than the light ones).
PLOT_FONTS = {"labels": "16px", "ticks": "13px"}
