"""Two PostgreSQL roles (invariant 9, review F6): an owner that runs migrations, and the app's DML role.

``DATABASE_URL`` names the app's role: it reads and writes rows, owns nothing, and on the event log
may only SELECT and INSERT — so it cannot UPDATE, DELETE, TRUNCATE, ALTER the table, drop or disable
its trigger, or switch triggers off with ``session_replication_role`` (superusers only).
``DATABASE_OWNER_URL`` (settings ``DATABASE_OWNER``) names the owner. ``manage.py migrate`` and
``flush`` (the commands in ``motcua/management/commands/``) run as the owner through ``as_owner``;
after migrating, ``grant_app`` gives the app's role exactly its privileges, on the tables of this
migration and, through default privileges, on tables created later. Without ``DATABASE_OWNER_URL``
everything runs as one role, as before. ``scripts/db-roles.sh`` creates both roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

EVENT_LOG = "dossiers_dossierevent"
_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_credentials() -> dict[str, str]:
    return dict(getattr(settings, "DATABASE_OWNER", {}) or {})


def separate_roles(alias: str = "default") -> bool:
    """True when an owner role distinct from the app's is configured for a PostgreSQL database."""
    owner = owner_credentials()
    conn = connections[alias]
    return bool(owner.get("USER")) and conn.vendor == "postgresql"


@contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Run the block connected as the owner (this thread's connection only), then reconnect as before.

    Settings that change meanwhile (the test runner renames the database) are kept.
    """
    owner = owner_credentials()
    conn = connections[alias]
    if not separate_roles(alias) or conn.settings_dict.get("USER") == owner["USER"]:
        yield
        return
    if conn.in_atomic_block:
        raise RuntimeError("Cannot switch to the owner role inside a transaction.")
    original = conn.settings_dict
    conn.close()
    conn.settings_dict = {**original, **owner}
    try:
        yield
    finally:
        conn.close()
        for key, value in conn.settings_dict.items():
            if key not in _CREDENTIALS:
                original[key] = value
        conn.settings_dict = original


def app_role(alias: str = "default") -> str:
    """The role the app connects as (``DATABASE_URL``'s user), whoever is connected now."""
    return str(getattr(settings, "DATABASE_APP_ROLE", "") or connections[alias].settings_dict.get("USER") or "")


def truncatable_tables() -> list[str]:
    """Tables the app itself empties with TRUNCATE: the reports' summary tables (derived data, rebuilt
    from the event log by ``reports.services.rebuild``)."""
    from motcua.reports.services import SUMMARY_TABLES

    return [model._meta.db_table for model in SUMMARY_TABLES]


def grant_statements(role: str, database: str, quote, truncatable: list[str] | None = None) -> list[str]:
    """What the app's role may do, run by the owner (``quote`` quotes an identifier); ``truncatable``: the
    summary tables that exist now (all of them by default)."""
    r = quote(role)
    return [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {quote(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        # Tables and sequences this owner creates later (the next migrations) get the same.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        # Nothing that only the owner should do.
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {r}",
        *(
            f"GRANT TRUNCATE ON {quote(table)} TO {r}"
            for table in (truncatable_tables() if truncatable is None else truncatable)
        ),
    ]


# Every role but the owner, PUBLIC included, may only read and append to the event log.
LOCK_EVENT_LOG = f"""
DO $$
DECLARE grantee text;
BEGIN
    IF to_regclass('{EVENT_LOG}') IS NULL THEN RETURN; END IF;
    EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {EVENT_LOG} FROM PUBLIC';
    FOR grantee IN
        SELECT DISTINCT pg_get_userbyid(acl.grantee)
        FROM pg_class c, aclexplode(c.relacl) acl
        WHERE c.oid = '{EVENT_LOG}'::regclass AND acl.grantee NOT IN (0, c.relowner)
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {EVENT_LOG} FROM %I', grantee);
    END LOOP;
END $$
"""


def grant_app(alias: str = "default", role: str | None = None) -> list[str]:
    """Give the app's role its privileges; run connected as the owner. Returns the statements run."""
    conn = connections[alias]
    role = role or app_role(alias)
    if conn.vendor != "postgresql" or not role:
        return []
    with conn.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        user, database = cursor.fetchone()
        if user == role:
            return []  # one role for everything: nothing to grant to oneself
        present = set(conn.introspection.table_names(cursor))
        summaries = [table for table in truncatable_tables() if table in present]  # a migration may be partial
        statements = [*grant_statements(role, database, conn.ops.quote_name, summaries), LOCK_EVENT_LOG]
        for statement in statements:
            cursor.execute(statement)
    return statements
