"""Review F6: the app's database role reads and writes rows, owns nothing, and cannot truncate or alter the
event log, drop or disable its trigger, or switch triggers off (invariant 9).

In CI (``eval "$(scripts/ci-db-roles.sh)"``) the whole suite connects as the app's DML role, and these tests
use that connection. Run as a superuser without ``DATABASE_OWNER_URL``, they create a DML role inside the
test's transaction, give it the privileges ``migrate`` gives (motcua/dbroles.py) and act as it with
``SET LOCAL ROLE``; the rollback at the end removes the role again.
"""

import os

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from motcua import dbroles
from motcua.dossiers.models import DossierEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's"),
]

EVENT_LOG = dbroles.EVENT_LOG


def _one(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.fixture
def app_role(db) -> str:
    """The name of the app's DML role, which this test's connection now acts as."""
    if dbroles.separate_roles():
        assert _one("SELECT current_user") == settings.DATABASE_APP_ROLE
        return settings.DATABASE_APP_ROLE
    if not _one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        pytest.skip("needs DATABASE_OWNER_URL (scripts/ci-db-roles.sh) or a superuser connection")
    role = f"motcua_test_app_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOINHERIT")
        cursor.execute("SELECT current_database()")
        for statement in dbroles.grant_statements(role, cursor.fetchone()[0], connection.ops.quote_name):
            cursor.execute(statement)
        cursor.execute(dbroles.LOCK_EVENT_LOG)
        cursor.execute(f"SET LOCAL ROLE {role}")
    return role


@pytest.fixture
def event(app_role, receive) -> DossierEvent:
    """A dossier received at the counter by the app's role: INSERT into the event log works."""
    return DossierEvent.objects.get(dossier=receive())


def _refused(sql: str, *match: str) -> str:
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    message = str(refusal.value)
    assert any(text in message for text in match), message
    return message


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {EVENT_LOG} SET action = 'refused' WHERE id = %(id)s",
        f"DELETE FROM {EVENT_LOG} WHERE id = %(id)s",
    ],
    ids=["update", "delete"],
)
def test_rows_of_the_event_log_cannot_change(event, sql):
    # Refused by the missing privilege; the owner would be refused by the trigger ("append-only").
    _refused(sql % {"id": event.pk}, "permission denied", "append-only")
    assert DossierEvent.objects.filter(pk=event.pk, action="received").exists()


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        (f"TRUNCATE {EVENT_LOG}", "permission denied"),
        (f"TRUNCATE {EVENT_LOG} CASCADE", "permission denied"),
        (f"ALTER TABLE {EVENT_LOG} DISABLE TRIGGER dossiers_event_append_only", "must be owner"),
        (f"ALTER TABLE {EVENT_LOG} DISABLE TRIGGER ALL", "must be owner"),
        (f"DROP TRIGGER dossiers_event_append_only ON {EVENT_LOG}", "must be owner"),
        (f"DROP TABLE {EVENT_LOG} CASCADE", "must be owner"),
        (f"ALTER TABLE {EVENT_LOG} OWNER TO CURRENT_USER", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("CREATE TABLE motcua_not_allowed (id int)", "permission denied"),
    ],
    ids=[
        "truncate",
        "truncate-cascade",
        "disable-trigger",
        "disable-all-triggers",
        "drop-trigger",
        "drop-table",
        "take-ownership",
        "replication-role",
        "create-table",
    ],
)
def test_the_event_log_and_its_trigger_cannot_be_undone(event, sql, match):
    _refused(sql, match)
    assert _one(f"SELECT count(*) FROM {EVENT_LOG} WHERE id = %s", [event.pk]) == 1
    assert _one("SELECT count(*) FROM pg_trigger WHERE tgname = 'dossiers_event_append_only' AND tgenabled = 'O'") == 1


def test_reading_and_appending_work(event):
    copy = DossierEvent.objects.create(
        dossier_id=event.dossier_id, action="received", from_status="", to_status=event.to_status, at=event.at
    )
    assert copy.pk > event.pk
    assert _one(f"SELECT count(*) FROM {EVENT_LOG} WHERE dossier_id = %s", [event.dossier_id]) == 2


def test_the_app_role_is_no_superuser_and_owns_nothing(app_role):
    assert (
        _one("SELECT rolsuper OR rolbypassrls OR rolcreaterole FROM pg_roles WHERE rolname = %s", [app_role]) is False
    )
    assert _one("SELECT count(*) FROM pg_class WHERE relowner = %s::regrole", [app_role]) == 0
    privileges = {
        kind: _one("SELECT has_table_privilege(%s, %s, %s)", [app_role, EVENT_LOG, kind])
        for kind in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    }
    assert privileges == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "REFERENCES": False,
        "TRIGGER": False,
    }
    # Every other table: rows only; TRUNCATE only on the reports' rebuildable summary tables.
    assert _one("SELECT has_table_privilege(%s, 'dossiers_dossier', 'SELECT, INSERT, UPDATE, DELETE')", [app_role])
    assert not _one("SELECT has_table_privilege(%s, 'dossiers_dossier', 'TRUNCATE')", [app_role])
    for table in dbroles.truncatable_tables():
        assert _one("SELECT has_table_privilege(%s, %s, 'TRUNCATE')", [app_role, table])


def test_tables_of_later_migrations_are_granted_by_default(app_role):
    """ALTER DEFAULT PRIVILEGES: what the owner creates next is readable and writable by the app's role."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.defaclobjtype, d.defaclacl::text FROM pg_default_acl d "
            "JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = 'public'"
        )
        rows = cursor.fetchall()
    assert any(kind == "r" and f"{app_role}=arwd/" in acl for kind, acl in rows), rows
    assert any(kind == "S" and f"{app_role}=rU/" in acl for kind, acl in rows), rows


@pytest.mark.django_db(transaction=True)
def test_the_trigger_still_refuses_the_owner():
    """Defence in depth: the owner (who runs migrations) is refused by the trigger. Transactional, so the
    owner's own connection sees the committed rows; the flush afterwards runs as the owner too."""
    if not dbroles.separate_roles():
        pytest.skip("one role for everything: test_events.py tests the trigger on this connection")
    import psycopg

    from motcua.dossiers import services
    from motcua.org import demo
    from motcua.org.models import User
    from tests.dossiers.conftest import FORM, MONDAY, applicant, make_procedure

    demo.load()
    proc = make_procedure("1.001193")
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    dossier = services.receive_at_counter(
        clerk=clerk,
        procedure_code=proc.code,
        applicant=applicant(),
        form_data=FORM,
        documents=proc.documents(),
        now=MONDAY,
    )
    event = DossierEvent.objects.get(dossier=dossier)
    owner = {**connection.settings_dict, **settings.DATABASE_OWNER}
    params = {"dbname": owner["NAME"], "user": owner["USER"], "host": owner["HOST"], "port": owner["PORT"]}
    with psycopg.connect(**params, password=owner["PASSWORD"] or None, autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == owner["USER"]
        for sql in (
            f"UPDATE {EVENT_LOG} SET action = 'refused' WHERE id = %s",
            f"DELETE FROM {EVENT_LOG} WHERE id = %s",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(sql, [event.pk])
    assert DossierEvent.objects.filter(pk=event.pk, action="received").exists()
