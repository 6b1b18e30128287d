"""The workflow's staff pages through real HTTP requests (Django's test client): the inbox scoped to
the officer, acting on a step with every refusal (missing reason, not the holder, twice, bad files)
changing nothing, the counter's hand-over, reassigning, and the dossier page's control sheet."""

from datetime import timedelta
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import Status
from motcua.org.models import Agency, User, UserRole
from motcua.workflow import services
from motcua.workflow.models import StepAttachment
from tests.workflow.conftest import PDF, counts, current, land_procedure, result_pdf, staff
from tests.workflow.test_consultation import JUSTICE, LABOUR, consultation

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "actions-body"}


def vi(message: str, **params) -> str:
    with translation.override("vi"):
        text = translation.gettext(message)
    assert text != message, f"no Vietnamese translation for {message!r}"
    return text % params if params else text


def text_of(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def fresh(receive):
    """A dossier received an hour ago (the views act at the real clock)."""
    return lambda: receive(now=timezone.now() - timedelta(hours=1))


def login(client, user):
    client.force_login(user)
    return client


def act_url(dossier) -> str:
    return reverse("workflow:act", args=[dossier.code])


def test_the_inbox_shows_only_the_officers_own_steps(client, workflow, fresh, commune):
    mine = fresh()
    login(client, commune)
    page = text_of(client.get(reverse("workflow:inbox")))
    assert mine.code in page and "UBND xã xác nhận" in page
    # Tích Sơn's specialist (another commune) never sees Liên Bảo's step, not even through a filter.
    other = staff("chuyenvien.tichson")
    login(client, other)
    for query in ("", "?filter=overdue", "?filter=due_soon"):
        page = text_of(client.get(reverse("workflow:inbox") + query))
        assert mine.code not in page
    # Nor can they act on it or open it.
    before = counts()
    response = client.post(act_url(mine), {"action": "len-huyen", "expected_step": current(mine).pk})
    assert response.status_code == 404 and counts() == before
    assert client.get(reverse("dossiers:detail", args=[mine.code])).status_code == 404


def test_the_inbox_filters_by_urgency(client, workflow, receive, commune):
    late = receive(now=timezone.now() - timedelta(days=20))
    login(client, commune)
    overdue = text_of(client.get(reverse("workflow:inbox") + "?filter=overdue"))
    assert late.code in overdue and vi("Overdue") in overdue
    soon = text_of(client.get(reverse("workflow:inbox") + "?filter=due_soon"))
    assert late.code not in soon
    assert client.get(reverse("workflow:inbox") + "?filter=bogus").status_code == 200


def test_acting_moves_the_dossier_and_the_page_shows_the_sheet(client, workflow, fresh, commune, branch):
    dossier = fresh()
    login(client, commune)
    page = text_of(client.get(reverse("dossiers:detail", args=[dossier.code])))
    assert "Chuyển Chi nhánh" in page and vi("Process control sheet") in page and "UBND xã xác nhận" in page
    response = client.post(
        act_url(dossier), {"action": "len-huyen", "comment": "Đã xác nhận", "expected_step": current(dossier).pk}
    )
    assert response.status_code == 302
    step = current(dossier)
    assert step.step_key == "chi-nhanh"
    page = text_of(client.get(reverse("dossiers:detail", args=[dossier.code]), follow=True))
    assert "Đã xác nhận" in page and step.agency.name in page
    # The branch (another agency) now sees it in its inbox and may open it.
    login(client, branch)
    assert dossier.code in text_of(client.get(reverse("workflow:inbox")))
    assert "Chuyển Văn phòng tỉnh" in text_of(client.get(reverse("dossiers:detail", args=[dossier.code])))


def test_a_return_without_a_reason_changes_nothing(client, workflow, fresh, commune, branch):
    dossier = fresh()
    services.act(dossier, user=commune, action="len-huyen")
    login(client, branch)
    before = counts()
    response = client.post(
        act_url(dossier), {"action": "tra-xa", "comment": "  ", "expected_step": current(dossier).pk}, **HX
    )
    assert response.status_code == 422 and counts() == before
    assert current(dossier).step_key == "chi-nhanh"
    assert 'class="alert error"' in response.content.decode()


def test_a_non_holder_and_a_second_click_are_refused(client, workflow, fresh, commune):
    dossier = fresh()
    expected = current(dossier).pk
    # A clerk of the same agency does not hold the specialist's step.
    login(client, staff("motcua.lienbao"))
    before = counts()
    response = client.post(act_url(dossier), {"action": "len-huyen", "expected_step": expected}, **HX)
    assert response.status_code == 403 and counts() == before
    login(client, commune)
    first = client.post(act_url(dossier), {"action": "len-huyen", "expected_step": expected}, **HX)
    assert first.status_code in (200, 204) or first.has_header("HX-Redirect")
    after = counts()
    second = client.post(act_url(dossier), {"action": "len-huyen", "expected_step": expected}, **HX)
    assert second.status_code == 409 and counts() == after
    assert 'class="alert warning"' in second.content.decode()


def test_bad_attachments_are_refused_and_nothing_is_stored(client, workflow, fresh, commune, branch, office, media):
    dossier = fresh()
    services.act(dossier, user=commune, action="len-huyen")
    services.act(dossier, user=branch, action="trinh-tinh")
    login(client, office)
    step = current(dossier).pk
    before = counts()
    for upload in (
        SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),
        SimpleUploadedFile("empty.pdf", b"", "application/pdf"),
    ):
        response = client.post(
            act_url(dossier), {"action": "trinh-ld", "expected_step": step, "attachments": upload}, **HX
        )
        assert response.status_code == 422, response.content
        assert counts() == before and not StepAttachment.objects.exists()
    # Required attachment missing: refused too.
    response = client.post(act_url(dossier), {"action": "trinh-ld", "expected_step": step}, **HX)
    assert response.status_code == 422 and counts() == before
    ok = client.post(
        act_url(dossier),
        {"action": "trinh-ld", "expected_step": step, "attachments": SimpleUploadedFile("du-thao.pdf", PDF)},
    )
    assert ok.status_code == 302 and StepAttachment.objects.count() == 1
    assert current(dossier).step_key == "lanh-dao"


def test_the_counter_hands_over_the_result(client, workflow, fresh, commune, branch, office, leader, clerk, pki):
    dossier = fresh()
    services.act(dossier, user=commune, action="len-huyen")
    services.act(dossier, user=branch, action="trinh-tinh")
    services.act(dossier, user=office, action="trinh-ld", attachments=[{"content": result_pdf(), "kind": "draft"}])
    login(client, clerk)
    assert dossier.code not in text_of(client.get(reverse("workflow:results")))
    services.act(dossier, user=leader, action="duyet")  # signs the draft with the leader's demo certificate
    page = text_of(client.get(reverse("workflow:results")))
    assert dossier.code in page
    # The clerk at the counter sees the signed result on the dossier's page.
    [signed] = dossier.issued_documents.all()
    detail = text_of(client.get(reverse("dossiers:detail", args=[dossier.code])))
    assert signed.title in detail and f"Ký: {leader.full_name}" in detail
    # A specialist is no clerk: refused, nothing changes.
    login(client, commune)
    assert client.post(reverse("workflow:hand-over", args=[dossier.code])).status_code == 403
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY
    login(client, clerk)
    response = client.post(reverse("workflow:hand-over", args=[dossier.code]), follow=True)
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED and dossier.returned_at is not None
    assert vi("Dossier %(code)s: the result was handed over to the applicant.", code=dossier.code) in text_of(response)
    # Twice: a clear message, nothing more recorded.
    again = client.post(reverse("workflow:hand-over", args=[dossier.code]), follow=True)
    assert 'class="alert warning"' in again.content.decode() or 'class="alert error"' in again.content.decode()


def test_reassign_is_for_leaders_and_unit_admins(client, workflow, fresh, commune):
    dossier = fresh()
    step = current(dossier)
    url = reverse("workflow:reassign", args=[step.pk])
    # The specialist holding it may not reassign; nothing changes.
    login(client, commune)
    response = client.post(url, {"to_user": commune.pk}, **HX)
    assert response.status_code == 403
    step.refresh_from_db()
    before = step.assignee_id
    leader = staff("lanhdao.lienbao")
    login(client, leader)
    page = text_of(client.get(reverse("dossiers:detail", args=[dossier.code])))
    assert 'name="to_user"' in page and commune.full_name in page
    # Someone outside the queue: refused with a message on the field.
    response = client.post(url, {"to_user": staff("motcua.lienbao").pk}, **HX)
    assert response.status_code == 422
    step.refresh_from_db()
    assert step.assignee_id == before
    response = client.post(url, {"to_user": "abc"}, **HX)
    assert response.status_code == 422
    response = client.post(url, {"to_user": commune.pk}, **HX)
    assert response.status_code == 200
    step.refresh_from_db()
    assert step.assignee_id == commune.pk


def test_the_desk_draws_the_saved_workflow(client, workflow):
    login(client, staff("admin"))
    page = client.get(f"/admin/workflow/workflow/{workflow.pk}/change/").content.decode()
    assert 'class="workflow-diagram"' in page
    for key in ("xa", "chi-nhanh", "van-phong", "lanh-dao", "tra", "tu-choi"):
        assert f'data-key="{key}"' in page
    assert (
        'class="wf-step wf-result" data-key="tra"' in page and 'class="wf-step wf-refusal" data-key="tu-choi"' in page
    )
    assert 'data-from="chi-nhanh" data-to="xa"' in page  # the return arrow
    assert vi("The diagram appears once the workflow is saved.") in unescape(
        client.get("/admin/workflow/workflow/add/").content.decode()
    )


def test_claiming_from_the_inbox(client, workflow, fresh, commune):
    dossier = fresh()
    step = current(dossier)
    if step.assignee_id is not None:  # auto-assigned by the engine: put it back in the queue first
        services.reassign(step, to_user=None, by=staff("admin"))
    login(client, commune)
    page = text_of(client.get(reverse("workflow:inbox")))
    assert vi("Take this step") in page and dossier.code in page
    detail = text_of(client.get(reverse("dossiers:detail", args=[dossier.code])))
    assert f'value="claim@{step.pk}"' in detail
    response = client.post(act_url(dossier), {"action": f"claim@{step.pk}"}, follow=True)
    step.refresh_from_db()
    assert step.assignee_id == commune.pk and response.status_code == 200
    # A colleague of the same queue clicks a moment later: told who took it, nothing changes.
    colleague = User.objects.create_user(
        "chuyenvien2.lienbao@vinhphuc.gov.vn",
        "x",
        full_name="Trần Thị Bình",
        unit=commune.unit,
        agency=commune.agency,
        department=commune.department,
    )
    UserRole.objects.create(user=colleague, role="specialist")
    login(client, colleague)
    before = counts()
    again = client.post(act_url(dossier), {"action": f"claim@{step.pk}"}, **HX)
    assert again.status_code == 409 and counts() == before
    assert 'class="alert warning"' in again.content.decode() and commune.full_name in text_of(again)
    step.refresh_from_db()
    assert step.assignee_id == commune.pk


def test_a_consulted_agency_answers_from_its_inbox(client, org, clerk, commune):
    version = land_procedure(days="2", code="1.004229")
    version.agencies.add(*Agency.objects.filter(code__in=[JUSTICE, LABOUR]))
    services.replace_definition(version, None, consultation())
    dossier = dossier_services.receive_at_counter(
        clerk=clerk,
        procedure_code="1.004229",
        applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234"},
        form_data={"ho_ten": "A", "dien_tich": "5"},
        documents=[{"component": version.components.get().pk, "originals": 1}],
        now=timezone.now() - timedelta(hours=1),
    )
    opened = services.act(dossier, user=commune, action="chuyen").opened
    justice = next(row for row in opened if row.agency.code == JUSTICE)
    officer = staff("chuyenvien.0000014h62")
    login(client, officer)
    inbox = text_of(client.get(reverse("workflow:inbox")))
    assert dossier.code in inbox and vi("opinion asked") in inbox
    page = text_of(client.get(reverse("dossiers:detail", args=[dossier.code])))
    assert f'value="answer@{justice.pk}"' in page and vi("Send the opinion") in page
    before = counts()
    refused = client.post(act_url(dossier), {"action": f"answer@{justice.pk}", "comment": ""}, **HX)
    assert refused.status_code == 422 and counts() == before
    done = client.post(act_url(dossier), {"action": f"answer@{justice.pk}", "comment": "Đồng ý"}, **HX)
    assert done.status_code in (200, 204)
    justice.refresh_from_db()
    assert justice.finished_at is not None and justice.comment == "Đồng ý" and justice.acted_by == officer
