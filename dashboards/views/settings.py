"""Choices one viewer makes that every tab of that viewer follows."""

from __future__ import annotations

import param

from weather.models import UNITS

#: Clocks a viewer can read times on: UTC, or the browser's own zone.
TIME_ZONES = ("UTC", "local")


class ViewerSettings(param.Parameterized):
    """Per-viewer display settings, shared by the tabs of one browser session."""

    units = param.Selector(default="imperial", objects=list(UNITS), doc="""
        Display units: imperial (°F, mph) or metric (°C, m/s). Data is stored metric.""")
    time_zone = param.Selector(default="UTC", objects=list(TIME_ZONES), doc="""
        Clock of every time shown: UTC, or the browser's zone ("local"). Data is stored UTC.""")
    browser_zone = param.String(default=None, allow_None=True, doc="""
        The browser's time zone (an IANA name such as "Europe/Paris"), once the page told it.""")

    @property
    def zone(self) -> str | None:
        """The IANA zone the server writes times in for this viewer (None: UTC)."""
        return self.browser_zone if self.time_zone == "local" else None
