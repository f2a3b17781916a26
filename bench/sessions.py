"""Bokeh sessions held open without a browser, for figures that need many viewers cheaply.

Each session is made as a browser makes it: a GET of the app page (the server runs the app
and builds the session's document), then a websocket with the page's token that asks for
the document and reports it ready, as BokehJS does once a page has loaded (Panel then runs
its page-loaded callbacks and sends updates). The connection keeps the session in use until
it is closed. Nothing is rendered; the server's messages are read and dropped, but for the
arrival times of those holding ``watch`` (e.g. a kind of document change), kept per session.

Sessions are opened one after the other: with ``--unused-session-lifetime 1000`` a session
whose websocket arrives more than a second after its GET (the server busy building the
next one) is discarded and built again, which would count every session twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

TOKEN = re.compile(r'"token":\s*"([^"]+)"')
# What BokehJS sends once connected: ask for the document, then report the page ready.
PULL_DOC = ('{"msgid": "%s", "msgtype": "PULL-DOC-REQ"}', "{}", "{}")
READY = ('{"msgid": "%s", "msgtype": "PATCH-DOC"}', "{}",
         '{"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": '
         '{"type": "event", "name": "document_ready", "values": {"type": "map"}}}]}')


class Sessions:
    """Open and close sessions of one app from a private event loop in a thread."""

    def __init__(self, url: str, timeout_s: float = 60.0, watch: str | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.watch = watch
        #: For each session opened, the wall-clock times of messages holding ``watch``.
        self.seen: list[list[float]] = []
        parts = urlsplit(url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._ws_url = f"ws://{parts.netloc}{parts.path}/ws"
        self._open: list[WebSocketClientConnection] = []
        self._drains: set[asyncio.Future[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="bench-sessions")
        self._thread.start()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def count(self) -> int:
        return len(self._open)

    def _run(self, coro: Any, timeout_s: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def open(self, n: int, budget_s: float | None = None) -> int:
        """Open up to ``n`` more sessions, one after the other; return how many opened.

        With ``budget_s``, no session is started after that many seconds.
        """
        deadline = None if budget_s is None else self._loop.time() + budget_s
        results = self._run(self._open_many(n, deadline), n * (self.timeout_s + 5) + 5)
        opened = [conn for conn in results if isinstance(conn, WebSocketClientConnection)]
        self._open.extend(opened)
        return len(opened)

    def close(self) -> None:
        """Close every open session's websocket (the server then reaps the sessions)."""
        conns, self._open = self._open, []
        self.seen = []
        self._run(self._close_many(conns), 30.0)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)

    async def _open_many(self, n: int, deadline: float | None) -> list[Any]:
        opened: list[Any] = []
        for _ in range(n):
            if deadline is not None and self._loop.time() > deadline:
                break
            try:
                opened.append(await asyncio.wait_for(self._open_one(), self.timeout_s))
            except Exception as exc:  # counted by the caller
                opened.append(exc)
        return opened

    async def _open_one(self) -> WebSocketClientConnection:
        client = AsyncHTTPClient()
        page = await client.fetch(self.url, request_timeout=self.timeout_s,
                                  connect_timeout=10.0)
        match = TOKEN.search(page.body.decode("utf-8", "replace"))
        if match is None:
            raise RuntimeError(f"no session token in the page of {self.url}")
        request = HTTPRequest(self._ws_url, headers={"Origin": self._origin},
                              request_timeout=self.timeout_s, connect_timeout=10.0)
        conn = await websocket_connect(request, subprotocols=["bokeh", match.group(1)],
                                       max_message_size=256 * 2**20)
        # The server is ready for messages once it has acknowledged the connection.
        for _ in range(3):  # the ACK's header, metadata and content
            if await conn.read_message() is None:
                raise RuntimeError("the server closed the websocket before its ACK")
        for header, metadata, content in (PULL_DOC, READY):
            await conn.write_message(header % uuid.uuid4().hex)
            await conn.write_message(metadata)
            await conn.write_message(content)
        seen: list[float] = []
        self.seen.append(seen)
        self._drains.add(asyncio.ensure_future(self._drain(conn, seen)))
        return conn

    async def _drain(self, conn: WebSocketClientConnection, seen: list[float]) -> None:
        watch = self.watch
        while (message := await conn.read_message()) is not None:
            if watch is not None and isinstance(message, str) and watch in message:
                seen.append(time.time())

    @staticmethod
    async def _close_many(conns: list[WebSocketClientConnection]) -> None:
        for conn in conns:
            conn.close()
        await asyncio.sleep(0.1)
