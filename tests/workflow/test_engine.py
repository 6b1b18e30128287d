"""The engine on a three-level land workflow: deadlines and verdicts computed by hand from the default
time rules (Monday–Friday, sessions 07:30–11:30 and 13:30–17:00; counting starts with the session after
the hand-over), pauses, returns, refusals, and refused moves that change nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage

from motcua.documents import selectors as document_selectors
from motcua.documents import services as document_services
from motcua.documents.models import IssuedDocument
from motcua.documents.verification import verify_pdf
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import DossierEvent
from motcua.workflow import services
from motcua.workflow.models import RunOutcome, StepAttachment, StepRun, WorkflowRun
from tests.workflow.conftest import (
    DONRE,
    LAND_OFFICE,
    LIENBAO,
    MONDAY,
    PDF,
    VINHYEN_BRANCH,
    at,
    counts,
    current,
    events,
    land_procedure,
    result_pdf,
    three_levels,
)

pytestmark = pytest.mark.django_db


def test_receipt_starts_the_workflow(workflow, receive):
    dossier = receive()
    assert dossier.status == Status.IN_PROCESS
    # 5 working days = 10 sessions from Monday 30/11 09:00: Mon PM, Tue–Fri (8), Mon 07/12 AM → 11:30.
    assert dossier.due_at == at(7, 11, 30)
    run = WorkflowRun.objects.get(dossier=dossier)
    assert (run.workflow_id, run.revision, run.outcome) == (workflow.pk, 1, "")
    assert run.definition["steps"][0]["key"] == "xa"
    step = current(dossier)
    assert (step.step_key, step.agency.code, step.role, step.assignee) == ("xa", LIENBAO, "specialist", None)
    assert step.started_at == MONDAY
    # 2 sessions after Monday 09:00 (the clerk's session): Monday afternoon, Tuesday morning → Tue 01/12 11:30.
    assert step.due_at == at(1, 11, 30)
    assert events(dossier) == ["received", "processing_started", "step_started"]
    started = DossierEvent.objects.get(dossier=dossier, action="step_started")
    assert started.data["step"] == "xa" and started.data["agency"] == LIENBAO


def test_without_a_workflow_the_dossier_stays_received(land, receive):
    dossier = receive()
    assert dossier.status == Status.RECEIVED
    assert not StepRun.objects.exists() and not WorkflowRun.objects.exists()
    assert events(dossier) == ["received"]


def test_a_whole_run_with_its_process_control_sheet(workflow, receive, commune, branch, office, leader, clerk, pki):
    """The whole result path, the leader's approval signing the office's draft for real (demo PKI)."""
    dossier = receive()

    # Commune acts Monday 15:00, a day before its due day (Tue 01/12 11:30): early.
    move = services.act(dossier, user=commune, action="len-huyen", comment="Đã xác nhận", now=at(30, 15, month=11))
    assert move.finished.timeliness == "early"
    branch_step = move.current
    assert (branch_step.step_key, branch_step.agency.code) == ("chi-nhanh", VINHYEN_BRANCH)
    # 4 sessions after Monday 15:00: Tue AM, Tue PM, Wed AM, Wed PM → Wed 02/12 17:00.
    assert branch_step.due_at == at(2, 17)

    # The branch acts on its due day before the due time: on time.
    move = services.act(dossier, user=branch, action="trinh-tinh", now=at(2, 16))
    assert move.finished.timeliness == "on_time"
    # 3 sessions after Wednesday 16:00: Thu AM, Thu PM, Fri AM → Fri 04/12 11:30.
    assert (move.current.agency.code, move.current.due_at) == (LAND_OFFICE, at(4, 11, 30))

    # The provincial office needs the draft attached, and acts Friday 14:00, after 11:30: late.
    with pytest.raises(ValidationError) as refused:
        services.act(dossier, user=office, action="trinh-ld", now=at(4, 14))
    assert "attachments" in refused.value.message_dict
    move = services.act(
        dossier,
        user=office,
        action="trinh-ld",
        attachments=[{"name": "du-thao.pdf", "content": result_pdf(), "kind": "draft"}],
        now=at(4, 14),
    )
    assert move.finished.timeliness == "late"
    # 1 session after Friday 14:00: Monday 07/12 morning → 11:30.
    assert (move.current.agency.code, move.current.role, move.current.due_at) == (DONRE, "leader", at(7, 11, 30))
    attachment = StepAttachment.objects.get()
    assert (attachment.kind, attachment.original_filename, attachment.content_type) == (
        "draft",
        "du-thao.pdf",
        "application/pdf",
    )
    assert attachment.file.name.startswith(f"workflow/{dossier.pk}/") and default_storage.exists(attachment.file.name)

    # The leader approves Monday 10:00: the result goes to Liên Bảo's counter; the dossier is on time.
    move = services.act(dossier, user=leader, action="duyet", now=at(7, 10))
    assert move.finished.timeliness == "on_time" and move.finished.requires_signature
    signed = IssuedDocument.objects.get(dossier=dossier)
    assert (signed.agency.code, signed.created_at) == (DONRE, at(7, 10))
    assert list(signed.signatures.values_list("signer", flat=True)) == [leader.pk]
    report = verify_pdf(document_services.read_document(signed), trust_roots=document_selectors.trust_roots())
    assert report.all_ok and report.signatures[0].signer_name == leader.full_name
    dossier.refresh_from_db()
    assert (dossier.status, dossier.timeliness, dossier.finished_at) == (Status.RESULT_READY, "on_time", at(7, 10))
    result = move.current
    assert (result.kind, result.agency.code, result.role, result.department.code) == (
        "result",
        LIENBAO,
        "clerk",
        "mot-cua",
    )
    assert result.due_at is None and result.finished_at is None
    assert WorkflowRun.objects.get(dossier=dossier).outcome == RunOutcome.RESULT

    # The clerk hands the result over; the result row closes without a verdict.
    services.act(dossier, user=clerk, action="hand_over", now=at(7, 14))
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED and dossier.returned_at == at(7, 14)

    sheet = list(StepRun.objects.filter(dossier=dossier).order_by("sequence"))
    assert [(r.step_key, r.agency.code, r.budget_sessions, r.timeliness, r.acted_by) for r in sheet] == [
        ("xa", LIENBAO, 2, "early", commune),
        ("chi-nhanh", VINHYEN_BRANCH, 4, "on_time", branch),
        ("van-phong", LAND_OFFICE, 3, "late", office),
        ("lanh-dao", DONRE, 1, "on_time", leader),
        ("tra", LIENBAO, 0, "", clerk),
    ]
    assert [r.started_at for r in sheet] == [MONDAY, at(30, 15, month=11), at(2, 16), at(4, 14), at(7, 10)]
    assert [r.finished_at for r in sheet] == [at(30, 15, month=11), at(2, 16), at(4, 14), at(7, 10), at(7, 14)]
    assert events(dossier) == [
        "received",
        "processing_started",
        "step_started",
        "step_transferred",
        "step_transferred",
        "step_forwarded",
        "result_signed",
        "step_approved",
        "result_ready",
        "result_returned",
    ]
    approved = DossierEvent.objects.get(dossier=dossier, action="step_approved")
    assert approved.actor == leader and approved.agency.code == DONRE  # the acting agency is charged
    assert approved.data["from_step"] == "lanh-dao" and approved.data["to"]["step"] == "tra"


def test_a_supplement_pauses_the_step_and_the_dossier(workflow, receive, commune, branch, clerk):
    dossier = receive()
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 10, month=11))
    step = current(dossier)
    # 4 sessions after Monday 10:00: Mon PM, Tue AM, Tue PM, Wed AM → Wed 02/12 11:30.
    assert step.due_at == at(2, 11, 30)

    with pytest.raises(ValidationError):  # a supplement request needs its reason
        services.act(dossier, user=branch, action="bo-sung", now=at(1, 9))
    services.act(dossier, user=branch, action="bo-sung", comment="Thiếu bản đồ thửa đất", now=at(1, 9))
    dossier.refresh_from_db()
    step.refresh_from_db()
    assert dossier.status == Status.WAITING_FOR_SUPPLEMENT
    assert (step.paused_at, step.due_at, step.finished_at) == (at(1, 9), at(2, 11, 30), None)

    before = counts()
    with pytest.raises(services.WorkflowConflict):
        services.act(dossier, user=branch, action="trinh-tinh", now=at(2, 9))
    assert counts() == before

    services.act(dossier, user=clerk, action="supplement_received", now=at(3, 14))
    dossier.refresh_from_db()
    step.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS and step.paused_at is None
    # Step: 2 sessions were left at Tuesday 09:00 (Tue PM, Wed AM); from Thursday 14:00 → Fri AM, Fri PM.
    assert step.due_at == at(4, 17)
    # Dossier: 8 sessions were left (Tue PM … Mon 07/12 AM); from Thursday 14:00 → Wed 09/12 17:00.
    assert dossier.due_at == at(9, 17)

    move = services.act(dossier, user=branch, action="trinh-tinh", now=at(4, 16))
    assert move.finished.timeliness == "on_time"
    assert events(dossier)[3:] == [
        "step_transferred",
        "supplement_requested",
        "supplement_received",
        "step_transferred",
    ]


def test_refused_moves_change_nothing(workflow, receive, commune, branch, clerk, office):
    dossier = receive()

    def refused(exception, user, action, comment="", check=None):
        before = counts()
        status = dossier.status
        with pytest.raises(exception) as caught:
            services.act(dossier, user=user, action=action, comment=comment, now=at(1, 9))
        assert counts() == before
        dossier.refresh_from_db()
        assert dossier.status == status
        if check:
            assert check in str(caught.value), str(caught.value)
        return caught.value

    refused(PermissionDenied, clerk, "len-huyen", check="UBND xã xác nhận")  # the clerk does not hold the commune step
    refused(PermissionDenied, branch, "len-huyen")  # another agency: not the holder
    refused(ValidationError, commune, "khong-co")  # not an action of this workflow
    refused(ValidationError, commune, "trinh-tinh")  # an action of another step

    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    refused(PermissionDenied, branch, "tu-choi", comment="Sai đối tượng")  # holds the step, lacks the leader role
    error = refused(ValidationError, branch, "tra-xa")  # a return needs its reason
    assert "comment" in error.message_dict
    error = refused(ValidationError, branch, "uu-tien")  # condition form.uu_tien == 'co' is false
    assert "action" in error.message_dict
    refused(PermissionDenied, office, "trinh-tinh")  # the province office does not hold the branch step
    # The commune's action again: the step was finished meanwhile, and the message says by whom.
    conflict = refused(services.WorkflowConflict, commune, "len-huyen")
    assert commune.full_name in str(conflict)


def test_a_condition_that_holds_opens_the_shortcut(workflow, receive, commune, branch):
    dossier = receive(form={"uu_tien": "co"})
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    move = services.act(dossier, user=branch, action="uu-tien", now=at(1, 10))
    assert move.current.step_key == "lanh-dao"


def test_a_return_goes_back_to_who_handled_the_step(workflow, receive, commune, branch):
    dossier = receive()
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    move = services.act(dossier, user=branch, action="tra-xa", comment="Sai diện tích", now=at(1, 10))
    back = move.current
    assert (back.step_key, back.assignee, back.sequence) == ("xa", commune, 3)
    # 2 sessions after Tuesday 10:00: Tue PM, Wed AM → Wed 02/12 11:30.
    assert back.due_at == at(2, 11, 30)
    assert move.finished.comment == "Sai diện tích" and move.finished.action == "tra-xa"
    assert DossierEvent.objects.filter(dossier=dossier, action="step_returned").get().data["comment"] == "Sai diện tích"


def test_a_refusal_is_collected_at_the_counter(workflow, receive, commune, branch, office, leader, clerk):
    dossier = receive()
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    services.act(dossier, user=branch, action="trinh-tinh", now=at(1, 10))
    services.act(dossier, user=office, action="trinh-ld", attachments=[{"content": PDF}], now=at(1, 14))
    with pytest.raises(ValidationError):
        services.act(dossier, user=leader, action="khong-duyet", now=at(2, 9))
    move = services.act(dossier, user=leader, action="khong-duyet", comment="Không đủ điều kiện", now=at(2, 9))
    assert move.current.kind == "refusal"
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY and dossier.timeliness == "early"
    assert WorkflowRun.objects.get(dossier=dossier).outcome == RunOutcome.REFUSAL
    services.hand_over(dossier, user=clerk, now=at(2, 14))
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED


def test_bad_attachments_store_nothing(workflow, receive, commune, media):
    dossier = receive()
    before = counts()
    for bad in (
        [{"name": "virus.pdf", "content": b"MZ\x90\x00 not a pdf"}],
        [{"name": "empty.pdf", "content": b""}],
        [{"name": "x.pdf", "content_base64": "%%%"}],
        [{"content": PDF, "kind": "secret"}],
        ["not a file"],
    ):
        with pytest.raises(ValidationError):
            services.act(dossier, user=commune, action="len-huyen", attachments=bad, now=at(1, 9))
    assert counts() == before and not StepAttachment.objects.exists()
    assert not (media / "workflow").exists()


def test_a_step_larger_than_the_limit_is_refused(workflow, receive, commune, settings):
    settings.MOTCUA_MAX_FILE_SIZE = 1000
    dossier = receive()
    big = PDF + b"0" * 2000
    with pytest.raises(ValidationError) as refused:
        services.act(dossier, user=commune, action="len-huyen", attachments=[{"content": big}], now=at(1, 9))
    assert "attachments.0" in refused.value.message_dict


def test_running_dossiers_keep_their_definition(workflow, land, receive, commune):
    first = receive()
    changed = three_levels()
    changed["steps"][0]["budget_sessions"] = 1
    changed["steps"][1]["budget_sessions"] = 5
    services.replace_definition(land, None, changed)
    workflow.refresh_from_db()
    assert workflow.revision == 2
    second = receive(now=MONDAY)
    assert WorkflowRun.objects.get(dossier=first).revision == 1
    assert WorkflowRun.objects.get(dossier=second).revision == 2
    # First dossier: 2 sessions at the commune (Tue 11:30); second: 1 (Mon 17:00).
    assert current(first).due_at == at(1, 11, 30)
    assert current(second).due_at == at(30, 17, month=11)
    # Moving the first dossier on still uses its own snapshot's budget for the branch (4 sessions).
    move = services.act(first, user=commune, action="len-huyen", now=at(30, 15, month=11))
    assert move.current.budget_sessions == 4 and move.current.due_at == at(2, 17)


def test_the_holder_can_come_from_the_form(org, clerk):
    from motcua.dossiers import services as dossier_services
    from motcua.dossiers.models import Dossier

    version = land_procedure(code="1.004228")
    data = three_levels()
    data["steps"][0].update(holder="form_field", form_field="xa_thua_dat")
    services.replace_definition(version, None, data)
    values = {
        "clerk": clerk,
        "procedure_code": "1.004228",
        "applicant": {"full_name": "Nguyễn Văn An", "id_number": "026090001234"},
        "documents": [{"component": version.components.get().pk, "originals": 1}],
        "now": MONDAY,
    }
    dossier = dossier_services.receive_at_counter(
        form_data={"ho_ten": "A", "dien_tich": "5", "xa_thua_dat": "000.22.31.H62"}, **values
    )
    assert current(dossier).agency.code == "000.22.31.H62"
    # A form that names no agency: the intake is refused with the field, and nothing is saved.
    with pytest.raises(ValidationError) as refused:
        dossier_services.receive_at_counter(
            form_data={"ho_ten": "A", "dien_tich": "5", "xa_thua_dat": "Tích Sơn"}, **values
        )
    assert "form_data.xa_thua_dat" in refused.value.message_dict
    assert Dossier.objects.count() == 1 and StepRun.objects.count() == 1


def test_a_withdrawn_dossier_leaves_the_inboxes(workflow, receive, commune, clerk):
    from motcua.dossiers import services as dossier_services
    from motcua.workflow import selectors

    dossier = receive()
    dossier_services.withdraw(dossier, actor=clerk, reason="Người nộp rút hồ sơ", now=at(1, 9))
    assert selectors.inbox(commune, now=at(1, 10)).count() == 0  # the inbox only shows open dossiers
    step = StepRun.objects.get(dossier=dossier)
    assert (step.finished_at, step.action, step.timeliness) == (at(1, 9), "withdrawn", "")
    assert WorkflowRun.objects.get(dossier=dossier).finished_at == at(1, 9)
    assert services.dossier_ended(dossier, now=at(1, 10)) == 0
