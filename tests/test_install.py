"""The README's run command, run as written in a fresh copy of the repository, serves the app.

The one change to the command: `panel serve app.py` gets `--port N --address 127.0.0.1`, so the
server listens on a free port of this machine only. `pip install` needs the package index;
nothing else leaves the machine (the app starts on demo data, with no API key).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from testing.served import REPO_ROOT, free_port, wait_until

pytestmark = pytest.mark.install

TITLE = "Real-time weather"
SERVE = "panel serve app.py"
INSTALL_AND_START_S = 1200.0  # a cold pip install of Panel and its stack can take minutes
STOP_S = 15.0
APP_FAILED = "Error running application handler"  # what `panel serve` logs for a broken app


def readme_run_command() -> str:
    """The first ```bash block after "Run the app" in the README."""
    text = (REPO_ROOT / "README.md").read_text()
    _, found, after = text.partition("Run the app")
    match = re.search(r"```bash\n(.*?)\n```", after, re.DOTALL)
    assert found and match, "README.md has no ```bash block after 'Run the app'"
    return match.group(1).strip()


def copy_tracked_files(target: Path) -> None:
    """Copy the files git tracks, as they are in the work tree (uncommitted edits included)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True,
                            capture_output=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # tracked but deleted in the work tree: not part of this state
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def get_page(url: str) -> tuple[int | None, str]:
    """Status and body of GET `url` without proxies; (None, "") while nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return None, ""


def group_alive(pgid: int) -> bool:
    """Whether any process of the group exists (an unreaped zombie counts)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the command's process group (shell, pip, panel) by its leader's PID, then reap."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not group_alive(proc.pid):
            break
        os.killpg(proc.pid, sig)
        try:
            # poll() reaps the shell, which would otherwise stay in the group as a zombie.
            wait_until(lambda: proc.poll() is not None and not group_alive(proc.pid),
                       STOP_S, 0.1, "the command to stop")
        except TimeoutError:
            continue


def test_readme_run_command_serves_the_app(tmp_path: Path) -> None:
    """Test that the README's run command installs the project, starts the feed with the
    server (before any page), and serves the app's page."""
    command = readme_run_command()
    assert SERVE in command, f"the README's run command no longer runs {SERVE!r}: {command}"
    port = free_port()
    command = command.replace(SERVE, f"{SERVE} --port {port} --address 127.0.0.1", 1)

    repo = tmp_path / "repo"
    copy_tracked_files(repo)
    data_home = tmp_path / "data"  # the per-user history database goes here, not to ~
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["XDG_DATA_HOME"] = str(data_home)
    log_path = tmp_path / "command.log"
    url = f"http://127.0.0.1:{port}/app"

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["bash", "-c", command], cwd=repo, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        def serving() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"the command exited with code {proc.returncode}")
            if APP_FAILED in log_path.read_text(errors="replace"):
                # Panel answers with an error page: the app will not start by waiting.
                raise RuntimeError("the app failed to build its page")
            status, body = get_page(url)
            if status not in (None, 200):
                raise RuntimeError(f"{url} answered HTTP {status}")
            return status == 200 and f"<title>{TITLE}</title>" in body

        db = data_home / "weather-dashboard" / "history.sqlite3"

        def started() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"the command exited with code {proc.returncode}")
            return db.exists()

        try:
            # The feed starts with the server: its history exists before any page is asked for.
            wait_until(started, INSTALL_AND_START_S, 1.0, f"the history database at {db}")
            wait_until(serving, 120, 1.0, f"{url} to serve {TITLE!r}")
            failure = ""
        except (RuntimeError, TimeoutError) as exc:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
            failure = f"{exc}\n$ {command}\n--- output tail ---\n{tail}"
    finally:
        stop_group(proc)
        shutil.rmtree(repo, ignore_errors=True)  # the copy holds a whole virtualenv
    if failure:
        pytest.fail(failure, pytrace=False)
    assert not group_alive(proc.pid)
