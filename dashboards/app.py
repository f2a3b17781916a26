"""The served app: `panel serve` (app.py, `weather-dashboard`) runs it once per session."""

import panel as pn

from dashboards.page.reconnect import DISCONNECT_NOTIFICATION
from dashboards.page.shell import serve_page

# Notifications: Panel's disconnect notification shows while a page waits for a server.
pn.extension("tabulator", sizing_mode="stretch_width", notifications=True,
             disconnect_notification=DISCONNECT_NOTIFICATION)

serve_page()
