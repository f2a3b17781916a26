"""A page whose server connection is lost reloads itself once a server answers again."""

from __future__ import annotations

from bokeh.document import Document
from bokeh.models import CustomJS

#: Seconds before the first check that a server answers, doubled after each failed one.
FIRST_PROBE_S = 1.0
#: Seconds between checks at most, while no server answers.
MAX_PROBE_S = 30.0
#: What a viewer reads while the page waits for a server (Panel's disconnect notification).
DISCONNECT_NOTIFICATION = (
    "Connection to the server lost: this page reloads by itself once a server answers."
)

# Bokeh sends ``connection_lost`` when the page's websocket closes (never when the viewer
# leaves). Panel's ``reconnect`` cannot help when the process died: another process starts
# a new session of the same id, whose document the page fails to take in (it keeps the old
# plots, frozen), and the page's token expires (``--session-token-expiration``). A reload
# gets a new page and session from any live process. HEAD of the page's own address is the
# check: a live server answers it (405, or a login's redirect, not followed) without running
# the app; a balancer with no live process answers 502-504; a network error: nothing does.
# Each wait is jittered so that viewers of a dead process do not all come back at once.
RELOAD_WHEN_BACK_JS = """
if (window.weatherReloadProbe != null) { return }  // one loop of checks per page
let delay_ms = first_ms
const check = () => {
  const options = {method: 'HEAD', cache: 'no-store', credentials: 'same-origin',
                   redirect: 'manual'}
  fetch(window.location.href, options)
    .then((response) => {
      if (response.status >= 502 && response.status <= 504) { throw new Error('no server') }
      window.location.reload()
    })
    .catch(() => {
      delay_ms = Math.min(delay_ms * 2, max_ms)
      wait()
    })
}
const wait = () => {
  window.weatherReloadProbe = setTimeout(check, delay_ms * (0.5 + Math.random()))
}
wait()
"""


def reload_when_server_back(doc: Document) -> None:
    """Make ``doc``'s page reload itself, with backoff, once a server answers after its
    connection closed; never while no server answers."""
    doc.js_on_event("connection_lost", CustomJS(
        args={"first_ms": FIRST_PROBE_S * 1000, "max_ms": MAX_PROBE_S * 1000},
        code=RELOAD_WHEN_BACK_JS,
    ))
