#!/usr/bin/env bash
# Install Debian's Chromium for the Playwright browser tests when it is missing.
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null && exit 0
  echo "Could not install chromium with apt-get." >&2
  exit 1
fi
echo "Chromium is missing: run 'sudo apt-get install chromium' (the browser tests need /usr/bin/chromium)." >&2
exit 1
