"""The front door (deploy/proxy) run outside a container: the shipped nginx configurations
and marketcache-router, on free loopback ports, in front of two stand-in services.

What it keeps true: the routes follow the services' health, the split follows the share,
and neither a new share nor a service stopping under keep-alive load drops a request (the
routing nginx reloads; the client-facing one does not).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect
from websockets.utils import accept_key

from marketcache.netutil import free_port
from tests import nginx

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "deploy/proxy"
CACHED_HOST, ORIGINAL_HOST = "127.0.0.2", "127.0.0.1"

pytestmark = pytest.mark.skipif(not nginx.available(), reason="make test installs nginx")


class StandIn(ThreadingHTTPServer):
    """A service: `/health` answers 200; every other request answers its host's name."""

    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), Handler)
        self.name = host
        self.stopped = False
        self.forwarded_for: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        """host:port."""
        return f"{self.name}:{self.server_address[1]}"

    def stop(self) -> None:
        """Stop as a killed process would: no new connection, no answer on the open ones."""
        self.stopped = True
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    """One request of a stand-in service."""

    protocol_version = "HTTP/1.1"
    server: StandIn

    def upgrade(self) -> None:
        """Accept a WebSocket, send one text frame (this service's name), wait for the close."""
        accept = accept_key(self.headers["Sec-WebSocket-Key"])
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        name = self.server.name.encode()
        self.wfile.write(bytes([0x81, len(name)]) + name)
        self.wfile.flush()
        self.rfile.read(2)  # the client's close frame (or EOF)
        self.close_connection = True

    def answer(self) -> None:
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.upgrade()
            return
        if self.server.stopped:
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path != "/health":  # the router's own probes come direct
            self.server.forwarded_for.append(self.headers.get("X-Forwarded-For", ""))
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class FrontDoor:
    """marketcache-router with front.conf and routes.conf, ports and folders rewritten."""

    def __init__(self, cached: StandIn, original: StandIn, share: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="marketcache-front-"))
        self.root.chmod(0o777)  # nginx and the router run as nobody when the test is root
        self.state = self.root / "state"
        self.state.mkdir()
        self.state.chmod(0o777)
        self.service_port, self.migration_port, self.status_port = (free_port() for _ in "abc")
        for name in ("front.conf", "routes.conf"):
            text = (PROXY / name).read_text().replace("/tmp/nginx", str(self.state))
            text = text.replace("listen 8001;", f"listen 127.0.0.1:{self.service_port};")
            text = text.replace("listen 8002;", f"listen 127.0.0.1:{self.migration_port};")
            text = text.replace("127.0.0.1:8081", f"127.0.0.1:{self.status_port}")
            (self.root / name).write_text(text)
        self.env = {
            "PATH": os.environ["PATH"],
            "PROXY_CONF_DIR": str(self.root),
            "PROXY_STATE_DIR": str(self.state),
            "PROXY_STATUS_PORT": str(self.status_port),
            "PROXY_PROBE_INTERVAL_S": "0.2",
            "CACHED_BACKEND": cached.address,
            "ORIGINAL_BACKEND": original.address,
            "MIGRATION_CACHED_PERCENT": str(share),
        }
        self.process = subprocess.Popen(
            self.router_command("run"),
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "router.log").open("wb"),
            start_new_session=True,
        )

    def router_command(self, *args: str) -> list[str]:
        """marketcache-router with this front door's settings (as nobody when root)."""
        settings = [f"{key}={value}" for key, value in self.env.items()]
        command = ["env", *settings, "sh", str(PROXY / "router.sh"), *args]
        return ["runuser", "-u", "nobody", "--", *command] if os.geteuid() == 0 else command

    def log(self) -> str:
        """What the router and both nginx wrote."""
        return (self.root / "router.log").read_text(errors="replace")

    def status(self) -> str:
        """The router's state line, or "" while it does not answer."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.status_port}/_router", timeout=2).text
        except httpx.HTTPError:
            return ""

    def wait_for(self, pattern: str, timeout_s: float = 20.0) -> None:
        """Poll the router's state until it matches `pattern`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the router exited: {self.log()}")
            if re.search(pattern, self.status()):
                return
            time.sleep(0.05)
        raise AssertionError(f"state {self.status()!r} never matched {pattern!r}: {self.log()}")

    def share(self, percent: int) -> None:
        """`marketcache-router share N`, as deploy/traffic-split.sh runs it."""
        subprocess.run(self.router_command("share", str(percent)), check=True, timeout=30)

    def url(self, port: int) -> str:
        """The base URL of one of the front door's ports."""
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop the router and its two nginx (their session) and remove the folder."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def front_door(share: int = 20) -> Iterator[tuple[FrontDoor, StandIn, StandIn]]:
    """Two stand-in services and the front door before them, all stopped afterwards."""
    cached, original = StandIn(CACHED_HOST), StandIn(ORIGINAL_HOST)
    door = FrontDoor(cached, original, share)
    try:
        door.wait_for(rf"share={share} {CACHED_HOST}=up {ORIGINAL_HOST}=up")
        yield door, cached, original
    finally:
        door.stop()
        for service in (cached, original):
            if not service.stopped:
                service.stop()


@contextmanager
def keep_alive_load(url: str, threads: int = 4) -> Iterator[list[str]]:
    """POSTs in a loop on keep-alive connections; each outcome is who answered or the error."""
    outcomes: list[str] = []
    stop = threading.Event()

    def worker() -> None:
        with httpx.Client(timeout=20) as client:
            while not stop.is_set():
                try:
                    response = client.post(f"{url}/price", json={"symbol": "BTC/USDT"})
                    outcomes.append(
                        response.headers.get("X-Served-By", "?")
                        if response.status_code == 200
                        else f"status {response.status_code}"
                    )
                except httpx.HTTPError as error:
                    outcomes.append(repr(error))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    try:
        yield outcomes
    finally:
        stop.set()
        for thread in pool:
            thread.join(timeout=30)


def wait_until(done: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Poll `done` until it holds."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.01)


def served_by(url: str, count: int) -> Counter[str]:
    """Who answered `count` requests."""
    with httpx.Client(timeout=10) as client:
        return Counter(
            client.post(f"{url}/price", json={}).headers["X-Served-By"] for _ in range(count)
        )


def errors(outcomes: list[str]) -> list[str]:
    """The outcomes that were not an answer of a service."""
    return [o for o in outcomes if o not in (CACHED_HOST, ORIGINAL_HOST)]


def test_the_service_port_prefers_the_cached_service_and_the_split_follows_the_share() -> None:
    with front_door(share=0) as (door, cached, _):
        assert served_by(door.url(door.service_port), 20) == {CACHED_HOST: 20}
        assert served_by(door.url(door.migration_port), 20) == {ORIGINAL_HOST: 20}
        door.share(100)
        assert served_by(door.url(door.migration_port), 20) == {CACHED_HOST: 20}
        door.share(50)
        split = served_by(door.url(door.migration_port), 400)
        assert 120 < split[CACHED_HOST] < 280, split
        # the client seen by the services is the one the front door saw
        assert set(cached.forwarded_for) == {"127.0.0.1"}


def test_changing_the_share_under_keep_alive_load_drops_no_request() -> None:
    with front_door(share=0) as (door, _, _):
        with keep_alive_load(door.url(door.migration_port)) as outcomes:
            for step in range(60):  # every change reloads the routing nginx
                door.share((step * 37) % 101)
        assert len(outcomes) > 100, outcomes
        assert not errors(outcomes), Counter(errors(outcomes))
        assert door.log().count("routing: share=") >= 50, door.log()


def test_a_service_stopping_under_load_drops_no_request() -> None:
    """The direct cutover: the original stops; both ports go on answering, from the cached."""
    with front_door(share=20) as (door, _, original):
        with (
            keep_alive_load(door.url(door.service_port), threads=2) as service,
            keep_alive_load(door.url(door.migration_port), threads=2) as migration,
        ):
            wait_until(lambda: len(migration) >= 50, "load running")
            original.stop()
            door.wait_for(rf"{ORIGINAL_HOST}=down")
            at = len(migration)
            wait_until(lambda: len(migration) >= at + 50, "load after the stop")
        assert not errors(service + migration), Counter(errors(service + migration))
        assert set(migration[at:]) == {CACHED_HOST}


def test_a_websocket_passes_both_layers_to_the_service() -> None:
    """/ws (subscriptions) is upgraded through the front and the routing nginx."""
    with front_door(share=0) as (door, _, _):
        for port, served in (
            (door.service_port, CACHED_HOST),
            (door.migration_port, ORIGINAL_HOST),
        ):
            with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as socket:
                assert socket.recv(timeout=10) == served
        # plain requests still reuse the connections after it
        assert served_by(door.url(door.service_port), 20) == {CACHED_HOST: 20}
