#!/usr/bin/env bash
# Print the path of the newest Python >= 3.12 on this machine (Django 6 needs it), or explain and fail.
# pyenv shims are on PATH here but only answer for the pyenv version in force, so the
# interpreters pyenv installed are tried directly as well.
set -u
candidates=()
for v in 3.14 3.13 3.12; do
  command -v "python$v" >/dev/null 2>&1 && candidates+=("python$v")
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for p in "$root"/versions/"$v"*/bin/"python$v"; do
    [ -x "$p" ] && candidates+=("$p")
  done
  [ -x "/usr/bin/python$v" ] && candidates+=("/usr/bin/python$v")
done
for c in "${candidates[@]}"; do
  if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
    command -v "$c"
    exit 0
  fi
done
echo "Một cửa needs Python 3.12 or newer (Django 6.1 does not run on $(python3 --version 2>&1))." >&2
echo "Install python3.12 or python3.13 (e.g. 'apt-get install python3.13' or 'pyenv install 3.13') and run make again." >&2
exit 1
