#!/usr/bin/env bash
# CI: the two database roles on 127.0.0.1:5432, so the PostgreSQL suite runs as the app's DML-only role.
#
#   eval "$(scripts/ci-db-roles.sh)" && make test
#
# Creates (idempotently) motcua_ci_owner, which may create databases (pytest-django creates and migrates
# the test databases as the owner, tests/dbroles.py) and motcua_ci_app, which owns nothing; prints the
# two `export` lines. CI_DB_NAME (default motcua_ci) names the database; its test databases are
# test_<name>_gw0, _gw1… with pytest-xdist.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${CI_DB_NAME:-motcua_ci}"
scripts/db-roles.sh --createdb "$name" "${name}_owner" "${name}_app" | sed 's/^/export /'
