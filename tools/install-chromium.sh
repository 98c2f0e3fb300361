#!/usr/bin/env bash
# Install Debian's chromium for the real-browser check of the HTML report, where possible.
# Without it the browser tests are skipped (with that reason); nothing else needs it.
command -v chromium >/dev/null && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    && exit 0
fi
echo "chromium is not installed (Debian: apt-get install chromium); browser tests will be skipped" >&2
exit 0
