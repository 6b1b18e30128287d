"""The deadline scan (due soon, overdue, apology requests) and the apology letter, at fixed moments.

The land workflow of the conftest: 5 days = 10 sessions, the commune step 2 sessions. Received
Monday 30/11/2026 09:00: the commune step is due Tue 01/12 11:30 (Mon pm, Tue am); the dossier is
due Mon 07/12 11:30 (Mon pm = 1, then day k = 2k, 2k+1 → k = 5 am). Sessions 07:30–11:30,
13:30–17:00; "due soon" and the apology lead are both 2 sessions by default.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, override_settings

from motcua.api import services as token_services
from motcua.dossiers.models import DossierEvent
from motcua.workflow import services
from motcua.workflow.models import Apology, Notice
from tests.workflow.conftest import at, staff

pytestmark = pytest.mark.django_db


def kinds(dossier) -> list[tuple[str, str | None]]:
    return sorted(
        (n.kind, n.step_run.step_key if n.step_run_id else None) for n in Notice.objects.filter(dossier=dossier)
    )


def test_due_soon_then_overdue_one_notice_each(workflow, receive, commune, mailoutbox):
    dossier = receive()
    # 09:30 Monday: 2 sessions on are Mon pm + Tue am → Tue 11:30 ≥ the step's due: due soon.
    report = services.scan_deadlines(now=at(30, 9, 30, month=11))
    assert report.notices == {"step_due_soon": 1} and report.apologies_requested == 0
    assert kinds(dossier) == [("step_due_soon", "xa")]
    notice = Notice.objects.get()
    assert list(notice.recipients.all()) == [commune]  # the Liên Bảo specialists' queue
    assert notice.due_at == at(1, 11, 30)
    assert [m.to for m in mailoutbox] == [[commune.email]]
    assert "01/12/2026" in mailoutbox[0].body and dossier.code in mailoutbox[0].subject

    # The same scan again writes and sends nothing.
    again = services.scan_deadlines(now=at(30, 10, month=11))
    assert again.notices == {} and again.emails == 0 and len(mailoutbox) == 1

    # Tuesday 14:00: past 11:30, overdue (once).
    assert services.scan_deadlines(now=at(1, 14)).notices == {"step_overdue": 1}
    assert services.scan_deadlines(now=at(1, 15)).notices == {}
    assert kinds(dossier) == [("step_due_soon", "xa"), ("step_overdue", "xa")]
    assert len(mailoutbox) == 2


def test_apology_requested_one_working_day_ahead(workflow, receive, mailoutbox):
    dossier = receive()
    leader = staff("lanhdao.lienbao")  # the competent agency is Liên Bảo
    # Thu 03/12 16:00: 2 sessions on end Fri 17:00, before Mon 07/12 11:30: not yet.
    assert services.scan_deadlines(now=at(3, 16)).apologies_requested == 0
    # Fri 04/12 09:00: Fri pm + Mon am → Mon 11:30 = the due moment: the leader is asked, once.
    report = services.scan_deadlines(now=at(4, 9))
    assert report.apologies_requested == 1 and report.notices.get("apology_needed") == 1
    request = Apology.objects.get()
    assert (request.dossier, request.agency.code, request.due_at, request.requested_at, request.recorded_at) == (
        dossier,
        "000.21.31.H62",
        at(7, 11, 30),
        at(4, 9),
        None,
    )
    notice = Notice.objects.get(kind="apology_needed")
    assert list(notice.recipients.all()) == [leader]
    assert any(m.to == [leader.email] for m in mailoutbox)
    assert services.scan_deadlines(now=at(4, 10)).apologies_requested == 0
    assert Apology.objects.count() == 1


@override_settings(MOTCUA_APOLOGY_LEAD_SESSIONS=4)
def test_apology_lead_is_a_setting(workflow, receive):
    receive()
    # 4 sessions from Thu 03/12 16:00: Fri am, pm, Mon am (11:30 = due) → asked already.
    assert services.scan_deadlines(now=at(3, 16)).apologies_requested == 1


def test_paused_dossiers_are_not_scanned(workflow, receive, commune, branch):
    dossier = receive()
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 10, month=11))
    services.act(dossier, user=branch, action="bo-sung", comment="Thiếu bản đồ", now=at(30, 11, month=11))
    report = services.scan_deadlines(now=at(10, 9))  # long after every due moment, but the clocks stand still
    assert report.notices == {} and report.apologies_requested == 0
    assert not Notice.objects.exists()


def test_record_apology_checks_everything_and_keeps_the_due(workflow, receive):
    dossier = receive()
    services.scan_deadlines(now=at(4, 9))
    leader = staff("lanhdao.lienbao")
    events_before = DossierEvent.objects.count()
    refusals = [
        (staff("lanhdao.tinh"), "Chờ ý kiến", at(9, 17), PermissionDenied),  # a leader of another agency
        (staff("chuyenvien.lienbao"), "Chờ ý kiến", at(9, 17), PermissionDenied),  # not a leader
        (leader, "   ", at(9, 17), ValidationError),  # no reason
        (leader, "Chờ ý kiến", at(7, 11, 30), ValidationError),  # not after the due moment
        (leader, "Chờ ý kiến", None, ValidationError),
    ]
    for user, reason, new_due, error in refusals:
        with pytest.raises(error):
            services.record_apology(dossier, user, reason, new_due, now=at(4, 10))
    assert DossierEvent.objects.count() == events_before
    assert Apology.objects.get().recorded_at is None

    apology = services.record_apology(dossier, leader, "  Chờ ý kiến  Sở TN&MT ", at(9, 17), now=at(4, 10))
    assert (apology.reason, apology.new_due_at, apology.recorded_by, apology.recorded_at) == (
        "Chờ ý kiến Sở TN&MT",
        at(9, 17),
        leader,
        at(4, 10),
    )
    assert Apology.objects.count() == 1  # the request was completed, not duplicated
    dossier.refresh_from_db()
    assert dossier.due_at == at(7, 11, 30)  # still late against the official due moment
    event = DossierEvent.objects.get(dossier=dossier, action="apology_recorded")
    assert event.actor == leader and event.data["reason"] == "Chờ ý kiến Sở TN&MT"
    assert event.data["new_due_at"].startswith("2026-12-09T17:00:00")


def test_apology_api(workflow, receive):
    dossier = receive()

    def post(local: str, body: dict):
        _token, plaintext = token_services.issue_token(staff(local), "tests")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="vi")
        return client.post(f"/api/v1/dossiers/{dossier.code}/apology", body, content_type="application/json")

    good = {"reason": "Chờ kết quả đo đạc", "new_due_at": "2026-12-10T17:00:00+07:00"}
    assert post("giamsat.lienbao", good).status_code == 403
    bad = post("lanhdao.lienbao", {"reason": "", "new_due_at": "2026-12-01T17:00:00+07:00"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"reason", "new_due_at"}
    assert not Apology.objects.exists()
    response = post("lanhdao.lienbao", good)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["due_at"] == "2026-12-07T11:30:00+07:00" and body["new_due_at"] == "2026-12-10T17:00:00+07:00"
    assert body["recorded_by"]["full_name"] == staff("lanhdao.lienbao").full_name
    assert body["dossier"]["due_at"] == "2026-12-07T11:30:00+07:00"


def test_deadline_task_runs_the_scan(workflow, receive, time_machine):
    from motcua.workflow import tasks

    receive()
    # Tuesday 14:00, past the commune step's 11:30: the task's scan sends its one overdue notice.
    # The worker calls the task's function with its context; a manual run from the desk is its own slot.
    time_machine.move_to(at(1, 14))
    result = tasks.deadline_scan.func(None, manual=True)
    assert result == "step_overdue: 1, apology requests: 0, e-mails: 1"
    from motcua.integrations.models import JobRun

    run = JobRun.objects.get(job__name="deadline_scan")
    assert run.manual and run.outcome == "succeeded" and run.message == result
