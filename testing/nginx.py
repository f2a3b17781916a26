"""Debian's nginx running ``deploy/nginx.conf`` on 127.0.0.1, in front of given processes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from testing.served import REPO_ROOT, free_port, http_status, wait_until

NGINX = "/usr/sbin/nginx"
INSTALL_HINT = "apt-get install nginx (Debian's nginx)"
SITE = Path(REPO_ROOT) / "deploy" / "nginx.conf"


def site_config(backends: Sequence[int], port: int) -> str:
    """``deploy/nginx.conf`` with its ``server`` lines and ``listen`` set for this machine."""
    text = SITE.read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in backends)
    text = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    return text.replace("server_name weather.example.org;", "server_name 127.0.0.1;")


class Nginx:
    """nginx in the foreground with its own prefix folder; ``url`` is its address."""

    def __init__(self, backends: Sequence[int], port: int | None = None) -> None:
        if not os.path.exists(NGINX):
            raise RuntimeError(f"nginx not installed: {INSTALL_HINT}")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="weather-nginx-"))
        self.folder.chmod(0o755)  # workers run as another user when started by root
        (self.folder / "site.conf").write_text(site_config(backends, self.port))
        temp = self.folder / "temp"
        temp.mkdir()
        temp.chmod(0o777)
        (self.folder / "nginx.conf").write_text(f"""
pid {self.folder}/nginx.pid;
error_log {self.folder}/error.log info;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    log_format routes '$uid_got$uid_set|$request|$upstream_addr|$status';
    access_log {self.folder}/access.log routes;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.folder}/site.conf;
}}
""")
        self._proc: subprocess.Popen[bytes] | None = None

    def routes(self) -> list[tuple[str, str, str, str]]:
        """(browser cookie, request line, process address, status) of each finished request;
        a websocket's line is written when it closes."""
        log = self.folder / "access.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [tuple(line.split("|", 3)) for line in lines]  # type: ignore[misc]

    def start(self) -> Nginx:
        conf = str(self.folder / "nginx.conf")
        check = subprocess.run([NGINX, "-t", "-p", str(self.folder), "-c", conf],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {check.stderr}")
        self._proc = subprocess.Popen([NGINX, "-p", str(self.folder), "-c", conf, "-g",
                                       "daemon off;"], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: http_status(self.url + "/liveness-of-nginx") is not None,
                   timeout_s=30, message="nginx to answer")
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Nginx:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
