#!/usr/bin/env bash
# Create the two PostgreSQL roles of Một cửa and their database (README "Production: two database roles").
#
#   scripts/db-roles.sh [--createdb] [--migrate] DATABASE [OWNER_ROLE] [APP_ROLE]
#
# - OWNER_ROLE (default motcua_owner) owns the database, its schema and every table; it runs `migrate`.
#   --createdb also lets it create databases (CI: pytest creates its test databases as the owner).
# - APP_ROLE (default motcua_app) is what the web servers and workers connect as: no superuser, owns
#   nothing, CONNECT on the database. Its table privileges (SELECT/INSERT/UPDATE/DELETE, sequences,
#   default privileges for later tables, only SELECT/INSERT on the event log) are granted by
#   `manage.py migrate` run as the owner (motcua/dbroles.py), after every migration.
# Idempotent: roles and the database are created when missing, otherwise brought back to this shape;
# tables, sequences, views and functions of the schema owned by another role are handed to the owner.
#
# Environment: PGADMIN_URL, a superuser connection (default postgres://postgres@127.0.0.1:5432/postgres);
# MOTCUA_DB_OWNER_PASSWORD / MOTCUA_DB_APP_PASSWORD set the roles' passwords when given (URL-safe
# characters); MOTCUA_DB_HOST / MOTCUA_DB_PORT go into the printed URLs (default 127.0.0.1:5432).
# Prints DATABASE_URL=… and DATABASE_OWNER_URL=… lines, ready for `eval "$(… | sed 's/^/export /')"`.
set -euo pipefail
cd "$(dirname "$0")/.."

createdb=NOCREATEDB
migrate=0
while [ $# -gt 0 ]; do
  case "$1" in
    --createdb) createdb=CREATEDB; shift ;;
    --migrate) migrate=1; shift ;;
    --) shift; break ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
db="$1"
owner="${2:-motcua_owner}"
app="${3:-motcua_app}"
for name in "$db" "$owner" "$app"; do
  [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "not a plain identifier: $name" >&2; exit 2; }
done
[ "$owner" != "$app" ] || { echo "the owner and the app role must differ" >&2; exit 2; }
admin="${PGADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
host="${MOTCUA_DB_HOST:-127.0.0.1}"
port="${MOTCUA_DB_PORT:-5432}"

psql "$admin" -X -q -v ON_ERROR_STOP=1 -v db="$db" -v owner="$owner" -v app="$app" \
  -v owner_password="${MOTCUA_DB_OWNER_PASSWORD:-}" -v app_password="${MOTCUA_DB_APP_PASSWORD:-}" \
  -v createdb="$createdb" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
-- Neither may bypass permissions or row security, create roles, or replicate (session_replication_role).
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS %s', :'owner', :'createdb') \gexec
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'owner_password') WHERE :'owner_password' <> '' \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'app', :'app_password') WHERE :'app_password' <> '' \gexec
-- The app role is no member of the owner (it would inherit ownership).
SELECT format('REVOKE %I FROM %I', :'owner', :'app')
  WHERE pg_has_role(:'app', :'owner', 'MEMBER') AND :'app' <> :'owner' \gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";

\connect :"db"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM :"app";
GRANT USAGE ON SCHEMA public TO :"app";
-- A database migrated by another role (the superuser, say): its objects go to the owner.
SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, :'owner')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) <> :'owner'
\gexec
SELECT format('ALTER SEQUENCE %I.%I OWNER TO %I', n.nspname, c.relname, :'owner')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> :'owner'
    AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
\gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'owner')
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND pg_get_userbyid(p.proowner) <> :'owner'
\gexec
-- Whatever the app role held before this (ownership, TRUNCATE, TRIGGER…) is taken back; migrate grants the rest.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"app", PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM :"app", PUBLIC;
SQL

url() {  # url ROLE PASSWORD
  if [ -n "$2" ]; then echo "postgres://$1:$2@$host:$port/$db"; else echo "postgres://$1@$host:$port/$db"; fi
}
app_url="$(url "$app" "${MOTCUA_DB_APP_PASSWORD:-}")"
owner_url="$(url "$owner" "${MOTCUA_DB_OWNER_PASSWORD:-}")"
if [ "$migrate" = 1 ]; then
  DATABASE_URL="$app_url" DATABASE_OWNER_URL="$owner_url" .venv/bin/python manage.py migrate --noinput >&2
fi
echo "DATABASE_URL=$app_url"
echo "DATABASE_OWNER_URL=$owner_url"
