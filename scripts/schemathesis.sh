#!/usr/bin/env bash
# schemathesis against a real gunicorn on a fresh PostgreSQL demo (see scripts/schemathesis_run.py).
# SCHEMATHESIS_MAX_EXAMPLES=100 SCHEMATHESIS_MAX_TIME=1800 scripts/schemathesis.sh   # a longer run by hand
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/schemathesis_run.py "$@"
