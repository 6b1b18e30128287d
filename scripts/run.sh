#!/usr/bin/env bash
# Serve the web application and the task worker together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

# The demo's payment gateway: a simulator on 127.0.0.1 and a checksum secret made for this run (the code
# has no default secret; production takes MOTCUA_PAYMENT_* from its environment). PAYMENT_SIMULATOR=0: none.
if [ "${PAYMENT_SIMULATOR:-1}" = "1" ] && [ -z "${MOTCUA_PAYMENT_SECRET:-}" ]; then
  export MOTCUA_PAYMENT_URL="http://127.0.0.1:${PAYMENT_SIMULATOR_PORT:-8768}"
  export MOTCUA_PAYMENT_MERCHANT_CODE="${MOTCUA_PAYMENT_MERCHANT_CODE:-MOTCUA-DEMO}"
  MOTCUA_PAYMENT_SECRET="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
  export MOTCUA_PAYMENT_SECRET
  .venv/bin/python manage.py payment_gateway_simulator --port "${PAYMENT_SIMULATOR_PORT:-8768}" &
  payments=$!
  trap 'kill "$payments" 2>/dev/null' EXIT
fi
# The worker that matches TASKS_BACKEND: the database one by default, the Redis one with
# TASKS_BACKEND=redis and REDIS_URL=redis://127.0.0.1:6379/0 (see motcua/settings.py).
if [ "${TASKS_BACKEND:-db}" = "redis" ]; then
  if [ -z "${REDIS_URL:-}" ]; then
    echo "TASKS_BACKEND=redis needs REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379/0" >&2
    exit 2
  fi
  .venv/bin/python manage.py run_redis_tasks --continuous --shutdown-timeout 25 &
else
  .venv/bin/python manage.py db_worker &
fi
worker=$!
# The scheduler enqueues the periodic jobs of motcua/schedule.py (national sync, deadline scan, monthly report…).
.venv/bin/python manage.py crontask --no-heartbeat &
scheduler=$!
trap 'kill "$worker" "$scheduler" ${payments:-} 2>/dev/null; wait "$worker" "$scheduler" ${payments:-} 2>/dev/null' EXIT INT TERM

echo
echo "Một cửa is starting on http://$HOST:$PORT/  (desk: /admin/, API: /api/v1/docs)"
.venv/bin/python manage.py runserver "$HOST:$PORT"
