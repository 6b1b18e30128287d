"""Catalogue import and export: round trips, row-by-row reports, malformed files refused whole."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from motcua.catalog import services, transfer
from motcua.catalog.models import Field, Procedure, ProcedureVersion
from tests.catalog.factories import DISTRICT_FINANCE, make_procedure

pytestmark = pytest.mark.django_db
Outcome = services.Outcome


@pytest.fixture
def catalogue(org):
    """Three procedures covering the shapes a file must carry; one already has a second version."""
    make_procedure()
    Field.objects.create(code="HO_KINH_DOANH", name="Thành lập và hoạt động của hộ kinh doanh")
    business = make_procedure(
        "1.001612",
        name="Đăng ký thành lập hộ kinh doanh",
        field="HO_KINH_DOANH",
        levels=["district"],
        agencies=[DISTRICT_FINANCE, "000.02.32.H62"],
        time_kind="working_days",
        resolution_days=3,
        description="Dòng một\nDòng hai, có “ngoặc kép”; và dấu phẩy",
        components=[
            {"name": "Giấy đề nghị", "originals": 1, "copies": 0},
            {
                "name": "Biên bản họp",
                "originals": 0,
                "copies": 1,
                "requirement": "conditional",
                "condition_note": "Khi cần",
            },
        ],
        fees=[{"name": "Lệ phí", "amount": 100000, "exemption_note": "Miễn khi nộp trực tuyến"}],
        form_fields=[
            {"name": "von", "label": "Vốn", "type": "decimal"},
            {
                "name": "nganh",
                "label": "Ngành",
                "type": "multichoice",
                "choices": ["Bán lẻ", "Ăn uống"],
                "required": False,
            },
            {
                "name": "email",
                "label": "Email",
                "type": "email",
                "required": False,
                "help_text": "=không phải công thức",
            },
        ],
    )
    draft = services.new_draft(business.procedure)
    services.update_draft(draft, resolution_days=Decimal("2.5"))
    services.publish(draft)
    make_procedure("2.000815", name="Chứng thực bản sao từ bản chính", time_kind="same_day", resolution_days=1)


def wipe() -> None:
    Procedure.objects.update(current_version=None)
    ProcedureVersion.objects.all().delete()
    Procedure.objects.all().delete()
    Field.objects.all().delete()


def records(with_number: bool = False) -> list[dict]:
    data = json.loads(services.export_catalogue("json"))
    for record in data:
        if not with_number:
            record.pop("version")
    return data


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_export_then_import_into_an_empty_catalogue_gives_the_same_catalogue(catalogue, fmt):
    before = records()
    data = services.export_catalogue(fmt)
    wipe()

    report = services.import_catalogue(data, filename=f"danh-muc.{fmt}")
    assert [(row.code, row.outcome) for row in report.rows] == [(r["code"], Outcome.CREATED) for r in before]
    assert records() == before

    again = services.import_catalogue(data, filename=f"danh-muc.{fmt}")
    assert {row.outcome for row in again.rows} == {Outcome.UNCHANGED}
    assert ProcedureVersion.objects.count() == 3


def test_export_formats_have_the_documented_shape(catalogue):
    exported = records(with_number=True)
    business = next(r for r in exported if r["code"] == "1.001612")
    assert business["version"] == 2 and business["resolution_days"] == 2.5
    assert business["agencies"] == ["000.02.31.H62", "000.02.32.H62"]
    assert business["form_fields"][1]["choices"] == ["Bán lẻ", "Ăn uống"]

    text = services.export_catalogue("csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == transfer.MAIN_COLUMNS + list(transfer.CHILD_COLUMNS)
    assert json.loads(rows[1]["fees"])[0]["amount"] == 100000

    workbook = load_workbook(io.BytesIO(services.export_catalogue("xlsx")))
    assert workbook.sheetnames == ["procedures", "components", "fees", "form_fields"]
    assert [cell.value for cell in workbook["fees"][1]] == ["code", "name", "kind", "amount", "exemption_note"]
    # Text that looks like a formula stays text.
    helps = [row[6] for row in workbook["form_fields"].iter_rows(min_row=2, values_only=True)]
    assert "=không phải công thức" in helps
    assert workbook["form_fields"].cell(row=2, column=1).data_type == "s"


def test_changed_content_publishes_a_new_version_and_keeps_the_old_one(catalogue):
    data = records()
    data[0]["name"] = "Đăng ký khai sinh (cập nhật)"
    data[0]["fees"][0]["amount"] = 8000
    old = ProcedureVersion.objects.get(procedure__code="1.001193")

    report = services.import_catalogue(json.dumps(data).encode(), filename="x.json")
    outcomes = {row.code: (row.outcome, row.version) for row in report.rows}
    assert outcomes["1.001193"] == (Outcome.NEW_VERSION, 2)
    assert outcomes["2.000815"][0] == Outcome.UNCHANGED
    old.refresh_from_db()
    assert old.status == ProcedureVersion.Status.RETIRED and old.name == "Đăng ký khai sinh"
    assert list(old.fees.values_list("amount", flat=True)) == [0]
    assert Procedure.objects.get(code="1.001193").current_version.name == "Đăng ký khai sinh (cập nhật)"


def test_xlsx_child_sheets_are_edited_as_rows(catalogue):
    workbook = load_workbook(io.BytesIO(services.export_catalogue("xlsx")))
    fees = workbook["fees"]
    for row in fees.iter_rows(min_row=2):
        if row[0].value == "1.001612":
            row[3].value = 150000
    fees.append(["1.001612", "Phí thẩm định", "fee", 20000, None])
    out = io.BytesIO()
    workbook.save(out)

    report = services.import_catalogue(out.getvalue(), filename="danh-muc.xlsx")
    assert {row.code: row.outcome for row in report.rows}["1.001612"] == Outcome.NEW_VERSION
    current = Procedure.objects.get(code="1.001612").current_version
    assert list(current.fees.values_list("name", "kind", "amount")) == [
        ("Lệ phí", "charge", 150000),
        ("Phí thẩm định", "fee", 20000),
    ]


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*transfer.MAIN_COLUMNS, "components", "fees", "form_fields"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _row(code: str, **overrides) -> dict:
    row = {
        "code": code,
        "name": f"Thủ tục {code}",
        "field_code": "HO_TICH",
        "field_name": "Hộ tịch",
        "levels": "commune",
        "agencies": "000.21.31.H62; 000.22.31.H62",
        "time_kind": "working_days",
        "resolution_days": "3",
        "online_level": "Một phần",
        "form_fields": json.dumps([{"name": "ho_ten", "label": "Họ tên"}]),
    }
    row.update(overrides)
    return row


def test_a_mixed_file_reports_bad_rows_by_number_and_keeps_the_good_ones(org, en):
    data = _csv(
        [
            _row("1.000001"),
            _row("1.23", name="Mã sai"),
            _row("1.000003", resolution_days="0,3", field_code="MOI", field_name="Lĩnh vực mới"),
            _row("1.000004", agencies="000.21.31.H62; 999.99.99.H62"),
            _row("1.000005", form_fields=json.dumps([{"name": "a", "label": "A"}, {"name": "a", "label": "B"}])),
            _row("1.000006", time_kind="weekly", online_level="maybe"),
            _row("1.000007", resolution_days="0,5", time_kind="ngày làm việc", online_level="Toàn trình"),
        ]
    )
    report = services.import_catalogue(data, filename="mixed.csv")
    by_row = {row.row: row for row in report.rows}
    assert [(row.row, row.outcome) for row in report.rows] == [
        (2, Outcome.CREATED),
        (3, Outcome.ERROR),
        (4, Outcome.ERROR),
        (5, Outcome.ERROR),
        (6, Outcome.ERROR),
        (7, Outcome.ERROR),
        (8, Outcome.CREATED),
    ]
    assert "is not a procedure code" in by_row[3].messages[0] and by_row[3].code == "1.23"
    assert "multiple of 0.5" in " ".join(by_row[4].messages)
    assert "999.99.99.H62" in " ".join(by_row[5].messages)
    assert "used more than once" in " ".join(by_row[6].messages)
    assert any("weekly" in m for m in by_row[7].messages) and any("maybe" in m for m in by_row[7].messages)

    assert set(Procedure.objects.values_list("code", flat=True)) == {"1.000001", "1.000007"}
    assert not Field.objects.filter(code="MOI").exists()  # the bad row's new field was rolled back too
    half = Procedure.objects.get(code="1.000007").current_version
    assert (half.resolution_days, half.online_level) == (Decimal("0.5"), "full")
    assert report.counts == {"created": 2, "new_version": 0, "unchanged": 0, "error": 5}


def test_json_rows_that_are_not_objects_are_row_errors(org, en):
    good = {k: v for k, v in _row("1.000001").items()}
    good["form_fields"] = json.loads(good["form_fields"])
    report = services.import_catalogue(json.dumps([good, "text", {"code": "1.000002"}]).encode(), filename="a.json")
    assert [row.outcome for row in report.rows] == [Outcome.CREATED, Outcome.ERROR, Outcome.ERROR]
    assert "object" in report.rows[1].messages[0]
    assert report.rows[2].row == 3 and report.rows[2].code == "1.000002"


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"PK\x03\x04 this is not a workbook \x00\xff", "catalogue.xlsx", "not an Excel workbook"),
        (b"\x00\x01\x02garbage", "catalogue.xlsx", "not an Excel workbook"),
        (b'[{"code": "1.001193",', "catalogue.json", "not valid JSON (line 1"),
        (b'{"code": "1.001193"}', "catalogue.json", "must hold a list of procedures"),
        (b"code,name\n1.001193,Khai sinh\n", "catalogue.csv", "Required columns are missing: field_code"),
        (b"", "catalogue.csv", "The file is empty"),
        (b"  \n ", "catalogue.json", "The file is empty"),
        ("\n".join([",".join(transfer.MAIN_COLUMNS)]).encode(), "catalogue.csv", "contains no procedures"),
        (b"[]", "catalogue.json", "contains no procedures"),
        ("code;name\n".encode("utf-16"), "catalogue.csv", "not UTF-8"),
        (b"code,name", "catalogue.txt", "Unsupported file type"),
    ],
)
def test_a_malformed_file_gives_one_clear_error_and_saves_nothing(org, en, data, filename, expected):
    with pytest.raises(transfer.CatalogueFileError) as exc:
        services.import_catalogue(data, filename=filename)
    assert len(exc.value.messages) == 1
    assert expected in exc.value.messages[0]
    assert not Procedure.objects.exists() and not Field.objects.exists()


def test_semicolon_separated_csv_from_a_vietnamese_excel_is_read(org):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    row = _row("1.000001", resolution_days="1,5", form_fields="")
    writer.writerow(list(row))
    writer.writerow(list(row.values()))
    report = services.import_catalogue(("\ufeff" + out.getvalue()).encode(), filename="excel.csv")
    assert report.rows[0].outcome == Outcome.CREATED
    assert Procedure.objects.get().current_version.resolution_days == Decimal("1.5")


def test_commands_export_and_import(catalogue, tmp_path):
    target = tmp_path / "catalogue.xlsx"
    call_command("export_catalogue", "--format", "xlsx", "-o", str(target), stderr=io.StringIO())
    wipe()
    out = io.StringIO()
    call_command("import_catalogue", str(target), stdout=out)
    assert out.getvalue().count("1.00") >= 2 and Procedure.objects.count() == 3

    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(CommandError, match="JSON"):
        call_command("import_catalogue", str(broken), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_catalogue", str(tmp_path / "missing.csv"), stdout=io.StringIO())
