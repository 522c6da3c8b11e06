"""nginx `proxy_cache` in front of the uncached service: its config and its process.

One worker; POST answers cached by method, URI and body, each endpoint as long as our
freshness says; `proxy_cache_use_stale updating` with the refresh in the background and
one request at a time to the origin per key (`proxy_cache_lock`). The access log stays
on (buffered, as usually deployed), as our request log does.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from pathlib import Path

from marketcache.bench.peers.procs import Daemon, http_ready
from marketcache.bench.peers.tools import nginx_binary

_CONFIG = """\
{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log {prefix}/access.log combined buffer=64k flush=1s;
  client_body_temp_path {prefix}/tmp/body;
  proxy_temp_path {prefix}/tmp/proxy;
  fastcgi_temp_path {prefix}/tmp/fastcgi;
  uwsgi_temp_path {prefix}/tmp/uwsgi;
  scgi_temp_path {prefix}/tmp/scgi;
  proxy_cache_path {prefix}/cache levels=1:2 keys_zone=peers:10m max_size=256m
                   inactive=10m use_temp_path=off;
  upstream origin {{ server {origin}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_cache peers;
    proxy_cache_methods GET HEAD POST;
    proxy_cache_key "$request_method$request_uri|$request_body";
    proxy_cache_use_stale updating error timeout;
    proxy_cache_background_update on;
    proxy_cache_lock on;
    add_header X-Cache-Status $upstream_cache_status;
{locations}
    location / {{ proxy_pass http://origin; proxy_cache off; }}
  }}
}}
"""

_LOCATION = """\
    location = {path} {{ proxy_pass http://origin; proxy_cache_valid 200 {ttl_s}s; }}"""


def render(prefix: Path, port: int, origin: str, ttls_s: Mapping[str, float]) -> str:
    """The whole nginx.conf: `origin` is `host:port`, `ttls_s` each cached path's lifetime."""
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    locations = "\n".join(
        _LOCATION.format(path=path, ttl_s=max(1, round(ttl))) for path, ttl in ttls_s.items()
    )
    return _CONFIG.format(user=user, prefix=prefix, port=port, origin=origin, locations=locations)


def daemon(prefix: Path, port: int, origin: str, ttls_s: Mapping[str, float]) -> Daemon:
    """nginx on `port` with its config, cache and logs under `prefix` (not yet started)."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is missing (scripts/ensure-nginx-wrk.sh installs it)")
    for sub in ("tmp", "cache"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # the worker runs as nobody: let it write its cache and temp files
        nobody = pwd.getpwnam("nobody")
        os.chmod(prefix, 0o755)
        for sub in ("tmp", "cache"):
            os.chown(prefix / sub, nobody.pw_uid, nobody.pw_gid)
    conf = prefix / "nginx.conf"
    conf.write_text(render(prefix, port, origin, ttls_s))
    command = [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
    return Daemon("nginx", command, ready=http_ready(f"http://127.0.0.1:{port}/health"))
