"""Choices one viewer makes that every tab of that viewer follows."""

from __future__ import annotations

import param

from weather.models import UNITS


class ViewerSettings(param.Parameterized):
    """Per-viewer display settings, shared by the tabs of one browser session."""

    units = param.Selector(default="imperial", objects=list(UNITS), doc="""
        Display units: imperial (°F, mph) or metric (°C, m/s). Data is stored metric.""")
