#!/usr/bin/env bash
# Make sure `promtool` exists for tests/monitoring/test_prometheus_rules.py, which checks
# deploy/prometheus/alerts.yml with `promtool check rules` and `promtool test rules`.
# Installs Debian's `prometheus` package (it ships promtool; nothing is started) when
# missing and possible; otherwise that one test is skipped and the YAML checks still run.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "promtool missing: installing Debian's prometheus package" >&2
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
      >/dev/null; }; then
    echo "could not install prometheus; the promtool test will be skipped" >&2
  fi
else
  echo "promtool is missing and cannot be installed here (need root and apt-get);" \
    "the promtool test will be skipped" >&2
fi
