"""F9 and F8: the catalogue import refuses archives that unpack to absurd sizes, hostile XML and
deeply nested JSON with a clear Vietnamese message, fast and before anything is imported; an
ordinary workbook still imports. F7: the catalogue CSV export escapes formula-like text and reads
it back unchanged."""

import io
import json
import time
import zipfile

import pytest
from django.test import Client
from django.utils import translation
from openpyxl import Workbook

from motcua.catalog import services, transfer
from motcua.catalog.models import Procedure
from motcua.org import services as org_services
from motcua.org.models import Role, User
from tests.catalog.factories import make_procedure

pytestmark = pytest.mark.django_db

HEADER = ["code", "name", "field_code", "field_name", "levels", "time_kind", "resolution_days", "online_level"]
ROW = ["1.000001", "Thủ tục thử", "HT", "Hộ tịch", "commune", "working_days", 3, "none"]


@pytest.fixture
def root(org) -> Client:
    user = User.objects.create_user(
        "quantri@vinhphuc.gov.vn", "mat-khau-dai-du", full_name="Quản trị", unit=org.units["tinh"]
    )
    org_services.set_roles(user, [Role.SYSTEM_ADMIN])
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(user)
    return client


def workbook_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "procedures"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet(xlsx: bytes, sheet_xml: bytes) -> bytes:
    """``xlsx`` with its first sheet replaced by ``sheet_xml`` (deflated)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for member in source.infolist():
            data = sheet_xml if member.filename == "xl/worksheets/sheet1.xml" else source.read(member)
            target.writestr(member.filename, data)
    return out.getvalue()


def bomb(megabytes: int = 20) -> bytes:
    """About ``megabytes`` MB of sheet rows that compress to tens of KB."""
    row = (
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>1.000001</t></is></c>'
        b'<c r="B2" t="inlineStr"><is><t>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</t></is></c></row>'
    )
    rows = row * (megabytes * 1024 * 1024 // len(row))
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>' + rows + b"</sheetData></worksheet>"
    )
    return with_sheet(workbook_bytes([HEADER]), sheet)


def upload(data: bytes, name: str):
    file = io.BytesIO(data)
    file.name = name
    return file


def test_a_zip_bomb_is_refused_fast_with_a_vietnamese_message_and_nothing_imported(root):
    data = bomb()
    assert len(data) < 200 * 1024
    started = time.monotonic()
    body = root.post("/admin/catalog/procedure/import/", {"file": upload(data, "bom.xlsx")}).content.decode()
    assert time.monotonic() - started < 5
    assert "Không nhận tệp" not in body  # the form itself answered, not a generic error page
    assert "sẽ giải nén ra" in body and "không phải là danh mục" in body
    assert Procedure.objects.count() == 0


def test_the_total_unpacked_size_is_limited_too(org, settings):
    settings.MOTCUA_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    settings.MOTCUA_IMPORT_MAX_RATIO = 10_000
    with pytest.raises(transfer.CatalogueFileError):
        transfer.load(bomb(2), "xlsx")


def test_rows_beyond_the_limit_are_refused(org, settings):
    settings.MOTCUA_IMPORT_MAX_ROWS = 5
    data = workbook_bytes([HEADER] + [[f"1.00000{n}", *ROW[1:]] for n in range(1, 8)])
    with translation.override("vi"), pytest.raises(transfer.CatalogueFileError) as error:
        transfer.load(data, "xlsx")
    assert "nhiều hơn 5 dòng" in error.value.messages[0]


def test_columns_beyond_the_limit_are_not_read(org, settings):
    settings.MOTCUA_IMPORT_MAX_COLUMNS = len(HEADER)
    rows = transfer.load(workbook_bytes([[*HEADER, "extra"], [*ROW, "ignored"]]), "xlsx")
    assert "extra" not in rows[0].data


def test_xml_entities_are_refused(org):
    sheet = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>'
    )
    with translation.override("vi"), pytest.raises(transfer.CatalogueFileError) as error:
        transfer.load(with_sheet(workbook_bytes([HEADER]), sheet), "xlsx")
    assert "không phải sổ tính Excel" in error.value.messages[0]


def test_deeply_nested_json_is_refused_not_a_recursion_error(org):
    for depth in (50, 50_000):
        data = b"[" * depth + b"]" * depth
        with translation.override("vi"), pytest.raises(transfer.CatalogueFileError) as error:
            transfer.load(data, "json")
        assert "lồng" in error.value.messages[0]


def test_an_ordinary_workbook_still_imports(root):
    data = workbook_bytes([HEADER, ROW])
    body = root.post("/admin/catalog/procedure/import/", {"file": upload(data, "danh-muc.xlsx")}).content.decode()
    assert "tạo mới 1" in body
    assert list(Procedure.objects.values_list("code", flat=True)) == ["1.000001"]


def test_the_exported_catalogue_passes_the_archive_check(org):
    for number in range(1, 30):
        make_procedure(f"1.0{number:05d}", name=f"Thủ tục số {number} " + "nội dung lặp lại " * 20)
    transfer.check_archive(services.export_catalogue("xlsx"))


def test_the_csv_export_escapes_formulas_and_imports_back_the_same(org):
    make_procedure(name='=HYPERLINK("http://127.0.0.1/x","bấm")')
    data = services.export_catalogue("csv")
    assert b"\"'=HYPERLINK(" in data
    rows = transfer.load(data, "csv")
    assert rows[0].data["name"] == '=HYPERLINK("http://127.0.0.1/x","bấm")'
    assert json.loads(json.dumps(rows[0].data))  # plain data
