"""The pure mapping to the national portal's fields, codes and dates (no Django, no database)."""

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from motcua.dossiers.lifecycle import Status
from motcua.integrations.national import mapping

VN = ZoneInfo("Asia/Ho_Chi_Minh")

#: Each of our statuses and the national code it must become by default (integrations.md §1.5).
EXPECTED_CODES = {
    Status.SUBMITTED_ONLINE: "1",
    Status.RECEIVED: "2",
    Status.REFUSED: "3",
    Status.IN_PROCESS: "4",
    Status.WAITING_FOR_SUPPLEMENT: "5",
    Status.RETURNED_FOR_COMPLETION: "5",
    Status.WAITING_FOR_PAYMENT: "6",
    Status.WITHDRAWN: "7",
    Status.STOPPED: "8",
    Status.RESULT_READY: "9",
    Status.RETURNED: "10",
}


@pytest.mark.parametrize(("status", "code"), sorted(EXPECTED_CODES.items()))
def test_each_lifecycle_status_maps_to_its_national_code(status, code):
    assert mapping.status_code(status, {}) == code
    assert mapping.is_valid_national_status(code)


def test_every_status_but_draft_has_a_code_and_draft_is_never_sent():
    assert set(mapping.DEFAULT_STATUS_CODES) == set(Status.values) - {Status.DRAFT}
    assert mapping.status_code(Status.DRAFT, {}) is None


def test_the_configured_table_wins_and_an_empty_code_means_not_sent():
    table = {Status.RECEIVED: "12", Status.IN_PROCESS: ""}
    assert mapping.status_code(Status.RECEIVED, table) == "12"
    assert mapping.status_code(Status.IN_PROCESS, table) is None
    assert mapping.status_code(Status.RETURNED, table) == "10"  # not in the table: the default


def test_ten_national_codes():
    assert sorted(mapping.NATIONAL_STATUS_MEANINGS, key=int) == [str(n) for n in range(1, 11)]
    assert not mapping.is_valid_national_status("11")


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 30, 9, 5, 7, tzinfo=VN), "20261130090507"),
        # 17:30 UTC on the 30th is 00:30 on 1 December in Vietnam (UTC+7).
        (datetime(2026, 11, 30, 17, 30, tzinfo=UTC), "20261201003000"),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))), "20270101115959"),
    ],
)
def test_dates_are_yyyymmddhhmmss_in_vietnam_time(moment, text):
    assert mapping.format_moment(moment) == text
    assert mapping.parse_moment(text) == moment
    assert mapping.parse_moment(text).utcoffset() == timedelta(hours=7)


def test_empty_and_naive_dates():
    assert mapping.format_moment(None) == ""
    assert mapping.parse_moment("") is None
    with pytest.raises(ValueError):
        mapping.format_moment(datetime(2026, 11, 30, 9, 0))
    for bad in ("2026-11-30", "202611300900", "20261340090000", "abcdefghijklmn"):
        with pytest.raises(ValueError):
            mapping.parse_moment(bad)


def snapshot(**overrides) -> mapping.DossierSnapshot:
    values = {
        "code": "000.21.31.H62-261130-0001",
        "procedure_code": "1.001193",
        "procedure_name": "Đăng ký khai sinh",
        "field_code": "HO_TICH",
        "field_name": "Hộ tịch",
        "receipt_number": "000.21.31.H62-261130-0001",
        "applicant_name": "Nguyễn Thị Hồng Nhung",
        "applicant_kind": "person",
        "applicant_id": "026190001234",
        "email": "nhung@example.vn",
        "phone": "0912345678",
        "summary": "Đăng ký khai sinh – Nguyễn Thị Hồng Nhung",
        "received_at": datetime(2026, 11, 30, 9, 0, tzinfo=VN),
        "due_at": datetime(2026, 12, 1, 11, 30, tzinfo=VN),
        "returned_at": None,
        "finished_at": None,
        "processing_agency": "Ủy ban nhân dân phường Liên Bảo",
        "note": "Thiếu bản sao giấy chứng sinh",
        "documents": (mapping.DocumentInfo(7, "Tờ khai đăng ký khai sinh", "12"),),
        "fees": (mapping.FeeInfo("Lệ phí đăng ký khai sinh", Decimal(8000), "charge", "3"),),
    }
    values.update(overrides)
    return mapping.DossierSnapshot(**values)


def test_dossier_item_has_every_national_field_with_vietnamese_text():
    item = mapping.dossier_item(snapshot(), "2")
    assert item == {
        "MaHoSo": "000.21.31.H62-261130-0001",
        "MaTTHC": "1.001193",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HO_TICH",
        "TenLinhVuc": "Hộ tịch",
        "SoBienNhan": "000.21.31.H62-261130-0001",
        "ChuHoSo": "Nguyễn Thị Hồng Nhung",
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "026190001234",
        "ThongTinKhac": "",
        "Email": "nhung@example.vn",
        "Fax": "",
        "SoDienThoai": "0912345678",
        "TrichYeuHoSo": "Đăng ký khai sinh – Nguyễn Thị Hồng Nhung",
        "NgayTiepNhan": "20261130090000",
        "NgayHenTra": "20261201113000",
        "TrangThaiHoSo": "2",
        "NgayTra": "",
        "ThongTinTra": "",
        "HinhThuc": "0",
        "NgayKetThucXuLy": "",
        "DonViXuLy": "Ủy ban nhân dân phường Liên Bảo",
        "GhiChu": "Thiếu bản sao giấy chứng sinh",
        "TaiLieuNop": [
            {
                "TepDinhKemId": "7",
                "TenTepDinhKem": "Tờ khai đăng ký khai sinh",
                "IsDeleted": False,
                "MaThanhPhanHoSo": "12",
                "DuongDanTaiTepTin": "",
            }
        ],
        "DanhSachLePhi": [
            {
                "TenPhiLePhi": "Lệ phí đăng ký khai sinh",
                "MaPhiLePhi": "3",
                "HinhThucThu": "",
                "Gia": 8000,
                "LoaiPhiLePhi": "2",
            }
        ],
    }


def test_organisation_and_post_and_fractional_fee():
    item = mapping.dossier_item(
        snapshot(applicant_kind="organisation", by_post=True, fees=(mapping.FeeInfo("Phí", Decimal("1500.5"), "fee"),)),
        "4",
    )
    assert item["LoaiDoiTuong"] == "2"
    assert item["HinhThuc"] == "1"
    assert item["DanhSachLePhi"][0]["Gia"] == "1500.5"
    assert item["DanhSachLePhi"][0]["LoaiPhiLePhi"] == "1"


def test_progress_item_fields():
    progress = mapping.ProgressSnapshot(
        code="H62-1",
        officer="Trần Văn Đức",
        title="Chuyên viên",
        at=datetime(2026, 11, 30, 14, 15, 16, tzinfo=VN),
        department="Phòng Tư pháp",
        content="Yêu cầu bổ sung: thiếu giấy tờ",
        started_at=datetime(2026, 11, 30, 9, 0, tzinfo=VN),
        due_at=None,
    )
    assert mapping.progress_item(progress, "5") == {
        "MaHoSo": "H62-1",
        "NguoiXuLy": "Trần Văn Đức",
        "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": "20261130141516",
        "PhongBanXuLy": "Phòng Tư pháp",
        "NoiDungXuLy": "Yêu cầu bổ sung: thiếu giấy tờ",
        "TrangThai": "5",
        "NgayBatDau": "20261130090000",
        "NgayKetThucTheoQuyDinh": "",
    }


def test_field_overrides_and_idempotency_key():
    item = mapping.rename({"MaHoSo": "X", "ChuHoSo": "Y"}, {"MaHoSo": "SoHoSo"})
    assert item == {"SoHoSo": "X", "ChuHoSo": "Y"}
    assert mapping.with_key(dict(item), "IdempotencyKey", "k-1")["IdempotencyKey"] == "k-1"
    assert "IdempotencyKey" not in mapping.with_key(dict(item), "", "k-1")


@pytest.mark.parametrize(
    ("code", "expected"), [(0, True), ("0", True), ("00", True), (" 00 ", True), ("1", False), (None, False)]
)
def test_success_accepts_text_and_integer_codes(code, expected):
    assert mapping.is_success(code, ("0", "00")) is expected


@pytest.mark.parametrize("code", ["٠", "０", "²", "-²"])
def test_success_codes_are_ascii_digits_only(code):
    # int("٠") is 0 in Python and int("²") raises: neither may count as success nor fail with a 500.
    assert mapping.is_success(code, ("0", "00")) is False
    assert mapping.is_success("0", ("²", "0")) is True


def test_backoff_grows_to_the_cap_with_jitter():
    rng = random.Random(1)
    delays = [mapping.backoff_seconds(n, 10, 900, rng) for n in range(1, 12)]
    assert 8 <= delays[0] <= 12
    assert 16 <= delays[1] <= 24
    assert all(d <= 900 for d in delays)
    assert delays[-1] >= 720


def national(**overrides) -> dict:
    payload = {
        "MaHoSo": "G22.99-261130-000123",
        "MaTTHC": "1.001193",
        "ChuHoSo": "Lê  Thi\u0300 Mai",  # a decomposed accent and a double space, as some keyboards send
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "026190005678",
        "SoDienThoai": "0987654321",
        "Email": "mai@example.vn",
        "TrichYeuHoSo": "Đăng ký khai sinh cho con",
        "NgayNopHoSo": "20261128201500",
        "MaDonViTiepNhan": "000.21.31.h62",
        "TaiLieuNop": [{"TenTepDinhKem": "Tờ khai", "DuongDanTaiTepTin": "https://dichvucong.gov.vn/f/1"}],
        "DuLieuBieuMau": {"ho_ten_tre": "Lê Văn Bình"},
    }
    payload.update(overrides)
    return payload


def test_parse_inbound_reads_national_fields_in_nfc():
    parsed, problems = mapping.parse_inbound(national())
    assert problems == []
    assert parsed.national_code == "G22.99-261130-000123"
    assert parsed.applicant["full_name"] == "Lê Thì Mai"
    assert parsed.applicant["kind"] == "person"
    assert parsed.submitted_at == datetime(2026, 11, 28, 20, 15, tzinfo=VN)
    assert parsed.agency_code == "000.21.31.H62"
    assert parsed.documents == [{"name": "Tờ khai", "url": "https://dichvucong.gov.vn/f/1"}]
    assert parsed.form_data == {"ho_ten_tre": "Lê Văn Bình"}


def test_parse_inbound_reports_every_problem():
    parsed, problems = mapping.parse_inbound(
        national(MaHoSo="", MaTTHC=None, LoaiDoiTuong="3", NgayNopHoSo="28/11/2026", TaiLieuNop="tờ khai")
    )
    assert parsed is None
    assert sorted((field, code) for field, code, _params in problems) == [
        ("LoaiDoiTuong", "applicant_kind"),
        ("MaHoSo", "required"),
        ("MaTTHC", "required"),
        ("NgayNopHoSo", "date"),
        ("TaiLieuNop", "list"),
    ]
    assert mapping.parse_inbound([1, 2])[1] == [("", "not_an_object", {})]


def test_parse_inbound_with_province_field_names():
    parsed, problems = mapping.parse_inbound(national(MaDonVi="000.22.31.H62"), {"agency_code": "MaDonVi"})
    assert problems == []
    assert parsed.agency_code == "000.22.31.H62"


def test_catalogue_diff_reports_new_and_changed_only():
    ours = {
        "1.001193": {"name": "Đăng ký khai sinh", "field_code": "HO_TICH", "field_name": "Hộ tịch"},
        "1.000894": {"name": "Đăng ký kết hôn", "field_code": "HO_TICH", "field_name": "Hộ tịch"},
        "2.000815": {"name": "Chứng thực bản sao", "field_code": "CHUNG_THUC", "field_name": "Chứng thực"},
    }
    records = [
        ("1.001193", "Đăng ký khai sinh", "G09-TP01", "Hộ tịch"),  # same: only the field code is theirs
        ("1.000894", "Đăng ky\u0301  kê\u0301t hôn", "G09-TP01", "Hộ tịch"),  # decomposed accents, double space
        ("2.000815", "Chứng thực bản sao từ bản chính", "G09-TP02", "Chứng thực"),
        ("1.009999", "Thủ tục mới", "G09-TP03", "Nuôi con nuôi"),
        ("1.009999", "Thủ tục mới (bản lặp)", "G09-TP03", "Nuôi con nuôi"),  # a repeat: the first one counts
    ]
    national_list = [
        mapping.parse_procedure(
            {"MATTHC": code, "TENTTHC": name, "LINHVUCTHUCHIEN": [{"MALINHVUC": field, "TENLINHVUC": field_name}]}
        )
        for code, name, field, field_name in records
    ]
    diffs = mapping.diff_procedures(national_list, ours)
    assert [(d.code, d.kind) for d in diffs] == [("1.009999", "new"), ("2.000815", "changed")]
    assert diffs[0].proposed == {"name": "Thủ tục mới", "field_code": "G09-TP03", "field_name": "Nuôi con nuôi"}
    assert diffs[1].changed_fields == ["name", "field_code"]
    assert diffs[1].current["name"] == "Chứng thực bản sao"
    assert diffs[1].proposed["name"] == "Chứng thực bản sao từ bản chính"


def test_parse_procedure_reads_upper_case_keys_and_fields():
    proc = mapping.parse_procedure(
        {
            "maTTHC": "1.001193",
            "TENTTHC": "Đăng ký khai sinh",
            "LINHVUCTHUCHIEN": [{"MALINHVUC": "G09", "TENLINHVUC": "Hộ tịch"}],
        }
    )
    assert proc == mapping.NationalProcedure("1.001193", "Đăng ký khai sinh", "G09", "Hộ tịch")
    assert mapping.parse_procedure({"MATTHC": "1.001193"}) is None
    assert mapping.parse_procedure("x") is None
