"""Issue 8: the late-dossier report shows the recorded apology's reason and new appointment
(workflow.Apology, built through workflow services) in the page and the XLSX export."""

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from openpyxl import load_workbook

from motcua.reports import export as exporting
from motcua.reports import selectors
from motcua.workflow import services as workflow
from motcua.workflow.models import Apology
from tests.reports.test_steps import DECEMBER, run  # noqa: F401  (the shared workflow fixture)
from tests.workflow.conftest import at, staff

pytestmark = pytest.mark.django_db


def late_line(dossier):
    admin = staff("admin")
    lines = selectors.late_dossiers(admin, selectors.resolve_scope(admin, {}), DECEMBER)
    return lines, next(line for line in lines if line.dossier.pk == dossier.pk)


def test_an_open_request_shows_no_reason(run):  # noqa: F811
    _done, stuck = run
    workflow.scan_deadlines(now=at(4, 9))  # the leader is asked: an open request, nothing recorded
    assert Apology.objects.filter(dossier=stuck, recorded_at__isnull=True).exists()
    _lines, line = late_line(stuck)
    assert (line.apology_reason, line.new_due_at, line.apology_recorded_at) == ("", None, None)


def test_recorded_apology_in_the_report_page_and_export(run):  # noqa: F811
    _done, stuck = run
    workflow.scan_deadlines(now=at(4, 9))
    leader = staff("lanhdao.lienbao")
    with pytest.raises(ValidationError):  # a refused letter leaves the report unchanged
        workflow.record_apology(stuck, leader, "   ", at(9, 17), now=at(4, 10))
    assert late_line(stuck)[1].apology_reason == ""
    workflow.record_apology(stuck, leader, "  Chờ ý kiến  Sở TN&MT ", at(9, 17), now=at(4, 10))

    lines, line = late_line(stuck)
    assert (line.apology_reason, line.new_due_at, line.apology_recorded_at) == (
        "Chờ ý kiến Sở TN&MT",
        at(9, 17),
        at(4, 10),
    )

    client = Client()
    assert client.login(username="admin@vinhphuc.gov.vn", password="motcua-demo-2026")
    html = client.get("/reports/late/?period=month-2026-12").content.decode()
    assert "Chờ ý kiến Sở TN&amp;MT" in html and "09/12/2026 17:00" in html
    assert "Lý do chậm trễ" in html and "Hẹn trả kết quả mới" in html

    sheet = load_workbook(BytesIO(exporting.late_workbook(DECEMBER, lines))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[1][-2:] == ["Lý do xin lỗi", "Hẹn trả kết quả mới"]
    row = next(r for r in rows[2:] if r[1] == stuck.code)
    assert row[-2:] == ["Chờ ý kiến Sở TN&MT", "09/12/2026 17:00"]
