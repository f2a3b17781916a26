"""Run JupyterLab on 127.0.0.1 with its own root, config and kernel, and drive it in Chromium."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from testing.served import (
    TEMPERATURE_POINTS_JS,
    KeptLog,
    clean_env,
    free_port,
    http_status,
    stop_process,
    wait_until,
)

#: Everything JupyterLab would fetch from outside hosts on its own, turned off.
SERVER_CONFIG = {
    "LabApp": {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "extension_manager": "readonly",
    },
}

#: JupyterLab's page: no toast asking whether to fetch Jupyter's news.
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}

#: The selectors of JupyterLab 4's notebook, as a person sees it.
CODE_CELL = ".jp-Notebook .jp-CodeCell"
OUTPUT = ".jp-OutputArea-output"
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
KERNEL_STATUS = ".jp-StatusBar-Widget"
TRACEBACK = "Traceback (most recent call last)"


class JupyterLab(KeptLog):
    """`jupyter lab` on a free 127.0.0.1 port with a random token, as a context manager.

    The server's root is a new temporary directory holding copies of ``notebooks``; its
    config, data, runtime and IPython directories are new and empty too, so nothing of the
    user's Jupyter set-up is used, and its only kernel, ``python3``, is this interpreter.
    ``env`` is merged over the current environment (proxy variables dropped); the kernels
    inherit it.
    """

    def __init__(
        self,
        notebooks: Sequence[Path],
        *,
        env: Mapping[str, str | None] | None = None,
        start_timeout_s: float = 180.0,
        stop_timeout_s: float = 20.0,
    ) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._home = Path(tempfile.mkdtemp(prefix="jupyter-lab-"))
        self.root_dir = self._home / "root"
        self.root_dir.mkdir()
        for notebook in notebooks:
            shutil.copy(notebook, self.root_dir / Path(notebook).name)
        dirs = {name: self._home / name for name in ("config", "data", "runtime", "ipython")}
        for path in dirs.values():
            path.mkdir()
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
        (dirs["config"] / "labconfig").mkdir()
        (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
        self._write_kernel_spec(dirs["data"] / "kernels" / "python3")
        self._env = clean_env({
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            "JUPYTER_PLATFORM_DIRS": "1",
            **(env or {}),
        })
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = self._home / "jupyter-lab.log"
        self._final_log: str | None = None

    @staticmethod
    def _write_kernel_spec(spec_dir: Path) -> None:
        # Found before any python3 kernel installed elsewhere on the machine.
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))

    def url(self, notebook: str) -> str:
        """The address that opens ``notebook`` (a name in the root) in JupyterLab."""
        return f"{self.base_url}/lab/tree/{quote(notebook)}?token={self.token}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--IdentityProvider.token={self.token}",
            # CI runs as root, which Jupyter refuses unless told.
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ]

    def start(self) -> JupyterLab:
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                self.command(), cwd=self.root_dir, env=self._env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        status_url = f"{self.base_url}/api/status?token={self.token}"
        try:
            wait_until(lambda: self._ready(status_url), self._start_timeout_s, 0.2,
                       f"{self.base_url}/api/status to answer 200")
        except BaseException as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n--- log tail ---\n{self.log_tail()}") from None
        return self

    def _ready(self, status_url: str) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {self._proc.returncode}")
        return http_status(status_url) == 200

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """Stop the server by its PID (it shuts its kernels down), keep its log, clean up."""
        proc, self._proc = self._proc, None
        # SIGINT twice: Jupyter asks for confirmation on one.
        stop_process(proc, (signal.SIGINT, signal.SIGINT), self._stop_timeout_s)
        self.keep_log(self._home)

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_notebook(page: Any, url: str, timeout_s: float = 120.0) -> None:
    """Open a notebook and wait until its kernel is ready (Run All before that asks which
    kernel to start)."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
    page.locator(KERNEL_STATUS, has_text="| Idle").wait_for(timeout=timeout_s * 1000)


def run_all_cells(page: Any) -> None:
    """Run every cell of the open notebook from JupyterLab's Run menu, as a person would."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def prompts(page: Any) -> list[str]:
    """Each code cell's prompt, e.g. ``[3]:``, ``[*]:`` while waiting or running."""
    # textContent: cells out of view are not rendered, and have no innerText.
    return [p.strip() for p in
            page.locator(f"{CODE_CELL} .jp-InputPrompt").all_text_contents()]


def cells_done(page: Any) -> bool:
    """Whether every code cell has run (an execution count, none waiting with ``[*]``)."""
    shown = prompts(page)
    return bool(shown) and all(re.fullmatch(r"\[\d+\]:", p) for p in shown)


def error_outputs(page: Any) -> list[str]:
    """The text of every error or stderr output: what running the cells raised or warned."""
    return page.locator(ERROR_OUTPUT).all_text_contents()


def traceback_outputs(page: Any) -> list[str]:
    """The text of every output showing a Python traceback, errors and stderr included, and
    those Panel adds to a cell's output when a message from the browser fails in the kernel."""
    found = page.locator(ERROR_OUTPUT).or_(page.locator(OUTPUT).filter(has_text=TRACEBACK))
    return found.all_text_contents()


def temperature_points_by_document(page: Any) -> list[int]:
    """Points on the temperature plot of each Bokeh document (one per displayed output)."""
    # The count of testing.served, applied to one document at a time.
    return page.evaluate(
        "() => typeof Bokeh === 'undefined' ? [] : Bokeh.documents.map("
        "(doc) => ((Bokeh) => (" + TEMPERATURE_POINTS_JS + ")())({documents: [doc]}))"
    )
