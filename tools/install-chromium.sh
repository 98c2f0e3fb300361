#!/usr/bin/env bash
# Install Debian's chromium for the real-browser check of the HTML report (tests/browser_check.py
# drives it with playwright; playwright's own browser download is never used).
# `make test` requires it (TRIALREPORT_REQUIRE_BROWSER=1): without chromium the browser tests fail
# there, and plain `pytest` skips them with the reason.
set -u
chromium="${TRIALREPORT_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
command -v chromium >/dev/null && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    && exit 0
fi
echo "chromium is not installed and could not be installed here (Debian: apt-get install" \
     "chromium, as root); the browser tests will fail under 'make test'" >&2
exit 0
