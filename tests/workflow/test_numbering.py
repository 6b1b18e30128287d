"""The document clerk issues the result: an official number from the issuing agency's yearly register.

Numbers are gap-free per agency and calendar year (Vietnam time), stored on the run, written into
the transition's event and shown on the process control sheet (selector, API, dossier page).
"""

from datetime import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.org.models import User
from motcua.workflow import selectors, services
from motcua.workflow.models import ResultRegister, WorkflowRun
from tests.workflow.conftest import (
    FORM,
    LAND_CODE,
    LIENBAO,
    MONDAY,
    PDF,
    TICHSON,
    VN,
    at,
    move,
    staff,
    step,
)
from tests.workflow.test_api import Api


def issuing(**changes) -> dict:
    """The document clerk of the agency named in the form registers the result (or refuses it)."""
    data = {
        "format": "motcua-workflow",
        "format_version": 1,
        "name": "Văn thư vào sổ",
        "steps": [
            step("van-thu", "Văn thư vào sổ", 10, holder="form_field", form_field="xa_thua_dat", role="document_clerk"),
            step("tra", "Trả kết quả", kind="result", holder="receiving", role="clerk"),
            step("tu-choi", "Trả lời từ chối", kind="refusal", holder="receiving", role="clerk"),
        ],
        "transitions": [
            move("vao-so", "van-thu", "tra", "forward", "Vào sổ, đóng dấu", role="document_clerk"),
            move("tu-choi", "van-thu", "tu-choi", "reject", "Từ chối", role="document_clerk"),
        ],
    }
    data.update(changes)
    return data


@pytest.fixture
def issued(land):
    return services.replace_definition(land, None, issuing())


def _receive(clerk: User, land, agency: str = LIENBAO) -> Dossier:
    return dossier_services.receive_at_counter(
        clerk=clerk,
        procedure_code=LAND_CODE,
        applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234", "phone": "0912345678"},
        form_data={**FORM, "xa_thua_dat": agency},
        documents=[{"component": land.components.get().pk, "originals": 1}],
        now=MONDAY,
    )


def _register(dossier: Dossier, when: datetime, who: str = "vanthu.lienbao") -> str:
    services.act(dossier, user=staff(who), action="vao-so", now=when)
    return WorkflowRun.objects.get(dossier=dossier).result_number


def test_numbers_follow_each_other_and_are_recorded(issued, clerk, land):
    dossiers = [_receive(clerk, land) for _ in range(3)]
    numbers = [_register(d, at(1, 9, i)) for i, d in enumerate(dossiers)]
    assert numbers == ["1/2026/KQ", "2/2026/KQ", "3/2026/KQ"]
    run = WorkflowRun.objects.get(dossier=dossiers[1])
    assert run.result_numbered_by == staff("vanthu.lienbao")
    assert run.result_numbered_at == at(1, 9, 1)
    assert ResultRegister.objects.get(agency__code=LIENBAO, year=2026).last_number == 3
    event = DossierEvent.objects.filter(dossier=dossiers[2], data__transition="vao-so").get()
    assert event.data["result_number"] == "3/2026/KQ"
    # Shown on the sheet: the selector's rows carry the run.
    rows = list(selectors.steps_of(staff("vanthu.lienbao"), dossiers[0]))
    assert {row.run.result_number for row in rows} == {"1/2026/KQ"}


def test_registers_restart_each_year_and_per_agency(issued, clerk, land):
    first = _register(_receive(clerk, land), at(31, 16, 0))
    new_year = _register(_receive(clerk, land), datetime(2027, 1, 4, 8, 0, tzinfo=VN))
    tichson = _register(_receive(clerk, land, TICHSON), at(31, 16, 30), who="vanthu.tichson")
    assert (first, new_year, tichson) == ("1/2026/KQ", "1/2027/KQ", "1/2026/KQ")
    assert sorted(ResultRegister.objects.values_list("agency__code", "year", "last_number")) == sorted(
        [(LIENBAO, 2026, 1), (LIENBAO, 2027, 1), (TICHSON, 2026, 1)]
    )


def test_new_year_is_the_local_calendar_year(issued, clerk, land):
    # 31/12/2026 23:30 in Vietnam is still 2026 there, though 2027 would be wrong only in another zone:
    # 01/01/2027 00:30 Vietnam time is 31/12/2026 17:30 UTC and must count as 2027.
    assert _register(_receive(clerk, land), datetime(2027, 1, 1, 0, 30, tzinfo=VN)) == "1/2027/KQ"


def test_format_setting(issued, clerk, land, settings):
    settings.MOTCUA_RESULT_NUMBER_FORMAT = "{number:04d}/{year}/QĐ-{agency}"
    assert _register(_receive(clerk, land), at(1, 9)) == f"0001/2026/QĐ-{LIENBAO}"


def test_refused_or_other_transitions_take_no_number(issued, clerk, land):
    dossier = _receive(clerk, land)
    with pytest.raises(PermissionDenied):  # not the holder: the other commune's document clerk
        services.act(dossier, user=staff("vanthu.tichson"), action="vao-so", now=at(1, 9))
    with pytest.raises(PermissionDenied):  # the clerk of the one-stop desk holds no such step
        services.act(dossier, user=clerk, action="vao-so", now=at(1, 9))
    with pytest.raises(ValidationError):  # a refusal needs its reason
        services.act(dossier, user=staff("vanthu.lienbao"), action="tu-choi", now=at(1, 9))
    assert not ResultRegister.objects.exists()
    assert WorkflowRun.objects.get(dossier=dossier).result_number == ""
    # A refusal leads to no result: nothing is numbered.
    services.act(dossier, user=staff("vanthu.lienbao"), action="tu-choi", comment="Không đủ điều kiện", now=at(1, 9))
    assert WorkflowRun.objects.get(dossier=dossier).result_number == ""
    assert "result_number" not in DossierEvent.objects.filter(dossier=dossier, data__transition="tu-choi").get().data
    # The next result still gets number 1.
    assert _register(_receive(clerk, land), at(1, 10)) == "1/2026/KQ"


@pytest.mark.usefixtures("paper_signatures")  # not about signing: see test_result_signing.py
def test_a_result_step_reached_by_another_role_is_not_numbered(workflow, receive, commune, branch, office, leader):
    """The shared three-level workflow ends with the leader's approval, not a document clerk: no number."""
    dossier = receive()
    services.act(dossier, user=commune, action="len-huyen", now=at(1, 9))
    services.act(dossier, user=branch, action="trinh-tinh", now=at(1, 10))
    services.act(dossier, user=office, action="trinh-ld", attachments=[{"content": PDF}], now=at(1, 11))
    services.act(dossier, user=leader, action="duyet", now=at(1, 14))
    assert WorkflowRun.objects.get(dossier=dossier).outcome == "result"
    assert WorkflowRun.objects.get(dossier=dossier).result_number == ""
    assert not ResultRegister.objects.exists()


def test_api_and_dossier_page_show_the_number(issued, clerk, land):
    dossier = _receive(clerk, land)
    api = Api(staff("vanthu.lienbao"))
    before = api.get(f"/api/v1/dossiers/{dossier.code}/steps")
    assert before.status_code == 200 and before.json()["result_number"] == ""
    _register(dossier, at(1, 9))
    body = api.get(f"/api/v1/dossiers/{dossier.code}/steps").json()
    assert body["result_number"] == "1/2026/KQ"
    client = Client()
    client.force_login(staff("vanthu.lienbao"))
    page = client.get(reverse("dossiers:detail", args=[dossier.code]))
    assert page.status_code == 200
    assert '<p id="result-number">' in page.content.decode()
    assert "Số kết quả: <strong>1/2026/KQ</strong> (01/12/2026 09:00)" in page.content.decode()
