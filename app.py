"""The real-time weather dashboard: `panel serve app.py` runs the packaged app once per session."""

import runpy

runpy.run_module("dashboards.app")
