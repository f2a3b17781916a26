"""The page `weather-dashboard` serves: the same as the repository's app.py, for installed use."""

import panel as pn

from dashboards.shell import serve_page

pn.extension("tabulator", sizing_mode="stretch_width")

serve_page()
