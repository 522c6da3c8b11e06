#!/usr/bin/env bash
# Make sure nginx and wrk exist for `marketcache bench --peers` (nginx proxy_cache is one
# of the contenders; wrk drives every contender). Installs Debian's packages when missing.
# The bench starts its own nginx on a free loopback port with a config of its own; the
# package's default site is never started here (policy-rc.d refuses service starts).
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "missing for the peers bench: installing Debian's ${missing[*]}" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # keep the package's own nginx service from starting on port 80
  policy=/usr/sbin/policy-rc.d
  created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null || status=$?
  if [ "$created" = "1" ]; then
    rm -f "$policy"
  fi
  exit "$status"
else
  echo "${missing[*]} missing and cannot be installed here (need root and apt-get)" >&2
  exit 1
fi
