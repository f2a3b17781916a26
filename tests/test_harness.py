"""Tests of the serving and browser harness itself, against a tiny throwaway Panel app."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.served import (
    ServedApp,
    WsCounts,
    is_local_url,
    open_app_page,
    pid_running,
    wait_until,
)

TINY_APP = textwrap.dedent(
    """
    import os

    import panel as pn

    greeting = os.environ.get("HARNESS_GREETING", "unset")
    proxies = sorted(k for k in os.environ if "proxy" in k.lower())
    clicks = pn.pane.Markdown("clicks: 0")
    ticks = pn.pane.Markdown("ticks: 0")
    button = pn.widgets.Button(name="Click me")
    state = {"ticks": 0}
    print("tiny app session started", flush=True)


    def on_click(event):
        clicks.object = f"clicks: {button.clicks}"


    def tick():
        state["ticks"] += 1
        ticks.object = f"ticks: {state['ticks']}"


    button.on_click(on_click)
    pn.state.add_periodic_callback(tick, period=200)
    pn.Column(
        pn.pane.Markdown(f"greeting: {greeting}; proxies: {proxies or 'none'}"),
        button,
        clicks,
        ticks,
    ).servable()
    """
)


@pytest.fixture(scope="module")
def tiny_app_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny_app.py"
    path.write_text(TINY_APP)
    return path


@pytest.fixture(scope="module")
def tiny_app(tiny_app_file: Path) -> Iterator[ServedApp]:
    # Proxy settings inherited from the environment must not reach the served app.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("http_proxy", "http://127.0.0.1:9")
        mp.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        app = ServedApp(tiny_app_file, env={"HARNESS_GREETING": "hello"}).start()
    try:
        yield app
    finally:
        app.stop()


def test_wait_until_returns_on_truthy_and_after_passing_asserts() -> None:
    """Test that wait_until polls a condition until it holds, both styles."""
    calls = []

    def third_time() -> bool:
        calls.append(1)
        return len(calls) >= 3

    wait_until(third_time, timeout_s=2, interval_s=0.01)
    assert len(calls) == 3

    def asserting() -> None:
        calls.append(1)
        assert len(calls) >= 5

    wait_until(asserting, timeout_s=2, interval_s=0.01)
    assert len(calls) == 5


def test_wait_until_times_out_with_message() -> None:
    """Test that wait_until raises TimeoutError naming what it waited for and the last assert."""

    def never() -> None:
        assert 1 == 2, "still not equal"

    with pytest.raises(TimeoutError, match=r"the moon.*still not equal"):
        wait_until(never, timeout_s=0.2, interval_s=0.01, message="the moon")


def test_is_local_url() -> None:
    """Test that only this machine's addresses count as local."""
    assert is_local_url("http://127.0.0.1:5006/app")
    assert is_local_url("ws://localhost:1/ws")
    assert not is_local_url("https://server.arcgisonline.com/tile/1/2/3")
    assert not is_local_url("http://127.0.0.1.example.invalid/")


def test_ws_counts_subtract() -> None:
    """Test that snapshots of websocket traffic subtract field by field."""
    assert WsCounts(5, 500, 2, 20) - WsCounts(1, 100, 1, 10) == WsCounts(4, 400, 1, 10)


def test_served_app_stop_leaves_no_process(tiny_app_file: Path) -> None:
    """Test that ServedApp serves, reports memory and CPU, and leaves no process after stop."""
    app = ServedApp(tiny_app_file)
    with app:
        assert app.alive() and pid_running(app.pid)
        assert app.rss_bytes() > 20 * 2**20  # a Python process with Panel loaded
        assert app.cpu_seconds() > 0
        assert app.url.startswith("http://127.0.0.1:") and app.url.endswith("/tiny_app")
    assert not pid_running(app.pid)
    assert not app.alive()
    assert "Bokeh app running at" in app.log_text()
    app.stop()  # stopping twice is harmless


def test_ready_checks_open_one_session_or_none(tiny_app_file: Path) -> None:
    """Test that the app readiness check runs the app once and the liveness check never does."""
    with ServedApp(tiny_app_file) as by_app:
        assert by_app.log_text().count("tiny app session started") == 1
    with ServedApp(tiny_app_file, ready_check="liveness") as by_liveness:
        assert "--liveness" in by_liveness.command()
        assert "tiny app session started" not in by_liveness.log_text()


def test_served_app_start_failure_raises_with_log(tiny_app_file: Path) -> None:
    """Test that a server that exits during start-up raises with its log tail, leaving nothing."""
    app = ServedApp(tiny_app_file, args=["--no-such-option"])
    with pytest.raises(RuntimeError, match="exited with code") as excinfo:
        app.start()
    assert "--no-such-option" in str(excinfo.value)
    assert not pid_running(app.pid)


@pytest.mark.ui
def test_click_updates_text_over_websocket(tiny_app: ServedApp, browser_context) -> None:
    """Test that a click reaches the server and its reply reaches the page, and is metered."""
    app_page = open_app_page(browser_context, tiny_app.url)
    page = app_page.page
    greeting = page.get_by_text("greeting: hello; proxies: none")
    app_page.wait_until(greeting.is_visible, message="the greeting set through env")
    before = app_page.meter.snapshot()

    page.get_by_role("button", name="Click me").click()
    app_page.wait_until(lambda: page.get_by_text("clicks: 1").is_visible(), message="clicks: 1")

    traffic = app_page.meter.since(before)
    assert traffic.frames_sent >= 1 and traffic.bytes_sent > 0
    assert traffic.frames_received >= 1 and traffic.bytes_received > 0
    assert app_page.meter.urls == [tiny_app.url.replace("http", "ws", 1) + "/ws"]
    assert app_page.errors == []


@pytest.mark.ui
def test_periodic_updates_are_metered(tiny_app: ServedApp, browser_context) -> None:
    """Test that server-pushed updates arrive and the meter counts their bytes."""
    app_page = open_app_page(browser_context, tiny_app.url)
    ticks = app_page.page.get_by_text(re.compile(r"^ticks: \d+$"))

    def tick_count() -> int:
        # The pane re-renders on every tick, so read whatever text is there right now.
        found = [re.fullmatch(r"ticks: (\d+)", text.strip()) for text in ticks.all_inner_texts()]
        return max((int(m.group(1)) for m in found if m), default=-1)

    app_page.wait_until(lambda: tick_count() >= 1, message="a first tick")
    first, before = tick_count(), app_page.meter.snapshot()
    app_page.wait_until(lambda: tick_count() >= first + 3, message="three more ticks")

    traffic = app_page.meter.since(before)
    assert traffic.frames_received >= 3
    assert traffic.bytes_received > 3 * len("ticks: 0")


@pytest.mark.ui
def test_outside_hosts_are_out_of_reach(tiny_app: ServedApp, browser_context, blocked_requests):
    """Test that the browser reaches this machine and nothing else, with no request stopped.

    Outside names, addresses and websockets fail in the browser itself and are listed.
    """
    failures: list[str | None] = []
    browser_context.on("requestfailed", lambda request: failures.append(request.failure))
    app_page = open_app_page(browser_context, tiny_app.url)
    app_page.wait_until(lambda: app_page.page.get_by_text("greeting:").count() == 1,
                        timeout_s=30, message="the local page's text")
    assert blocked_requests.count == 0
    outcomes = app_page.page.evaluate(
        """async () => {
            const get = async (url) => {
                try { await fetch(url); return "answered"; }
                catch (err) { return "failed"; }
            };
            const socket = (url) => new Promise(resolve => {
                const ws = new WebSocket(url);
                ws.onopen = () => resolve("open");
                ws.onclose = () => resolve("closed");
            });
            return [await get("http://example.invalid/probe"),
                    await get("http://192.0.2.1/probe"),
                    await socket("ws://example.invalid/socket"),
                    await get(location.href)];
        }"""
    )
    assert outcomes == ["failed", "failed", "closed", "answered"]
    wait_until(lambda: blocked_requests.count == 3, timeout_s=10,
               message="the outside attempts listed")
    assert blocked_requests.urls == ["http://example.invalid/probe", "http://192.0.2.1/probe",
                                     "ws://example.invalid/socket"]
    # Refused here, by the closed port standing in as the proxy: nothing left the machine
    # (no name was looked up, no packet sent to the address).
    assert failures == ["net::ERR_PROXY_CONNECTION_FAILED"] * 2
