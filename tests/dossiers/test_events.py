"""The event log is append-only: the model refuses changes, and on PostgreSQL so does the database."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from motcua.dossiers.models import DossierEvent, EventLogIsAppendOnly

pytestmark = pytest.mark.django_db


def test_the_orm_cannot_change_or_delete_events(receive):
    event = DossierEvent.objects.get(dossier=receive())
    event.action = "refused"
    with pytest.raises(EventLogIsAppendOnly):
        event.save()
    with pytest.raises(EventLogIsAppendOnly):
        event.delete()
    with pytest.raises(EventLogIsAppendOnly):
        DossierEvent.objects.filter(pk=event.pk).update(action="refused")
    with pytest.raises(EventLogIsAppendOnly):
        DossierEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(EventLogIsAppendOnly), transaction.atomic():
        DossierEvent.objects.bulk_update([event], ["action"])
    assert DossierEvent.objects.get(pk=event.pk).action == "received"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is installed on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE dossiers_dossierevent SET action = 'refused' WHERE id = %s",
        "DELETE FROM dossiers_dossierevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_updates_and_deletes(receive, sql):
    event = DossierEvent.objects.get(dossier=receive())
    # As the app's DML role (CI) the missing privilege refuses first; as an owner, the trigger.
    refused = r"append-only|permission denied"
    with pytest.raises(DatabaseError, match=refused), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert DossierEvent.objects.get(pk=event.pk).action == "received"
