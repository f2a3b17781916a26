"""The real-time weather dashboard: `panel serve app.py`."""

import panel as pn

from dashboards.shell import serve_page

pn.extension("tabulator", sizing_mode="stretch_width")

serve_page()
