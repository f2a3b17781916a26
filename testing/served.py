"""Serve Panel apps in a subprocess and drive them offline in Chromium (tests, benchmarks)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"  # Debian's package path
# Everything after --disable-gpu stops Chromium from calling Google's services on its own.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # No page can reach a host but this machine, and no request is intercepted: no name
    # resolves but this machine's, and every connection elsewhere goes to a closed port
    # here, given as the proxy (Chromium never proxies this machine's own addresses).
    # Playwright's interception, used before, stopped every request of a page, its own
    # scripts included, to ask Python about it, and relayed every websocket message: about
    # 0.4 s more for each page load.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
)
WEBSOCKET_OPEN = "Websocket connection 0 is now open"  # logged by BokehJS once the session is live
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


#: Points drawn on the Real Time tab's temperature plot: its overview lines' points (the
#: source `realtime-overview-temperature`), its segments pushed since (`realtime-lines`),
#: one per reading after the line's end, and the dot (`realtime-dots`) of each city with a
#: reading but no overview line (its segments start there).
TEMPERATURE_POINTS_JS = """() => {
  const get = (m, k) => (m.data instanceof Map ? m.data.get(k) : m.data[k]);
  const lined = new Set();
  let n = 0, dots = null;
  for (const doc of Bokeh.documents) {
    for (const m of doc._all_models.values()) {
      if (m.type !== 'ColumnDataSource') continue;
      if (m.name === 'realtime-overview-temperature') {
        const xs = get(m, 'xs'), cities = get(m, 'city');
        for (let i = 0; i < xs.length; i++) {
          n += xs[i].length;
          if (xs[i].length) lined.add(cities[i]);
        }
      } else if (m.name === 'realtime-lines') {
        n += get(m, 'temperature').length;
      } else if (m.name === 'realtime-dots') {
        dots = m;
      }
    }
  }
  if (dots) {
    const cities = get(dots, 'city'), values = get(dots, 'temperature');
    for (let i = 0; i < cities.length; i++) {
      if (values[i] === values[i] && !lined.has(cities[i])) n += 1;
    }
  }
  return n;
}"""



def temperature_points(page: Any) -> int:
    """How many points the page's temperature plot holds (0 before the document arrives)."""
    return page.evaluate("() => typeof Bokeh === 'undefined' ? 0 : (" + TEMPERATURE_POINTS_JS
                         + ")()")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    fn: Callable[[], Any],
    timeout_s: float = 10.0,
    interval_s: float = 0.05,
    message: str = "condition",
    page: Any = None,
) -> None:
    """Poll `fn` until it returns a truthy value (or None after passing its asserts).

    Pass the Playwright `page` when the condition depends on browser events: the sync API
    only delivers events while Python is inside a Playwright call, so we wait on the page.
    """
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = fn()
            if result is None or result:
                return
            detail = ""
        except AssertionError as exc:
            detail = f": {exc}"
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {message}{detail}")
        if page is not None:
            page.wait_for_timeout(interval_s * 1000)
        else:
            time.sleep(interval_s)


def clean_env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    # Proxies would send our 127.0.0.1 traffic elsewhere; None in `env` removes a variable.
    merged = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    merged["PYTHONUNBUFFERED"] = "1"
    return merged


def http_status(url: str, timeout_s: float = 2.0) -> int | None:
    """Return the HTTP status of GET `url` without proxies, or None if nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout_s) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def stop_process(proc: subprocess.Popen[bytes] | None, signals: Sequence[int],
                 timeout_s: float) -> None:
    """Stop ``proc`` (ours, by its PID): send ``signals``, then SIGTERM and SIGKILL, each
    only while it lives and after ``timeout_s`` of waiting; reap it."""
    if proc is None or proc.poll() is not None:
        return
    for sig in signals:
        proc.send_signal(sig)
    for then in (signal.SIGTERM, signal.SIGKILL, None):
        try:
            proc.wait(timeout_s)
            return
        except subprocess.TimeoutExpired:
            if then is not None:
                proc.send_signal(then)


class KeptLog:
    """A server's log file, read whole or by its tail, kept as text once the server stops.

    A class using it sets ``log_path`` and ``_final_log = None``.
    """

    log_path: Path
    _final_log: str | None

    def keep_log(self, folder: Path) -> None:
        """Read the log once, then remove ``folder`` (the server's temporary files)."""
        if self._final_log is None and self.log_path.exists():
            self._final_log = self.log_path.read_text(errors="replace")
            shutil.rmtree(folder, ignore_errors=True)

    def log_text(self) -> str:
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


class ServedApp(KeptLog):
    """`panel serve <target>` on a free 127.0.0.1 port, as a context manager.

    `env` is merged over the current environment (proxy variables dropped); `args` are extra
    `panel serve` arguments. Output goes to a log file readable with `log_text()`.
    Readiness: `ready_check="app"` GETs the app URL until it answers 200, which runs the app
    once (one session, reaped by Bokeh later); `"liveness"` adds `--liveness` and polls that
    endpoint instead, so no session exists before the caller opens one (for benchmarks).
    """

    def __init__(
        self,
        target: str | Path,
        *,
        env: Mapping[str, str | None] | None = None,
        args: Sequence[str] = (),
        app_path: str | None = None,
        ready_check: str = "app",
        start_timeout_s: float = 60.0,
        stop_timeout_s: float = 10.0,
        port: int | None = None,
    ) -> None:
        if ready_check not in ("app", "liveness"):
            raise ValueError(f"ready_check must be 'app' or 'liveness', not {ready_check!r}")
        self.target = Path(target)
        self.port = port or free_port()  # a given port: e.g. a stopped process's, restarted
        self.url = f"http://127.0.0.1:{self.port}/{app_path or self.target.stem}"
        self._env = clean_env(env)
        self._args = list(args)
        self._ready_url = self.url
        if ready_check == "liveness":
            self._args.append("--liveness")
            self._ready_url = f"http://127.0.0.1:{self.port}/liveness"
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._log_dir = tempfile.mkdtemp(prefix="served-app-")
        self.log_path = Path(self._log_dir) / "panel-serve.log"
        self._final_log: str | None = None

    @property
    def pid(self) -> int:
        """PID of the server process (kept after `stop()` so callers can check it is gone)."""
        if self._pid is None:
            raise RuntimeError("the app was never started")
        return self._pid

    def command(self) -> list[str]:
        host = f"127.0.0.1:{self.port}"
        return [
            sys.executable,
            "-m",
            "panel",
            "serve",
            str(self.target),
            "--address",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--allow-websocket-origin",
            host,
            *self._args,
        ]

    def start(self) -> ServedApp:
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._pid = self._proc.pid
        try:
            wait_until(self._ready, self._start_timeout_s, 0.1, f"{self._ready_url} to answer 200")
        except BaseException as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n--- log tail ---\n{self.log_tail()}") from None
        return self

    def _ready(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"panel serve exited with code {self._proc.returncode}")
        # A long timeout: every GET of the app URL that times out would leave a session behind.
        status = http_status(self._ready_url, timeout_s=self._start_timeout_s)
        if status not in (None, 200):
            raise RuntimeError(f"{self._ready_url} answered HTTP {status}")
        return status == 200

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """Terminate the server by PID, kill it if it lingers, and keep its log text."""
        proc, self._proc = self._proc, None
        stop_process(proc, (signal.SIGTERM,), self._stop_timeout_s)
        self.keep_log(self._log_dir)

    def rss_bytes(self) -> int:
        """Resident memory of the server process (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("VmRSS missing from /proc status")

    def cpu_seconds(self) -> float:
        """User + system CPU time used by the server process so far."""
        return process_stat(self.pid).cpu_s

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class ProcessStat:
    """A process as /proc/<pid>/stat gives it: name, state, parent, CPU time so far."""

    name: str
    state: str  # "Z": a zombie
    parent: int
    cpu_s: float  # user + system


def process_stat(pid: int) -> ProcessStat:
    """Read /proc/<pid>/stat; OSError once the process is gone."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 1:]
    fields = rest.split()  # after the name, which may hold spaces and parentheses
    return ProcessStat(name, fields[0], int(fields[1]),
                       (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))


def pid_running(pid: int) -> bool:
    """Whether a process with this PID exists and is not a zombie."""
    try:
        return process_stat(pid).state != "Z"
    except FileNotFoundError:
        return False


def chromium_path() -> str | None:
    """The Chromium to drive: $CHROMIUM if set (and only it), else Debian's or PATH's."""
    chosen = os.environ.get("CHROMIUM")
    candidates = [chosen] if chosen else [DEFAULT_CHROMIUM, shutil.which("chromium")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def launch_chromium(playwright: Any, headless: bool = True) -> Any:
    """Launch headless Chromium that makes no traffic of its own and reaches only this machine.

    ``record_outside_attempts`` lists what a context's pages tried to reach elsewhere.
    """
    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError(
            "Chromium not found: install it (Debian: apt-get install chromium) or set CHROMIUM"
        )
    return playwright.chromium.launch(
        executable_path=executable, headless=headless, args=list(CHROMIUM_ARGS)
    )


def is_local_url(url: str) -> bool:
    """Whether `url` stays on this machine (no host at all counts as local)."""
    host = urlsplit(url).hostname
    return host is None or host in LOCAL_HOSTS


@dataclass
class BlockedRequests:
    """URLs of outside requests and websockets a page tried, each failed in the browser."""

    urls: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.urls)

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname or "" for url in self.urls}


def record_outside_attempts(context: Any,
                            blocked: BlockedRequests | None = None) -> BlockedRequests:
    """List in ``blocked`` the outside requests and websockets a context's pages tried.

    In a browser from ``launch_chromium`` every one of them fails; this only listens.
    """
    blocked = blocked if blocked is not None else BlockedRequests()

    def _on_failed(request: Any) -> None:
        if not is_local_url(request.url):
            blocked.urls.append(request.url)

    def _on_page(page: Any) -> None:
        page.on("websocket", lambda ws: None if is_local_url(ws.url)
                else blocked.urls.append(ws.url))

    context.on("requestfailed", _on_failed)
    context.on("page", _on_page)
    return blocked


@dataclass(frozen=True)
class WsCounts:
    """Websocket traffic seen by the browser: frames and payload bytes each way."""

    frames_received: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    bytes_sent: int = 0

    def __sub__(self, other: WsCounts) -> WsCounts:
        return WsCounts(
            self.frames_received - other.frames_received,
            self.bytes_received - other.bytes_received,
            self.frames_sent - other.frames_sent,
            self.bytes_sent - other.bytes_sent,
        )


def _payload_bytes(payload: str | bytes) -> int:
    return len(payload.encode()) if isinstance(payload, str) else len(payload)


class WebsocketMeter:
    """Count the websocket frames and bytes a page receives and sends.

    Attach before navigating. Take `snapshot()` before an action and `since(snapshot)` after.
    """

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self._counts = WsCounts()
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: Any) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", self._on_received)
        ws.on("framesent", self._on_sent)

    def _on_received(self, payload: str | bytes) -> None:
        c = self._counts
        self._counts = WsCounts(
            c.frames_received + 1,
            c.bytes_received + _payload_bytes(payload),
            c.frames_sent,
            c.bytes_sent,
        )

    def _on_sent(self, payload: str | bytes) -> None:
        c = self._counts
        self._counts = WsCounts(
            c.frames_received,
            c.bytes_received,
            c.frames_sent + 1,
            c.bytes_sent + _payload_bytes(payload),
        )

    def snapshot(self) -> WsCounts:
        return self._counts

    def since(self, before: WsCounts) -> WsCounts:
        return self._counts - before


class AppPage:
    """A Playwright page plus what it logged: console messages, page errors, websocket traffic."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[tuple[str, str]] = []  # (type, text)
        self.errors: list[str] = []
        self.meter = WebsocketMeter(page)
        page.on("console", lambda msg: self.console.append((msg.type, msg.text)))
        page.on("pageerror", lambda err: self.errors.append(str(err)))

    def console_text(self) -> str:
        return "\n".join(f"{kind}: {text}" for kind, text in self.console)

    def logged(self, text: str) -> bool:
        return any(text in message for _, message in self.console)

    def wait_until(
        self,
        fn: Callable[[], Any],
        timeout_s: float = 10.0,
        message: str = "condition",
        interval_s: float = 0.05,
    ) -> None:
        wait_until(fn, timeout_s, interval_s, message, page=self.page)

    def wait_for_console(self, text: str, timeout_s: float = 10.0) -> None:
        self.wait_until(lambda: self.logged(text), timeout_s, f"console message {text!r}")


def open_app_page(context: Any, url: str, timeout_s: float = 30.0) -> AppPage:
    """Open `url` in a new page and wait until its Bokeh websocket is open."""
    app = AppPage(context.new_page())
    app.page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
    try:
        app.wait_for_console(WEBSOCKET_OPEN, timeout_s)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}\nconsole:\n{app.console_text()}\nerrors: {app.errors}") from None
    return app
