"""F7: no text typed by an applicant or staff member comes back as a spreadsheet formula, in any
XLSX or CSV the system writes (tracking book, reports, catalogue); numbers and dates stay typed."""

from datetime import datetime
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from motcua import spreadsheets
from motcua.reports import export
from motcua.reports.periods import Period
from tests.dossiers.conftest import applicant

pytestmark = pytest.mark.django_db

NAMES = [
    '=HYPERLINK("http://127.0.0.1:8721/x","bấm")',
    "=1+2",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(1)",
    "\uff1dSUM(1)",
]


def test_the_tracking_book_writes_formula_like_names_as_text(client, clerk, receive):
    for number, name in enumerate(NAMES):
        receive(applicant=applicant(full_name=name, id_number=f"02609000{number:04d}"))
    client.force_login(clerk)
    response = client.get(
        reverse("dossiers:tracking-book"), {"from": "2026-11-30", "to": "2026-11-30", "format": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=3)]
    assert sorted(cell.value for cell in cells) == sorted(NAMES)
    for cell in cells:
        assert cell.data_type == "s", cell.value
        assert cell.quotePrefix, cell.value


def test_the_late_dossiers_workbook_writes_reasons_as_text_and_keeps_numbers():
    moment = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    lines = [
        SimpleNamespace(
            dossier=SimpleNamespace(
                code="=1+2",
                procedure_version=SimpleNamespace(name="@SUM(1)"),
                competent_agency=SimpleNamespace(name="+SUM(1,2)"),
            ),
            state="overdue",
            due_at=moment,
            until=moment,
            days_over=Decimal("1.5"),
            agency_name="-2+3",
            step_name="",
            apology=None,
            apology_reason="=cmd|' /C calc'!A0",
            new_due_at=None,
        )
    ]
    sheet = load_workbook(BytesIO(export.late_workbook(Period("month", 2026, 11), lines))).active
    row = next(iter(sheet.iter_rows(min_row=3, max_row=3)))
    assert row[0].value == 1 and row[0].data_type == "n"
    assert row[7].value == 1.5 and row[7].data_type == "n"
    for index in (1, 2, 3, 8, 10):
        assert row[index].data_type == "s", row[index].value
    assert row[10].value == "=cmd|' /C calc'!A0"


def test_the_shared_helper_keeps_numbers_and_dates_typed():
    book = Workbook()
    sheet = book.active
    day = datetime(2026, 11, 30, 9, 0)
    sheet.append(["=1+2", 42, 1.5, day, "plain", "a=b"])
    sheet = load_workbook(BytesIO(spreadsheets.save_workbook(book))).active
    cells = next(iter(sheet.iter_rows()))
    assert [c.data_type for c in cells] == ["s", "n", "n", "d", "s", "s"]
    assert cells[3].value == day
    assert cells[0].quotePrefix and not cells[4].quotePrefix


@pytest.mark.parametrize("text", [*NAMES, "\tx", "\rx", "'=x", "''+x"])
def test_csv_values_get_an_apostrophe_and_come_back_unchanged(text):
    escaped = spreadsheets.csv_value(text)
    assert escaped.startswith("'")
    assert spreadsheets.csv_unescape(escaped) == text


def test_csv_leaves_plain_values_alone():
    for value in ("Nguyễn Văn A", "a=b", "", 5, -2, 1.5, None):
        assert spreadsheets.csv_value(value) == value
