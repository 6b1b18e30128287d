"""The desk: the province's system administrator edits the catalogue; unit administrators only look."""

import io
import json

import pytest
from django.test import Client

from motcua.catalog import services
from motcua.catalog.models import Procedure, ProcedureVersion
from motcua.org import services as org_services
from motcua.org.models import Role, User
from tests.catalog.factories import make_procedure

pytestmark = pytest.mark.django_db


def login(org, email: str, role: str, unit_key: str) -> Client:
    user = User.objects.create_user(email, "mat-khau-dai-du", full_name="Cán bộ", unit=org.units[unit_key])
    org_services.set_roles(user, [role])
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(user)
    return client


@pytest.fixture
def root(org) -> Client:
    return login(org, "quantri@vinhphuc.gov.vn", Role.SYSTEM_ADMIN, "tinh")


@pytest.fixture
def unit_admin(org) -> Client:
    return login(org, "quantri.vinhyen@vinhphuc.gov.vn", Role.UNIT_ADMIN, "vinhyen")


@pytest.fixture
def published(org) -> ProcedureVersion:
    return make_procedure()


def draft_form_data(version: ProcedureVersion, **changes) -> dict:
    data = {
        "name": version.name,
        "field": version.field_id or "",
        "levels": [level.pk for level in version.levels.all()] if version.pk else [],
        "agencies": [agency.pk for agency in version.agencies.all()] if version.pk else [],
        "online_level": version.online_level,
        "time_kind": version.time_kind,
        "resolution_days": str(version.resolution_days),
        "same_day_cutoff": "15:00",
        "legal_basis": version.legal_basis,
        "result_type": version.result_type,
        "requirements": "",
        "description": "",
    }
    for prefix in ("components", "fees", "form_fields"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    data.update(changes)
    return data


def test_system_admin_sees_the_catalogue_in_vietnamese(root, published):
    page = root.get("/admin/catalog/procedure/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "1.001193" in body and "Đăng ký khai sinh" in body
    assert "Thủ tục hành chính" in body and "Nhập danh mục" in body
    versions = root.get("/admin/catalog/procedureversion/?q=DANG+KY+khai")
    assert versions.status_code == 200 and "Đăng ký khai sinh" in versions.content.decode()
    assert "Đăng ký khai sinh" not in root.get("/admin/catalog/procedureversion/?q=ket+hon").content.decode()


def test_import_page_shows_a_vietnamese_report(root, org):
    page = root.get("/admin/catalog/procedure/import/")
    assert page.status_code == 200 and "Tệp danh mục" in page.content.decode()

    good = {
        "code": "1.000001",
        "name": "Thủ tục thử",
        "field_code": "HT",
        "field_name": "Hộ tịch",
        "levels": ["commune"],
        "agencies": [],
        "time_kind": "working_days",
        "resolution_days": 3,
        "online_level": "none",
    }
    bad = {**good, "code": "1.000002", "resolution_days": 0.3}
    upload = io.BytesIO(json.dumps([good, bad]).encode())
    upload.name = "danh-muc.json"
    body = root.post("/admin/catalog/procedure/import/", {"file": upload}).content.decode()
    assert "Kết quả nhập" in body and "tạo mới" in body and "bội số của 0,5" in body
    assert list(Procedure.objects.values_list("code", flat=True)) == ["1.000001"]

    garbage = io.BytesIO(b"\x00\x01garbage")
    garbage.name = "danh-muc.xlsx"
    body = root.post("/admin/catalog/procedure/import/", {"file": garbage}).content.decode()
    assert "không phải sổ tính Excel" in body
    assert Procedure.objects.count() == 1


def test_exports_download(root, published):
    response = root.get("/admin/catalog/procedure/export/json/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)[0]["code"] == "1.001193"
    assert root.get("/admin/catalog/procedure/export/xlsx/").content[:2] == b"PK"
    assert root.get("/admin/catalog/procedure/export/csv/").content.decode("utf-8-sig").startswith("code,name")


def test_a_published_version_is_read_only_in_the_desk(root, published):
    url = f"/admin/catalog/procedureversion/{published.pk}/change/"
    page = root.get(url)
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()  # shown, not editable
    response = root.post(url, draft_form_data(published, name="Đổi tên"))
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.name == "Đăng ký khai sinh"


def test_a_draft_is_edited_then_published_from_the_desk(root, published):
    new = root.post(f"/admin/catalog/procedureversion/{published.pk}/new-version/")
    draft = ProcedureVersion.objects.get(number=2)
    assert new.status_code == 302 and new["Location"].endswith(f"/{draft.pk}/change/")
    assert draft.components.count() == 2

    url = f"/admin/catalog/procedureversion/{draft.pk}/change/"
    data = draft_form_data(draft, name="Đăng ký khai sinh (sửa đổi)", time_kind="working_days", resolution_days="0.3")
    page = root.post(url, data)
    assert page.status_code == 200 and "bội số của 0,5" in page.content.decode()

    data.update(
        {
            "resolution_days": "1.5",
            "form_fields-TOTAL_FORMS": 1,
            "form_fields-0-order": 1,
            "form_fields-0-name": "ho_ten",
            "form_fields-0-label": "Họ tên",
            "form_fields-0-type": "text",
        }
    )
    page = root.post(url, data)  # the draft already has ho_ten (copied from version 1)
    assert page.status_code == 200 and "đã tồn tại" in page.content.decode()

    data.update({"form_fields-0-order": 3, "form_fields-0-name": "dien_thoai", "form_fields-0-type": "phone"})
    assert root.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert draft.name == "Đăng ký khai sinh (sửa đổi)"
    assert list(draft.form_fields.values_list("name", flat=True)) == ["ho_ten", "gioi_tinh", "dien_thoai"]

    confirm = root.get(f"/admin/catalog/procedureversion/{draft.pk}/publish/")
    assert confirm.status_code == 200 and "Công bố" in confirm.content.decode()
    assert root.post(f"/admin/catalog/procedureversion/{draft.pk}/publish/").status_code == 302
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, published.status) == ("published", "retired")


def test_publishing_an_incomplete_draft_shows_why(root, org):
    draft = make_procedure("1.000009", publish=False, field=None)
    response = root.post(f"/admin/catalog/procedureversion/{draft.pk}/publish/", follow=True)
    assert "lĩnh vực" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_new_procedure_leads_to_its_first_version(root, org):
    response = root.post("/admin/catalog/procedure/add/", {"code": " 1.000123 "})
    procedure = Procedure.objects.get(code="1.000123")
    assert response["Location"].endswith(f"/admin/catalog/procedureversion/add/?procedure={procedure.pk}")
    assert root.post("/admin/catalog/procedure/add/", {"code": "12.34"}).status_code == 200
    assert Procedure.objects.count() == 1


def test_a_unit_admin_views_but_cannot_change(unit_admin, published):
    assert unit_admin.get("/admin/catalog/procedure/").status_code == 200
    assert unit_admin.get(f"/admin/catalog/procedureversion/{published.pk}/change/").status_code == 200
    response = unit_admin.post(
        f"/admin/catalog/procedureversion/{published.pk}/change/", draft_form_data(published, name="Đổi")
    )
    assert response.status_code == 403
    assert unit_admin.get("/admin/catalog/procedureversion/add/").status_code == 403
    assert unit_admin.post("/admin/catalog/procedure/add/", {"code": "1.000123"}).status_code == 403
    assert unit_admin.get("/admin/catalog/procedure/import/").status_code == 403
    assert unit_admin.post(f"/admin/catalog/procedureversion/{published.pk}/new-version/").status_code == 403
    draft = services.new_draft(published.procedure)
    assert unit_admin.post(f"/admin/catalog/procedureversion/{draft.pk}/publish/").status_code == 403
    assert unit_admin.post(f"/admin/catalog/procedureversion/{draft.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = unit_admin.get("/admin/catalog/procedureversion/").content.decode()
    assert "publish_selected" not in changelist
    assert ProcedureVersion.objects.count() == 2


def test_a_first_version_is_added_in_the_desk(root, org):
    procedure = services.save_procedure(Procedure(code="1.000123"))
    draft = ProcedureVersion(procedure=procedure, name="Thủ tục thử", time_kind="working_days", resolution_days=2)
    data = draft_form_data(draft, procedure=procedure.pk, levels=[org.levels["commune"].pk])
    assert root.get(f"/admin/catalog/procedureversion/add/?procedure={procedure.pk}").status_code == 200
    assert root.post("/admin/catalog/procedureversion/add/", data).status_code == 302
    version = ProcedureVersion.objects.get()
    assert (version.number, version.status, version.search_text) == (1, "draft", "1.000123 thu tuc thu")

    again = root.post("/admin/catalog/procedureversion/add/", data)
    assert again.status_code == 200 and "đang là bản nháp" in again.content.decode()
    assert ProcedureVersion.objects.count() == 1
