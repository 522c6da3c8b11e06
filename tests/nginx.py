"""Debian's nginx started by a test on a free loopback port, in a folder of its own.

`NginxProcess(server_block)` writes a whole configuration (every path inside its
temporary folder), starts nginx in the foreground, waits for its port, and on
exit stops it by its process id and removes the folder, even when the test fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from marketcache import procutil
from marketcache.netutil import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def available() -> bool:
    """Whether nginx is installed (`make test` installs it: scripts/ensure-nginx-wrk.sh)."""
    return os.path.exists(NGINX)


CONFIG = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    {http}
    server {{
        listen 127.0.0.1:{port};
        {server}
    }}
}}
"""


class NginxProcess:
    """nginx with `server` (the server block's body) and `http` (extra http-level lines)."""

    def __init__(self, server: str, http: str = "") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = Path(tempfile.mkdtemp(prefix="marketcache-nginx-"))
        self.root.chmod(0o777)  # workers run as an unprivileged user when started as root
        text = CONFIG.format(root=self.root, port=self.port, server=server, http=http)
        text = text.replace("{root}", str(self.root))
        (self.root / "nginx.conf").write_text(text)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> NginxProcess:
        """Start and wait until the port accepts connections."""
        config = str(self.root / "nginx.conf")
        self._process = subprocess.Popen(
            [NGINX, "-p", str(self.root), "-c", config],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen in {timeout_s}s: {self.error_log()}")

    def error_log(self) -> str:
        """What nginx wrote to its error log."""
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop nginx (by its pid) and remove its folder."""
        if self._process is not None:
            procutil.stop(self._process, 10.0)
            self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> NginxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
