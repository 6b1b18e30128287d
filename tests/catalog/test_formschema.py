"""Forms built from a form schema validate what the counter and the portal receive."""

import datetime
from decimal import Decimal

import pytest

from motcua.catalog.formschema import build_form_class
from motcua.catalog.models import FormField

SCHEMA = [
    FormField(order=1, name="ho_ten", label="Họ và tên", type="text"),
    FormField(order=2, name="so_dinh_danh", label="Số định danh cá nhân", type="id_number"),
    FormField(order=3, name="dien_thoai", label="Điện thoại", type="phone"),
    FormField(order=4, name="ngay_sinh", label="Ngày sinh", type="date"),
    FormField(order=5, name="gioi_tinh", label="Giới tính", type="choice", choices="Nam\nNữ"),
    FormField(order=6, name="nganh", label="Ngành", type="multichoice", choices="Bán lẻ\nĂn uống", required=False),
    FormField(order=7, name="so_ban", label="Số bản", type="integer"),
    FormField(order=8, name="von", label="Vốn", type="decimal", required=False),
    FormField(order=9, name="cam_ket", label="Cam kết", type="checkbox"),
    FormField(order=10, name="email", label="Email", type="email", required=False),
    FormField(order=11, name="ghi_chu", label="Ghi chú", type="textarea", required=False),
]
GOOD = {
    "ho_ten": "  Nguyễn   Văn An ",
    "so_dinh_danh": "026 090 001 234",
    "dien_thoai": "+84 912.345.678",
    "ngay_sinh": "05/11/1990",
    "gioi_tinh": "Nữ",
    "nganh": ["Bán lẻ"],
    "so_ban": "2",
    "von": "150000000",
    "cam_ket": "on",
    "email": "an@example.vn",
    "ghi_chu": "Dòng 1\nDòng 2",
}


def form(**changes):
    data = {**GOOD, **changes}
    return build_form_class(SCHEMA)({key: value for key, value in data.items() if value is not None})


def test_fields_follow_the_schema_order_and_types():
    built = form()
    assert list(built.fields) == [row.name for row in SCHEMA]
    assert built.is_valid(), built.errors
    assert built.cleaned_data["ho_ten"] == "Nguyễn Văn An"
    assert built.cleaned_data["so_dinh_danh"] == "026090001234"
    assert built.cleaned_data["dien_thoai"] == "0912345678"
    assert built.cleaned_data["ngay_sinh"] == datetime.date(1990, 11, 5)
    assert built.cleaned_data["so_ban"] == 2 and built.cleaned_data["von"] == Decimal("150000000")
    assert built.cleaned_data["ghi_chu"] == "Dòng 1\nDòng 2"


@pytest.mark.parametrize("value", ["12345678901", "1234567890123", "02609000123A", "026-090-001-234"])
def test_id_number_needs_exactly_12_digits(value):
    built = form(so_dinh_danh=value)
    assert not built.is_valid() and "so_dinh_danh" in built.errors


@pytest.mark.parametrize("value", ["0912345678", "+84912345678", "0084 912 345 678", "02113862888", "(0211) 386 2888"])
def test_vietnamese_phones_are_accepted(value):
    built = form(dien_thoai=value)
    assert built.is_valid(), built.errors
    assert built.cleaned_data["dien_thoai"].startswith("0")


@pytest.mark.parametrize(
    "value", ["912345678", "0012345678", "+8491234567", "+1 212 555 0100", "09123456789012", "abc"]
)
def test_other_phones_are_refused(value):
    built = form(dien_thoai=value)
    assert not built.is_valid() and "dien_thoai" in built.errors


def test_choices_required_fields_and_checkbox():
    assert "gioi_tinh" in form(gioi_tinh="Khác").errors
    assert "nganh" in form(nganh=["Xây dựng"]).errors
    assert "ho_ten" in form(ho_ten=None).errors
    assert "cam_ket" in form(cam_ket=None).errors
    assert "email" in form(email="khong-phai-email").errors
    assert form(email=None, von=None, nganh=None, ghi_chu=None).is_valid()


@pytest.mark.django_db
def test_a_version_builds_its_own_form(org):
    from tests.catalog.factories import make_procedure

    version = make_procedure()
    form_class = build_form_class(version)
    assert form_class.__name__ == "ProcedureForm_1_001193_v1"
    assert list(form_class.base_fields) == ["ho_ten", "gioi_tinh"]
    assert form_class({"ho_ten": "An", "gioi_tinh": "Nam"}).is_valid()
