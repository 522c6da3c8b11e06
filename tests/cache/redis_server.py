"""A redis-server the tests own: started on a free loopback port in a temp dir, stoppable."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid

from marketcache.netutil import free_port


class RedisServer:
    """`redis-server --port P --save '' --appendonly no` in a temp dir; start, stop, restart."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="marketcache-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        """Whether a redis-server binary is installed."""
        return shutil.which("redis-server") is not None

    def start(self, timeout_s: float = 10.0) -> RedisServer:
        """Start (on the same port as before) and wait until it accepts connections."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", self._dir]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode}")
            if self._ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server (as a crash would) and wait for it."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        self._process = None

    def close(self) -> None:
        """Stop and remove the temp dir."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def unique_prefix() -> str:
    """A key prefix of its own for one test (a shared server is never flushed)."""
    return f"mctest-{uuid.uuid4().hex[:12]}"
