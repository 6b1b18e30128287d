"""A lean producer of dossier events for the fault test and the bench.

It writes what ``dossiers.services`` writes for a status change — the dossier row locked, its
status changed and one ``DossierEvent`` appended, in one transaction, so a dossier's events
commit in id order — without the intake validation, the calendar and the report booking that
make a real transition cost 25–60 ms here. The sender under test reads only these rows.
"""

import itertools
from collections.abc import Iterator
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Channel, Dossier, DossierEvent
from motcua.org.models import Agency, User

Action = DossierEvent.Action
#: After "received": processing, then supplement round trips (in process ↔ waiting).
CYCLE = [
    (Status.IN_PROCESS, Action.PROCESSING_STARTED),
    (Status.WAITING_FOR_SUPPLEMENT, Action.SUPPLEMENT_REQUESTED),
    (Status.IN_PROCESS, Action.SUPPLEMENT_RECEIVED),
]


def _moves() -> Iterator[tuple[str, str]]:
    yield CYCLE[0]
    yield from itertools.cycle(CYCLE[1:])


def receive(version: ProcedureVersion, agency: Agency, clerk: User, code: str, name: str) -> Dossier:
    moment = timezone.now()
    with transaction.atomic():
        dossier = Dossier.objects.create(
            code=code,
            procedure_version=version,
            status=Status.RECEIVED,
            channel=Channel.COUNTER,
            receiving_agency=agency,
            competent_agency=agency,
            received_by=clerk,
            applicant_name=name,
            applicant_id_number="026190001234",
            applicant_phone="0912345678",
            submitted_at=moment,
            received_at=moment,
            valid_receipt_at=moment,
            due_at=moment + timedelta(days=3),
        )
        DossierEvent.objects.bulk_create(
            [
                DossierEvent(
                    dossier=dossier,
                    actor=clerk,
                    actor_role="clerk",
                    agency=agency,
                    action=Action.RECEIVED,
                    from_status="",
                    to_status=Status.RECEIVED,
                    at=moment,
                    data={"code": code},
                )
            ]
        )
    return dossier


def move(dossier_id: int, to_status: str, action: str, clerk: User, reason: str = "") -> None:
    with transaction.atomic():
        from_status, agency_id = (
            Dossier.objects.select_for_update().filter(pk=dossier_id).values_list("status", "competent_agency_id").get()
        )
        Dossier.objects.filter(pk=dossier_id).update(status=to_status, updated_at=timezone.now())
        DossierEvent.objects.bulk_create(
            [
                DossierEvent(
                    dossier_id=dossier_id,
                    actor=clerk,
                    actor_role="specialist",
                    agency_id=agency_id,
                    action=action,
                    from_status=from_status,
                    to_status=to_status,
                    at=timezone.now(),
                    data={"reason": reason} if reason else {},
                )
            ]
        )


def produce(version: ProcedureVersion, prefix: str, dossiers: int, events_each: int) -> list[int]:
    """``dossiers`` dossiers of ``events_each`` events, moved round-robin so dossiers interleave."""
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    agency = clerk.agency
    made = [
        receive(version, agency, clerk, f"{prefix}-{n:04d}", f"Nguyễn Thị Hồng Nhung {n}").pk for n in range(dossiers)
    ]
    plans = {pk: _moves() for pk in made}
    for _round in range(events_each - 1):
        for pk in made:
            to_status, action = next(plans[pk])
            move(pk, to_status, action, clerk, "Bổ sung bản sao giấy chứng sinh")
    return made
