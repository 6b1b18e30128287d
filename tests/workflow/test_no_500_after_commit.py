"""Workflow status changes outside a test transaction (F3 of the December 2026 review).

Every other test runs inside pytest-django's transaction, where a locking read after the service's
``atomic()`` block still finds a transaction around it. In production each request autocommits, and
PostgreSQL's ``select_for_update`` there is a ``TransactionManagementError``: the change was committed
and the answer was a 500. These tests commit for real (``transaction=True``) and read the database
back afterwards. On SQLite they pass either way (it has no ``select_for_update``); they bite on
PostgreSQL.
"""

import pytest
from django.db import connection
from django.test import Client

from motcua.api import services as token_services
from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.org.models import Agency
from motcua.workflow import services
from motcua.workflow.models import StepRun
from tests.workflow.conftest import FORM, LAND_CODE, MONDAY, land_procedure, staff, three_levels
from tests.workflow.test_consultation import JUSTICE, LABOUR, consultation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the bug needs select_for_update (PostgreSQL)"),
]


@pytest.fixture
def committed(transactional_db, settings, tmp_path):
    from motcua.org import demo

    settings.MEDIA_ROOT = tmp_path / "media"
    demo.load()
    version = land_procedure()
    services.replace_definition(version, None, three_levels())
    return version


def _receive(version) -> Dossier:
    return dossier_services.receive_at_counter(
        clerk=staff("motcua.lienbao"),
        procedure_code=LAND_CODE,
        applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234"},
        form_data=FORM,
        documents=[{"component": version.components.get().pk, "originals": 1}],
        now=MONDAY,
    )


def _api(user) -> Client:
    _token, plaintext = token_services.issue_token(user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="vi")


def _actions(dossier: Dossier) -> list[str]:
    return list(DossierEvent.objects.filter(dossier=dossier).order_by("pk").values_list("action", flat=True))


def test_the_services_answer_after_committing(committed):
    dossier = _receive(committed)
    clerk = staff("motcua.lienbao")
    asked = services.request_supplement(dossier, user=clerk, reason="Thiếu tờ khai")
    assert asked.current is not None and asked.current.paused_at is not None
    assert Dossier.objects.get(pk=dossier.pk).status == Status.WAITING_FOR_SUPPLEMENT
    resumed = services.supplement_received(dossier, actor=clerk)
    assert resumed.current is not None and resumed.current.paused_at is None
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESS


def test_supplement_request_and_received_through_the_api(committed):
    dossier = _receive(committed)
    api = _api(staff("motcua.lienbao"))
    asked = api.post(
        f"/api/v1/dossiers/{dossier.code}/supplement-request", {"reason": "thiếu tờ khai"}, "application/json"
    )
    assert asked.status_code == 200, asked.content
    assert asked.json()["status"] == Status.WAITING_FOR_SUPPLEMENT
    assert Dossier.objects.get(pk=dossier.pk).status == Status.WAITING_FOR_SUPPLEMENT
    assert StepRun.objects.filter(dossier=dossier, finished_at__isnull=True, paused_at__isnull=False).count() == 1

    received = api.post(f"/api/v1/dossiers/{dossier.code}/supplement-received")
    assert received.status_code == 200, received.content
    assert received.json()["status"] == Status.IN_PROCESS
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESS
    assert not StepRun.objects.filter(dossier=dossier, paused_at__isnull=False).exists()
    assert _actions(dossier).count("supplement_requested") == 1
    assert _actions(dossier).count("supplement_received") == 1


def test_the_staff_pages_supplement_received_button(committed):
    dossier = _receive(committed)
    clerk = staff("motcua.lienbao")
    services.request_supplement(dossier, user=clerk, reason="Thiếu tờ khai")
    browser = Client()
    browser.force_login(clerk)
    answer = browser.post(f"/inbox/dossiers/{dossier.code}/act/", {"action": "supplement_received"})
    assert answer.status_code in (200, 302), answer.content
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESS
    assert _actions(dossier).count("supplement_received") == 1
    # The same with htmx: the actions part comes back with the success message.
    services.request_supplement(dossier, user=clerk, reason="Thiếu lần hai")
    partial = browser.post(
        f"/inbox/dossiers/{dossier.code}/act/", {"action": "supplement_received"}, HTTP_HX_REQUEST="true"
    )
    assert partial.status_code == 200, partial.content
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESS


def test_a_consultation_answer(committed):
    version = land_procedure(days="2", code="1.004229")
    version.agencies.add(*Agency.objects.filter(code__in=[JUSTICE, LABOUR]))
    services.replace_definition(version, None, consultation())
    dossier = dossier_services.receive_at_counter(
        clerk=staff("motcua.lienbao"),
        procedure_code="1.004229",
        applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234"},
        form_data={"ho_ten": "A", "dien_tich": "5"},
        documents=[{"component": version.components.get().pk, "originals": 1}],
        now=MONDAY,
    )
    services.act(dossier, user=staff("chuyenvien.lienbao"), action="chuyen")
    answered = services.act(dossier, user=staff("chuyenvien.0000014h62"), action="answer", comment="Đồng ý")
    assert answered.current is not None and answered.current.step_key == "y-kien"
    assert _actions(dossier).count("consultation_answered") == 1
    assert StepRun.objects.get(pk=answered.finished.pk).finished_at is not None


def test_a_comment_with_a_nul_is_refused_not_a_500(committed):
    from django.core.exceptions import ValidationError

    dossier = _receive(committed)
    before = _actions(dossier)
    for call in (
        lambda: services.act(dossier, user=staff("chuyenvien.lienbao"), action="len-huyen", comment="Đã\x00 xem"),
        lambda: services.request_supplement(dossier, user=staff("motcua.lienbao"), reason="Thiếu\ud800"),
    ):
        try:
            call()
        except ValidationError as refused:
            assert set(refused.message_dict) <= {"comment", "reason"}
        else:
            raise AssertionError("accepted")
    assert _actions(dossier) == before
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESS
