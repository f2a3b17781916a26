"""The served app: `panel serve` (app.py, `weather-dashboard`) runs it once per session."""

import panel as pn

from dashboards.page.shell import serve_page

pn.extension("tabulator", sizing_mode="stretch_width")

serve_page()
