#!/usr/bin/env bash
# Make sure a redis-server binary exists for the tests (they start their own on a
# free port unless REDIS_URL is set). Installs Debian's package when missing.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ -n "${REDIS_URL:-}" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server missing: installing Debian's package" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
else
  echo "redis-server is missing and cannot be installed here (need root and apt-get); set REDIS_URL" >&2
  exit 1
fi
