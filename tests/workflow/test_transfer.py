"""Definitions as JSON: export/import round trip, every import error named, nothing half-written; copies."""

import json

import pytest
from django.core.exceptions import PermissionDenied

from motcua.org.models import AdministrativeUnit
from motcua.workflow import definitions, services, transfer
from motcua.workflow.models import ConsultationTarget, Step, Transition, Workflow
from tests.workflow.conftest import LAND_OFFICE, MONDAY, current, staff, three_levels

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return (
        list(Workflow.objects.values_list("pk", "revision", "name")),
        Step.objects.count(),
        Transition.objects.count(),
        ConsultationTarget.objects.count(),
    )


def test_export_import_round_trip(workflow, land):
    exported = transfer.export_data(workflow)
    assert exported["procedure"] == "1.004227" and exported["revision"] == 1 and exported["unit"] is None
    assert [s["key"] for s in exported["steps"]] == ["xa", "chi-nhanh", "van-phong", "lanh-dao", "tra", "tu-choi"]
    assert exported["steps"][1] | {"consult": []} == {
        "key": "chi-nhanh",
        "name": "Chi nhánh VPĐKĐĐ thẩm định",
        "order": 2,
        "kind": "task",
        "start": False,
        "holder": "level",
        "agency": LAND_OFFICE,
        "level": "district",
        "form_field": "",
        "department": "",
        "role": "specialist",
        "budget_sessions": 4,
        "assignment": "queue",
        "quorum": 0,
        "consult": [],
    }
    text = transfer.export_json(workflow)
    assert "Chi nhánh VPĐKĐĐ thẩm định" in text  # UTF-8, not \\u escapes
    again = transfer.import_workflow(text.encode(), land)
    assert again.pk == workflow.pk and again.revision == 2
    assert transfer.export_data(again) | {"revision": 1} == exported
    assert definitions.data_from_rows(again) == again.definition


def test_history_keeps_every_revision(workflow, land):
    changed = three_levels(name="Quy trình sửa đổi")
    services.replace_definition(land, None, changed)
    revisions = list(workflow.history.order_by("history_date").values_list("revision", "name"))
    assert revisions[-1] == (2, "Quy trình sửa đổi")
    assert {1, 2} <= {r for r, _n in revisions}


@pytest.mark.parametrize(
    ("change", "code", "where"),
    [
        (lambda d: d["steps"][0].update(holder="fixed", agency="999.99.99.H62"), "unknown_agency", "steps.xa"),
        (lambda d: d["steps"][1].update(level="hamlet"), "unknown_level", "steps.chi-nhanh"),
        (lambda d: d["steps"][2].update(department="khong-co"), "unknown_department", "steps.van-phong"),
        (lambda d: d["steps"][0].update(holder="form_field", form_field="khong_co"), "unknown_form_field", "steps.xa"),
        (lambda d: d["steps"][0].update(role="president"), "unknown_role", "steps.xa"),
        (lambda d: d["transitions"][0].update(condition="form.x.__class__"), "condition", "transitions.len-huyen"),
        (lambda d: d["steps"][0].update(budget_sessions=3), "budget_over", "steps"),
        (lambda d: d["steps"][0].update(budget_sessions=1), "budget_short", "steps"),
        (lambda d: d["transitions"].pop(0), "unreachable", "steps.chi-nhanh"),
        (lambda d: d["steps"][3].update(role=""), "step_role", "steps.lanh-dao"),
        (lambda d: d.update(format="other"), "format", "format"),
    ],
)
def test_import_errors_change_nothing(workflow, land, change, code, where):
    data = three_levels()
    change(data)
    before = snapshot()
    with pytest.raises(services.DefinitionInvalid) as refused:
        transfer.import_workflow(data, land)
    assert (code, where) in [(p.code, p.where) for p in refused.value.problems]
    assert all(isinstance(m, str) and m for m in refused.value.messages)
    assert snapshot() == before


def test_unreadable_files_are_refused(land):
    for content, code in (
        (b"{not json", "json"),
        (b"\xff\xfe\x00", "encoding"),
        (b" " * (1024 * 1024 + 1), "too_large"),
    ):
        with pytest.raises(services.DefinitionInvalid) as refused:
            transfer.import_workflow(content, land)
        assert refused.value.problems[0].code == code
    assert not Workflow.objects.exists()


def test_a_unit_adapts_the_province_template(workflow, land, receive, commune):
    vinhyen = AdministrativeUnit.objects.get(name="Thành phố Vĩnh Yên")
    admin = staff("quantri.vinhyen")
    copy = transfer.copy_to_unit(workflow, vinhyen, by=admin)
    assert (copy.unit, copy.copied_from, copy.revision) == (vinhyen, workflow, 1)
    adapted = transfer.export_data(copy)
    adapted["steps"][0]["budget_sessions"] = 1
    adapted["steps"][1]["budget_sessions"] = 5
    transfer.import_workflow(adapted, land, vinhyen, by=admin)
    # Liên Bảo lies in Vĩnh Yên: its dossiers follow the city's adaptation (1 session: due Monday 17:00).
    dossier = receive()
    assert dossier.workflow_run.workflow == copy
    assert current(dossier).due_at == MONDAY.replace(hour=17)
    # A unit administrator cannot touch the province's workflow, nor another unit's.
    with pytest.raises(PermissionDenied):
        transfer.import_workflow(three_levels(), land, None, by=admin)
    binhxuyen = AdministrativeUnit.objects.get(name="Huyện Bình Xuyên")
    with pytest.raises(PermissionDenied):
        transfer.copy_to_unit(workflow, binhxuyen, by=admin)
    assert transfer.copy_to_unit(workflow, binhxuyen, by=staff("admin")).unit == binhxuyen


def test_a_province_dossier_elsewhere_uses_the_province_workflow(workflow, land):
    from motcua.dossiers import services as dossier_services
    from motcua.org.models import Agency

    vinhyen = AdministrativeUnit.objects.get(name="Thành phố Vĩnh Yên")
    transfer.copy_to_unit(workflow, vinhyen)
    land.agencies.add(Agency.objects.get(code="000.22.32.H62"))
    dossier = dossier_services.receive_at_counter(
        clerk=staff("motcua.tamhop"),
        procedure_code="1.004227",
        applicant={"full_name": "Trần Thị Bình", "id_number": "026090001235"},
        form_data={"ho_ten": "B", "dien_tich": "80"},
        documents=[{"component": land.components.get().pk, "originals": 1}],
        now=MONDAY,
    )
    assert dossier.workflow_run.workflow == workflow
    # Tam Hợp is in Bình Xuyên: its land branch holds the district step.
    step = current(dossier)
    assert step.agency.code == "000.22.32.H62"


def test_copy_to_a_new_version(workflow, land):
    from decimal import Decimal

    from motcua.catalog.models import ProcedureVersion

    draft = ProcedureVersion.objects.create(
        procedure=land.procedure, number=2, name=land.name, resolution_days=Decimal(4)
    )
    for field in land.form_fields.all():
        field.pk, field.version = None, draft
        field.save()
    # The new version takes 4 days (8 sessions): the old budgets (10) no longer fit, nothing is copied.
    with pytest.raises(services.DefinitionInvalid) as refused:
        transfer.copy_to_version(workflow, draft)
    assert {p.code for p in refused.value.problems} == {"budget_over"}
    assert not draft.workflows.exists()
    draft.resolution_days = Decimal(5)
    draft.save()
    copy = transfer.copy_to_version(workflow, draft)
    assert (copy.procedure_version, copy.revision, copy.copied_from) == (draft, 1, workflow)
    assert json.loads(transfer.export_json(copy))["procedure_version"] == 2
