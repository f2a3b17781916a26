"""The page's own CSS: narrow screens (phones), the kiosk mode, and the compact source line."""

from __future__ import annotations

from typing import ClassVar

import panel as pn

#: Width (CSS pixels) at or below which the page takes its phone layout.
PHONE_MAX_WIDTH_PX = 700
#: The page's viewport: a phone lays the page out at its own width, not 980 px.
META_VIEWPORT = "width=device-width, initial-scale=1"

#: On a narrow screen the side panel starts closed and opens over the page. Panel's plain
#: template opens it by removing the class "hidden" and closes it by adding it; below the
#: phone width these rules read that class the other way round, so the panel is closed
#: until the header's button is pressed, with no script of ours.
PHONE_CSS = f"""
@media (max-width: {PHONE_MAX_WIDTH_PX}px) {{
  #sidebar:not(.hidden) {{ width: 0; min-width: 0; padding: 0; border: 0; overflow: hidden; }}
  #sidebar.hidden {{
    position: fixed; z-index: 10; top: 60px; left: 0; bottom: 0;
    width: min(320px, 90vw); padding: 15px 10px; overflow: hidden auto;
    background-color: var(--panel-background-color);
    box-shadow: 4px 0 16px rgba(0, 0, 0, 0.35);
  }}
  :root {{ --weather-status-font-size: 15px; }}
  #main {{ padding: 4px; min-width: 0; }}
  #header {{ padding: 6px; }}
  #header .title {{ font-size: 1.2em; white-space: nowrap; }}
  #header-items {{ padding-left: 4px; min-width: 0; }}
  .pn-busy-container {{ display: none; }}
}}
"""
#: On a narrow screen no widget is wider than the screen, whatever width it was given, and
#: its text is readable without zooming.
NARROW_WIDGET_CSS = f"""
@media (max-width: {PHONE_MAX_WIDTH_PX}px) {{
  :host {{
    max-width: calc(100vw - 28px) !important; min-width: 0 !important;
    --font-size: 15px; font-size: 15px;
  }}
  .bk-input-group, .choices, .choices__inner {{
    max-width: 100% !important; min-width: 0 !important; box-sizing: border-box;
  }}
  .bk-btn, .bk-input, label, .choices__item, .choices__button, select, option, input {{
    font-size: 15px !important;
  }}
}}
"""
#: On a narrow screen, text in panes is at least 15 px, whatever size it was given.
NARROW_TEXT_CSS = f"""
@media (max-width: {PHONE_MAX_WIDTH_PX}px) {{
  * {{ font-size: max(15px, 1em) !important; }}
  /* Lines of names joined without spaces can still break between the names. */
  span {{ display: inline-block; max-width: 100%; }}
}}
"""


class PageDesign(pn.theme.Native):
    """Panel's plain design, with every widget fitted to a phone's width."""

    modifiers: ClassVar[dict] = {
        pn.widgets.Widget: {"stylesheets": [pn.theme.Inherit, NARROW_WIDGET_CSS]},
        pn.pane.HTML: {"stylesheets": [pn.theme.Inherit, NARROW_TEXT_CSS]},
        pn.pane.Markdown: {"stylesheets": [pn.theme.Inherit, NARROW_TEXT_CSS]},
    }

#: A kiosk (wall screen) shows no header and no side panel; the main area takes the screen.
KIOSK_CSS = """
#header, #sidebar { display: none !important; }
#main { padding: 8px 16px; }
:root { --weather-table-width: 1000px; --weather-status-font-size: 20px; }
"""
#: Text in a kiosk is read from across a room: at least 18 px everywhere.
KIOSK_TEXT_CSS = """
* { font-size: max(18px, 1em) !important; }
"""
KIOSK_TABS_CSS = """
.bk-tab { font-size: 20px; padding: 8px 20px; }
"""


class KioskDesign(pn.theme.Native):
    """Panel's plain design with every widget's and pane's text at least 18 px."""

    modifiers: ClassVar[dict] = {
        pn.widgets.Widget: {"stylesheets": [pn.theme.Inherit, KIOSK_TEXT_CSS]},
        pn.pane.HTML: {"stylesheets": [pn.theme.Inherit, KIOSK_TEXT_CSS]},
        pn.pane.Markdown: {"stylesheets": [pn.theme.Inherit, KIOSK_TEXT_CSS]},
    }

#: The compact line of the data source: shown only where the side panel is closed.
COMPACT_SOURCE_CSS = f"""
:host {{ font-size: 16px; }}
@media (min-width: {PHONE_MAX_WIDTH_PX + 1}px) {{ :host {{ display: none !important; }} }}
.demo {{ color: var(--panel-warning-color, #b35900); font-weight: bold; }}
p {{ margin: 2px 0; }}
"""
#: The same line in a kiosk, shown at every width, in text readable across a room.
KIOSK_SOURCE_CSS = """
:host { font-size: 22px; }
.demo { color: #ffb020; font-weight: bold; }
p { margin: 2px 0; }
"""
