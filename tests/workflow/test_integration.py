"""The engine inside the dossier services: who may change a dossier, step clocks on the dossier API's
status changes, withdraw/stop closing the steps, routed visibility, workflows carried to a new version.

Moments as in the conftest: received Monday 30/11/2026 09:00; the commune step (2 sessions) is due
Tue 01/12 11:30, the dossier (10 sessions) Mon 07/12 11:30. The dossier API reads the clock, so its
requests run with the clock stopped at a fixed moment (time-machine).
"""

from contextlib import contextmanager

import pytest
import time_machine
from django.test import Client

from motcua.api import services as token_services
from motcua.catalog import services as catalog_services
from motcua.dossiers import services as dossier_services
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.workflow import definitions, services
from motcua.workflow.models import StepRun, Workflow
from tests.workflow.conftest import BINHXUYEN_BRANCH, LIENBAO, at, counts, current, staff, three_levels

pytestmark = pytest.mark.django_db


@contextmanager
def clock(moment):
    with time_machine.travel(moment, tick=False):
        yield


def api(local: str) -> Client:
    _token, plaintext = token_services.issue_token(staff(local), "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="vi")


def post(local: str, url: str, body: dict, moment):
    with clock(moment):
        return api(local).post(url, body, content_type="application/json")


@pytest.mark.parametrize("local", ["giamsat.lienbao", "quantri.lienbao"])
def test_monitors_and_unit_admins_see_but_do_not_change(workflow, receive, local):
    dossier = receive()
    before, status = counts(), dossier.status
    url = f"/api/v1/dossiers/{dossier.code}"
    assert api(local).get(url).status_code == 200  # they do see it
    response = post(local, f"{url}/supplement-request", {"reason": "Thiếu giấy tờ"}, at(30, 10, month=11))
    assert response.status_code == 403, response.json()
    assert response.json()["detail"] == "Vai trò của bạn không được thay đổi hồ sơ."
    response = post(local, f"{url}/withdraw", {"reason": "Rút"}, at(30, 10, month=11))
    assert response.status_code == 403
    dossier.refresh_from_db()
    assert (counts(), dossier.status) == (before, status)


def test_the_dossier_api_pauses_and_resumes_the_step_clocks(workflow, receive):
    dossier = receive()
    url = f"/api/v1/dossiers/{dossier.code}"
    response = post("motcua.lienbao", f"{url}/supplement-request", {"reason": "Thiếu trích đo"}, at(30, 10, month=11))
    assert response.status_code == 200, response.json()
    step = current(dossier)
    assert step.paused_at == at(30, 10, month=11) and step.due_at == at(1, 11, 30)
    # Left at Mon 10:00: the step Mon pm + Tue am = 2 sessions; the dossier Mon pm + Tue–Fri 8 + Mon am = 10.
    response = post("motcua.lienbao", f"{url}/supplement-received", {}, at(2, 14))
    assert response.status_code == 200, response.json()
    step.refresh_from_db()
    # From Wed 02/12 14:00 (pm running): Thu am, Thu pm → Thu 03/12 17:00.
    assert (step.paused_at, step.due_at) == (None, at(3, 17))
    dossier.refresh_from_db()
    # 10 sessions from Wed 14:00: Thu ×2, Fri ×2, Mon ×2, Tue ×2, Wed 09/12 ×2 → 17:00.
    assert (dossier.status, dossier.due_at) == ("in_process", at(9, 17))
    # One event each, no double: the engine went through the dossier services once.
    actions = list(dossier.events.values_list("action", flat=True))
    assert actions.count("supplement_requested") == 1 and actions.count("supplement_received") == 1


def test_a_step_holder_elsewhere_cannot_use_the_dossier_api_to_pause(workflow, receive):
    dossier = receive()
    before = counts()
    # The provincial office's specialist sees every dossier of the province but holds no step of this one.
    response = post(
        "chuyenvien.tinh", f"/api/v1/dossiers/{dossier.code}/supplement-request", {"reason": "x"}, at(30, 10, month=11)
    )
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize("service", ["withdraw", "stop"])
def test_withdraw_and_stop_close_the_open_steps(workflow, receive, clerk, service):
    dossier = receive()
    getattr(dossier_services, service)(dossier, actor=clerk, reason="Người nộp rút hồ sơ", now=at(1, 9))
    step = StepRun.objects.get(dossier=dossier)
    assert (step.finished_at, step.action, step.timeliness) == (at(1, 9), dossier.status, "")
    assert dossier.workflow_run.finished_at == at(1, 9)
    assert current(dossier) is None


def test_staff_see_the_dossiers_routed_to_them(land, receive, commune, branch):
    data = three_levels()
    for row in data["steps"]:
        if row["key"] == "chi-nhanh":  # the Bình Xuyên branch holds it, outside Liên Bảo's district
            row.update(holder="fixed", agency=BINHXUYEN_BRANCH, level="")
    services.replace_definition(land, None, data)
    dossier = receive()
    outsider = staff("chuyenvien.0020112h62")
    assert not dossiers_visible_to(outsider).filter(pk=dossier.pk).exists()
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 10, month=11))
    assert current(dossier).agency.code == BINHXUYEN_BRANCH
    assert dossiers_visible_to(outsider).filter(pk=dossier.pk).exists()
    assert not dossiers_visible_to(staff("chuyenvien.huongcanh")).filter(pk=dossier.pk).exists()
    assert dossier.receiving_agency.code == LIENBAO


def test_a_new_procedure_version_keeps_its_workflows(workflow, land):
    draft = catalog_services.new_draft(land.procedure)
    copied = Workflow.objects.get(procedure_version=draft)
    assert copied.copied_from == workflow and copied.unit is None and copied.revision == 1
    assert definitions.data_from_rows(copied) == definitions.data_from_rows(workflow)
    # The old version keeps its own workflow untouched.
    assert Workflow.objects.get(pk=workflow.pk).revision == workflow.revision


def test_a_workflow_that_no_longer_validates_does_not_block_the_draft(workflow, land):
    from motcua.org.models import Agency

    Agency.objects.filter(code="000.00.12.H62").update(is_active=False)  # the leader's step is held there
    draft = catalog_services.new_draft(land.procedure)
    assert draft.pk and draft.status == "draft"
    assert not Workflow.objects.filter(procedure_version=draft).exists()
