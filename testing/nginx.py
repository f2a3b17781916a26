"""Debian's nginx in front of served apps, configured by the project's `deploy/nginx.conf`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from testing.served import REPO_ROOT, free_port, http_status, wait_until

DEPLOY_CONF = REPO_ROOT / "deploy" / "nginx.conf"
INSTALL_HINT = "apt-get install nginx"


def nginx_path() -> str | None:
    """The nginx binary, or None when it is not installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def site_config(backend_ports: Sequence[int], port: int, conf: Path = DEPLOY_CONF) -> str:
    """``deploy/nginx.conf`` with its backends and its listening address set for a test."""
    text = conf.read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in backend_ports)
    text, found = re.subn(r"(?:    server 127\.0\.0\.1:\d+;\n)+", servers, text, count=1)
    assert found, f"{conf} has no upstream server lines"
    text, found = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text, count=1)
    assert found, f"{conf} has no 'listen 80;'"
    return text


class Nginx:
    """nginx in the foreground on a free 127.0.0.1 port, with its files in a temporary folder."""

    def __init__(self, backend_ports: Sequence[int], *, port: int | None = None,
                 conf: Path = DEPLOY_CONF) -> None:
        binary = nginx_path()
        if binary is None:
            raise RuntimeError(f"nginx is not installed ({INSTALL_HINT})")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = Path(tempfile.mkdtemp(prefix="nginx-"))
        (self._dir / "site.conf").write_text(site_config(backend_ports, self.port, conf))
        # Workers of a master started as root would run as `nobody`: keep them as we are.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self._dir / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self._dir}/nginx.pid;\n"
            f"error_log {self._dir}/error.log info;\nevents {{ worker_connections 512; }}\n"
            f"http {{\n  access_log {self._dir}/access.log;\n"
            f"  client_body_temp_path {self._dir}/body;\n  proxy_temp_path {self._dir}/proxy;\n"
            f"  fastcgi_temp_path {self._dir}/fastcgi;\n  uwsgi_temp_path {self._dir}/uwsgi;\n"
            f"  scgi_temp_path {self._dir}/scgi;\n  include {self._dir}/site.conf;\n}}\n")
        self._command = [binary, "-p", str(self._dir), "-c", str(self._dir / "nginx.conf")]
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        log = open(self._dir / "stdout.log", "wb")  # noqa: SIM115 (kept for the process's life)
        self._proc = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

        def answering() -> bool:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log()}")
            return http_status(self.url + "/", timeout_s=5) is not None

        wait_until(answering, 30, 0.1, "nginx to answer")
        return self

    def error_log(self) -> str:
        path = self._dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
