"""What the server log says when a viewer leaves while an update is on its way to them.

A viewer who reloads or closes the page (the theme switch reloads it) can leave while the
server is writing a poll's update to their websocket. Tornado then fails the write with
``WebSocketClosedError``, and as nobody waits for that write any more, asyncio logs it as
"Task exception was never retrieved" with two tracebacks: an alarming log for a normal
event, in a log that people read to find real faults. Bokeh itself logs the same event, when
it sees it, as one line ("Failed sending message as connection was closed").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tornado.websocket import WebSocketClosedError

log = logging.getLogger(__name__)

LEFT_MESSAGE = "a viewer left while an update was on its way to them"


def is_write_to_a_closed_websocket(context: dict[str, Any]) -> bool:
    """Whether an asyncio error ``context`` is a websocket write that found the viewer gone."""
    return isinstance(context.get("exception"), WebSocketClosedError)


def quiet_closed_websockets(loop: asyncio.AbstractEventLoop) -> None:
    """Log writes to a closed websocket on ``loop`` as one INFO line; leave every other
    error to the handler the loop had (idempotent)."""
    previous = loop.get_exception_handler()
    if getattr(previous, "_quiets_closed_websockets", False):
        return

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if is_write_to_a_closed_websocket(context):
            log.info(LEFT_MESSAGE)
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler._quiets_closed_websockets = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


def quiet_closed_websockets_of_this_server() -> None:
    """``quiet_closed_websockets`` on the running loop, if there is one (a served session)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    quiet_closed_websockets(loop)


def show_info_logs() -> None:
    """Let the server log say what the feed does (`panel serve` only shows warnings of ours)."""
    for name in ("dashboards", "weather"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
