"""The server log when a viewer leaves during an update: one line, and real errors untouched."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading

import pytest
from tornado.websocket import WebSocketClosedError

from dashboards.server.server_log import LEFT_MESSAGE, quiet_closed_websockets


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


def fail_unwatched(loop: asyncio.AbstractEventLoop, exc: BaseException) -> None:
    """Run a task that fails with ``exc`` and that nobody awaits, as Tornado's write does."""

    async def write() -> None:
        raise exc

    done = []

    def run() -> None:
        # In a thread of its own: a test before may leave an event loop running in this one.
        task = loop.create_task(write())
        loop.run_until_complete(asyncio.sleep(0.01))
        done.append(task.done())
        del task
        gc.collect()  # asyncio reports an unretrieved exception when the task is collected

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=10)
    assert done == [True]


def test_a_write_to_a_closed_websocket_is_one_info_line(loop, caplog):
    """Test that a failed write to a viewer who left logs one INFO line and no traceback."""
    quiet_closed_websockets(loop)
    with caplog.at_level(logging.INFO):
        fail_unwatched(loop, WebSocketClosedError())
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.INFO, LEFT_MESSAGE)]
    assert not any(r.exc_info for r in caplog.records)


def test_other_errors_still_reach_the_log_with_their_traceback(loop, caplog):
    """Test that any other unretrieved error is still logged as an error, with its traceback,
    and that installing twice does not stack handlers."""
    quiet_closed_websockets(loop)
    quiet_closed_websockets(loop)
    with caplog.at_level(logging.INFO):
        fail_unwatched(loop, ValueError("a real fault"))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "a real fault" in str(errors[0].exc_info[1])
    assert LEFT_MESSAGE not in caplog.text


def test_the_handler_the_loop_had_still_gets_other_errors(loop):
    """Test that an exception handler set before is kept for everything else."""
    seen = []
    loop.set_exception_handler(lambda _loop, context: seen.append(context["exception"]))
    quiet_closed_websockets(loop)
    fail_unwatched(loop, WebSocketClosedError())
    fail_unwatched(loop, KeyError("x"))
    assert [type(e) for e in seen] == [KeyError]
