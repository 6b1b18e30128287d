#!/usr/bin/env bash
# Install the few Debian packages Python cannot bring: Chromium for the Playwright browser tests
# (Playwright cannot download its own browser here), poppler-utils (pdftoppm/pdftotext) for the
# tests that look at rendered PDFs, Pango for WeasyPrint, and SoftHSM2 so the PKCS#11 signing
# tests use a real token. Fonts are shipped in the repository.
set -u
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
[ -e /usr/lib/softhsm/libsofthsm2.so ] || need+=(softhsm2)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${need[*]}…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null && exit 0
  echo "Could not install ${need[*]} with apt-get." >&2
  exit 1
fi
echo "Missing Debian packages: run 'sudo apt-get install ${need[*]}'." >&2
exit 1
