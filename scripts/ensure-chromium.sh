#!/usr/bin/env bash
# Make sure Debian's Chromium exists for the dashboard's browser test
# (tests/dashboard/test_browser.py drives /usr/bin/chromium through Playwright; no
# browser is ever downloaded by a test tool). Installs Debian's `chromium` package
# when missing and possible; otherwise fails, as the browser test would.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing: installing Debian's package" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "/usr/bin/chromium is missing and cannot be installed here (need root and apt-get):" \
    "install Debian's chromium package for the dashboard's browser test" >&2
  exit 1
fi
