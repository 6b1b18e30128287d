"""The public procedure API: filters, pagination, detail, readable errors and the OpenAPI document."""

import pytest
from django.test import Client

from motcua.catalog import services
from motcua.catalog.models import Field
from tests.catalog.factories import DISTRICT_FINANCE, build_org, make_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    build_org()
    make_procedure("1.001193", name="Đăng ký khai sinh")
    make_procedure("1.000894", name="Đăng ký kết hôn", online_level="partial")
    Field.objects.create(code="HKD", name="Hộ kinh doanh")
    business = make_procedure(
        "1.001612",
        name="Đăng ký thành lập hộ kinh doanh",
        field="HKD",
        levels=["district"],
        agencies=[DISTRICT_FINANCE],
        time_kind="working_days",
        resolution_days=3,
        fees=[{"name": "Lệ phí đăng ký", "amount": 100000, "exemption_note": "Miễn khi nộp trực tuyến"}],
    )
    draft = services.new_draft(business.procedure)
    services.update_draft(draft, resolution_days="2.5")
    services.publish(draft)


@pytest.fixture
def many(catalogue):
    for number in range(25):
        make_procedure(f"2.{number:06d}", name=f"Thủ tục thử số {number}", online_level="none", components=[], fees=[])


@pytest.fixture
def api() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="vi")


def codes_of(response) -> list[str]:
    return [item["code"] for item in response.json()["items"]]


def test_list_is_paginated(api, many):
    first = api.get("/api/v1/procedures")
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 28 and len(body["items"]) == 20
    assert codes_of(api.get("/api/v1/procedures", {"page": 2})) == [f"2.{n:06d}" for n in range(17, 25)]
    assert len(api.get("/api/v1/procedures", {"page_size": 5}).json()["items"]) == 5


def test_list_items_carry_the_summary(api, catalogue):
    item = api.get("/api/v1/procedures", {"q": "kinh doanh"}).json()["items"][0]
    assert item == {
        "code": "1.001612",
        "local_code": "1.001612.000.00.00.H62",
        "name": "Đăng ký thành lập hộ kinh doanh",
        "version": 2,
        "field": {"code": "HKD", "name": "Hộ kinh doanh"},
        "levels": [{"code": "district", "name": "Cấp huyện"}],
        "online_level": "full",
        "online_level_label": "Toàn trình",
        "time_kind": "working_days",
        "resolution_days": 2.5,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "dang ky khai sinh"}, ["1.001193"]),
        ({"q": "KHAI SINH"}, ["1.001193"]),
        ({"q": "1.000894"}, ["1.000894"]),
        ({"q": "đăng ký", "level": "district"}, ["1.001612"]),
        ({"field": "HKD"}, ["1.001612"]),
        ({"agency": DISTRICT_FINANCE}, ["1.001612"]),
        ({"online_level": "partial"}, ["1.000894"]),
        ({"q": "dang ky", "online_level": "full"}, ["1.001193", "1.001612"]),
        ({"field": "KHONG_CO"}, []),
    ],
)
def test_list_filters(api, catalogue, params, expected):
    assert codes_of(api.get("/api/v1/procedures", params)) == expected


def test_an_invalid_filter_is_a_readable_422(api, catalogue):
    response = api.get("/api/v1/procedures", {"online_level": "level4"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] and body["errors"][0]["field"] == "online_level"


def test_detail_has_everything_a_portal_needs(api, catalogue):
    response = api.get("/api/v1/procedures/1.001612")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2 and body["local_code"] == "1.001612.000.00.00.H62"
    assert body["time"] == {
        "time_kind": "working_days",
        "time_kind_label": "theo ngày làm việc",
        "resolution_days": 2.5,
        "same_day_cutoff": "15:00",
    }
    assert body["agencies"] == [{"code": DISTRICT_FINANCE, "name": "Phòng Tài chính - Kế hoạch thành phố Vĩnh Yên"}]
    assert body["fees"] == [
        {
            "name": "Lệ phí đăng ký",
            "kind": "charge",
            "kind_label": "lệ phí",
            "amount": 100000,
            "exemption": "Miễn khi nộp trực tuyến",
        }
    ]
    assert [d["name"] for d in body["documents"]] == ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
    assert body["form_schema"][1] == {
        "name": "gioi_tinh",
        "label": "Giới tính",
        "type": "choice",
        "required": True,
        "choices": ["Nam", "Nữ"],
        "help_text": "",
    }
    assert body["legal_basis"].startswith("Luật Hộ tịch") and body["published_at"]
    assert api.get("/api/v1/procedures/1.001612.000.00.00.H62").json()["code"] == "1.001612"


def test_unknown_and_malformed_codes_get_readable_errors(api, catalogue):
    missing = api.get("/api/v1/procedures/9.999999")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Không có thủ tục nào đang công bố với mã 9.999999."
    bad = api.get("/api/v1/procedures/khai-sinh")
    assert bad.status_code == 400
    assert "không phải mã thủ tục" in bad.json()["detail"] and bad.json()["errors"][0]["field"] == "code"
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/procedures/9.999999")
    assert english.json()["detail"] == "No published procedure has the code 9.999999."


def test_openapi_lists_the_endpoints(api, db):
    document = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/procedures" in document["paths"]
    assert "/api/v1/procedures/{code}" in document["paths"]
    parameters = {p["name"] for p in document["paths"]["/api/v1/procedures"]["get"]["parameters"]}
    assert {"q", "field", "level", "agency", "online_level", "page", "page_size"} <= parameters
