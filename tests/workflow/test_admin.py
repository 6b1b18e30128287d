"""The desk: a workflow with its steps and transitions saved in one go, validated, scoped by unit."""

import json

import pytest
from django.test import Client

from motcua.org.models import AdministrativeLevel, AdministrativeUnit, Agency
from motcua.workflow.models import Step, Transition, Workflow
from tests.workflow.conftest import staff, three_levels

pytestmark = pytest.mark.django_db
STEP_FIELDS = [
    "order",
    "key",
    "name",
    "kind",
    "holder",
    "form_field",
    "role",
    "budget_sessions",
    "assignment",
    "quorum",
]


def desk(local: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(staff(local))
    return client


def form_data(version, data: dict, unit=None, name: str = "Quy trình thử") -> dict:
    """The POST of the workflow page: main fields and both inline formsets."""
    post = {
        "procedure_version": version.pk,
        "unit": unit.pk if unit else "",
        "name": name,
        "is_active": "on",
        "steps-TOTAL_FORMS": len(data["steps"]),
        "steps-INITIAL_FORMS": 0,
        "transitions-TOTAL_FORMS": len(data["transitions"]),
        "transitions-INITIAL_FORMS": 0,
    }
    agencies = {a.code: a.pk for a in Agency.objects.all()}
    levels = {lv.code: lv.pk for lv in AdministrativeLevel.objects.all()}
    for i, row in enumerate(data["steps"]):
        for field in STEP_FIELDS:
            post[f"steps-{i}-{field}"] = row.get(
                field, {"order": i + 1, "assignment": "queue", "quorum": 0}.get(field, "")
            )
        post[f"steps-{i}-agency"] = agencies.get(row.get("agency", ""), "")
        post[f"steps-{i}-level"] = levels.get(row.get("level", ""), "")
        post[f"steps-{i}-department_code"] = row.get("department", "")
    for i, row in enumerate(data["transitions"]):
        post.update(
            {
                f"transitions-{i}-order": i + 1,
                f"transitions-{i}-key": row["key"],
                f"transitions-{i}-from_step": row["from"],
                f"transitions-{i}-to_step": row["to"],
                f"transitions-{i}-action": row["action"],
                f"transitions-{i}-label": row["label"],
                f"transitions-{i}-role": row["role"],
                f"transitions-{i}-condition": row.get("condition", ""),
            }
        )
        if row.get("requires_attachment"):
            post[f"transitions-{i}-requires_attachment"] = "on"
    return post


def test_a_whole_workflow_saved_in_one_go(land):
    client = desk("admin")
    assert client.get("/admin/workflow/workflow/add/").status_code == 200
    response = client.post("/admin/workflow/workflow/add/", form_data(land, three_levels()))
    assert response.status_code == 302, response.content.decode()[:3000]
    workflow = Workflow.objects.get()
    assert (workflow.revision, workflow.unit, workflow.updated_by) == (1, None, staff("admin"))
    assert list(workflow.steps.values_list("key", flat=True)) == [
        "xa",
        "chi-nhanh",
        "van-phong",
        "lanh-dao",
        "tra",
        "tu-choi",
    ]
    assert workflow.definition["transitions"][2]["condition"] == "form.uu_tien == 'co'"
    assert workflow.history.count() >= 1
    assert client.get(f"/admin/workflow/workflow/{workflow.pk}/change/").status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["steps"][0].update(budget_sessions=1), "Tổng thời gian các bước không khớp: 9 trên 10 buổi"),
        (lambda d: d["transitions"].pop(0), "Bước “chi-nhanh” không thể đến được từ bước bắt đầu “xa”."),
        (lambda d: d["transitions"][2].update(condition="open('x')"), "Điều kiện không được chứa lời gọi hàm."),
        (lambda d: d["steps"][1].update(level=""), "Bước “chi-nhanh” do cơ quan thuộc một cấp hành chính xử lý"),
        (lambda d: d["steps"][0].update(form_field="khong_co", holder="form_field"), "tờ khai của thủ tục không có"),
    ],
)
def test_invalid_definitions_are_shown_and_nothing_is_saved(land, change, message):
    data = three_levels()
    change(data)
    response = desk("admin").post("/admin/workflow/workflow/add/", form_data(land, data))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Workflow.objects.exists() and not Step.objects.exists() and not Transition.objects.exists()


def test_unit_administrators_read_the_province_workflow_and_copy_it(workflow):
    client = desk("quantri.vinhyen")
    assert client.get("/admin/workflow/workflow/").status_code == 200
    page = client.get(f"/admin/workflow/workflow/{workflow.pk}/change/")
    assert page.status_code == 200 and 'name="steps-0-key"' not in page.content.decode()  # read-only
    refused = client.post(f"/admin/workflow/workflow/{workflow.pk}/change/", {"name": "Đổi tên"})
    assert refused.status_code == 403
    workflow.refresh_from_db()
    assert workflow.revision == 1 and workflow.name == "Liên thông xã – huyện – tỉnh"
    copied = client.post(
        "/admin/workflow/workflow/", {"action": "copy_to_my_unit", "_selected_action": [workflow.pk]}, follow=True
    )
    assert copied.status_code == 200
    copy = Workflow.objects.get(unit__name="Thành phố Vĩnh Yên")
    assert copy.copied_from == workflow and copy.revision == 1
    assert client.get(f"/admin/workflow/workflow/{copy.pk}/change/").status_code == 200
    # Another district's administrator sees the province's workflow but not Vĩnh Yên's copy.
    other = desk("quantri.binhxuyen")
    assert other.get(f"/admin/workflow/workflow/{copy.pk}/change/").status_code in (302, 404)


def test_a_unit_administrator_must_choose_a_unit(land):
    vinhyen = AdministrativeUnit.objects.get(name="Thành phố Vĩnh Yên")
    client = desk("quantri.vinhyen")
    response = client.post("/admin/workflow/workflow/add/", form_data(land, three_levels()))
    assert response.status_code == 200 and "Hãy chọn đơn vị của bạn" in response.content.decode()
    binhxuyen = AdministrativeUnit.objects.get(name="Huyện Bình Xuyên")
    response = client.post("/admin/workflow/workflow/add/", form_data(land, three_levels(), unit=binhxuyen))
    assert response.status_code == 200 and not Workflow.objects.exists()
    response = client.post("/admin/workflow/workflow/add/", form_data(land, three_levels(), unit=vinhyen))
    assert response.status_code == 302 and Workflow.objects.get().unit == vinhyen


def test_export_action(workflow):
    response = desk("admin").post(
        "/admin/workflow/workflow/", {"action": "export_json", "_selected_action": [workflow.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["format"] == "motcua-workflow" and body["procedure"] == "1.004227" and len(body["steps"]) == 6


def test_consultation_parties_on_the_step_page(workflow):
    client = desk("admin")
    step = Step.objects.get(workflow=workflow, key="van-phong")
    page = client.get(f"/admin/workflow/step/{step.pk}/change/")
    assert page.status_code == 200
    land_office = Agency.objects.get(code="000.01.12.H62")
    justice = Agency.objects.get(code="000.00.14.H62")
    post = {
        "order": 3,
        "key": "van-phong",
        "name": "VPĐKĐĐ tỉnh lấy ý kiến",
        "kind": "consultation",
        "holder": "fixed",
        "agency": land_office.pk,
        "role": "specialist",
        "budget_sessions": 3,
        "assignment": "queue",
        "quorum": 2,
        "consult-TOTAL_FORMS": 1,
        "consult-INITIAL_FORMS": 0,
        "consult-0-order": 1,
        "consult-0-holder": "fixed",
        "consult-0-agency": justice.pk,
        "consult-0-role": "specialist",
    }
    refused = client.post(f"/admin/workflow/step/{step.pk}/change/", post)  # a quorum of 2 with one party asked
    assert refused.status_code == 200 and "số ý kiến cần có (2) phải từ 0" in refused.content.decode()
    workflow.refresh_from_db()
    assert workflow.revision == 1 and not step.consult.exists()
    post["quorum"] = 1
    saved = client.post(f"/admin/workflow/step/{step.pk}/change/", post)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    workflow.refresh_from_db()
    assert workflow.revision == 2
    assert workflow.definition["steps"][2]["consult"][0]["agency"] == "000.00.14.H62"
