"""Exports run as tasks: XLSX in the II.06a layout, the PDF signed like other documents, progress, the
monthly job."""

import io
import shutil
import subprocess
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from motcua.org.demo import DEMO_PASSWORD
from motcua.reports import periods, tasks
from motcua.reports.models import ReportExport
from tests.reports.conftest import BRANCH_BX, BRANCH_VY, LIENBAO, TAMHOP, expected_columns

pytestmark = pytest.mark.urls("tests.reports.urls")
POPPLER = shutil.which("pdftotext") is not None


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def client_for(email_local: str) -> Client:
    client = Client()
    assert client.login(username=f"{email_local}@vinhphuc.gov.vn", password=DEMO_PASSWORD)
    return client


def request_export(client, django_capture_on_commit_callbacks, **data) -> ReportExport:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/exports/", data)
    assert response.status_code == 302, response.content.decode()
    return ReportExport.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def sheet_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_ii06a_xlsx_has_the_official_layout_and_the_hand_counts(history, django_capture_on_commit_callbacks):
    client = client_for("giamsat.tinh")
    export = request_export(client, django_capture_on_commit_callbacks, kind="ii06a_xlsx", period="month-2026-11")
    export.refresh_from_db()
    assert (export.state, export.progress) == ("done", 100)
    page = client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert "Đã xong" in page and f"/reports/exports/{export.pk}/download/" in page
    response = client.get(f"/reports/exports/{export.pk}/download/")
    assert response.status_code == 200
    rows = sheet_rows(b"".join(response.streaming_content))
    assert rows[1][0] == "Biểu số II.06a/VPCP/KSTT"
    assert rows[3][0] == "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
    # November 2026 is read so far (to today) while it is not closed; the hand counts are the same.
    last = periods.clamp(periods.Period("month", 2026, 11), timezone.localdate()).last_day
    assert rows[4][0] == f"Kỳ báo cáo: Tháng 11/2026 (từ ngày 01/11/2026 đến ngày {last:%d/%m/%Y})"
    assert rows[7][2] == "Số hồ sơ nhận giải quyết" and rows[7][6] == "Số hồ sơ đã giải quyết"
    assert rows[9][:4] == ["(1)", "(2)", "(3)", "(4)"]
    by_label = {}
    for row in rows[10:]:
        if row[1]:
            by_label.setdefault(row[1].strip(), []).append(row[2:16])
    assert by_label["Ủy ban nhân dân phường Liên Bảo"] == [[expected_columns(LIENBAO, 11)[n] for n in range(3, 17)]]
    branch = [label for label in by_label if label.startswith("Chi nhánh Văn phòng Đăng ký đất đai thành phố Vĩnh Yên")]
    assert sum(len(by_label[label]) for label in branch) == 2  # under the provincial office and under Vĩnh Yên
    total = by_label["Tổng cộng (mỗi hồ sơ chỉ tính một lần)"][0]
    everyone = [LIENBAO, TAMHOP, BRANCH_VY, BRANCH_BX]
    assert total == [sum(expected_columns(code, 11)[n] for code in everyone) for n in range(3, 17)]


def test_late_and_step_exports(history, django_capture_on_commit_callbacks):
    client = client_for("giamsat.tinh")
    late = request_export(client, django_capture_on_commit_callbacks, kind="late_xlsx", period="month-2026-11")
    late.refresh_from_db()
    rows = sheet_rows(late.file.read())
    codes = {row[1] for row in rows[2:]}
    assert codes == {history.dossiers["A9"].code, history.dossiers["B3"].code}
    steps = request_export(client, django_capture_on_commit_callbacks, kind="steps_xlsx", period="month-2026-11")
    steps.refresh_from_db()
    assert steps.state == "done" and sheet_rows(steps.file.read())[1][0] == "Cơ quan"


def test_bad_export_requests_change_nothing(history, django_capture_on_commit_callbacks):
    client = client_for("lanhdao.vinhyen")
    for data, status in (
        ({"kind": "everything", "period": "month-2026-11"}, 400),
        ({"kind": "ii06a_xlsx", "period": "month-2026-00"}, 400),
        ({"kind": "ii06a_xlsx", "agency": TAMHOP}, 403),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/reports/exports/", data).status_code == status
    assert ReportExport.objects.count() == 0
    # Someone else's export is not found.
    export = request_export(
        client_for("giamsat.tinh"), django_capture_on_commit_callbacks, kind="ii06a_xlsx", period="month-2026-11"
    )
    assert client.get(f"/reports/exports/{export.pk}/").status_code == 404
    assert client.get(f"/reports/exports/{export.pk}/download/").status_code == 404


def test_progress_is_shown_while_queued(history, settings):
    from motcua.reports import services
    from tests.reports.conftest import user

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    export = services.request_export(actor=user("giamsat.tinh"), kind="ii06a_xlsx", params={"period": "month-2026-11"})
    client = client_for("giamsat.tinh")
    page = client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert "<progress" in page and 'hx-trigger="every 2s"' in page
    services.export_started(export, 4)
    services.export_progress(export, 1)
    partial = client.get(f"/reports/exports/{export.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'value="25"' in partial and "<html" not in partial
    tasks.make_export(export)
    assert "Đã xong" in client.get(f"/reports/exports/{export.pk}/", HTTP_HX_REQUEST="true").content.decode()


@pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed (scripts/ensure-debian-packages.sh)")
def test_pdf_export_is_signed_like_other_documents(history, django_capture_on_commit_callbacks, settings, tmp_path):
    from motcua.documents import demo as documents_demo
    from motcua.documents import selectors as documents_selectors
    from motcua.documents import services as documents
    from motcua.documents.models import DocumentSignature
    from tests.documents.conftest import pyhanko_statuses

    settings.MOTCUA_PKI_DIR = tmp_path / "pki"
    documents_demo.load()
    client = client_for("lanhdao.vinhyen")
    export = request_export(client, django_capture_on_commit_callbacks, kind="ii06a_pdf", period="month-2026-11")
    export.refresh_from_db()
    content = export.file.read()
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    raw = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    text = " ".join(raw.split())
    assert "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text
    assert "Ủy ban nhân dân phường Liên Bảo" in text and "Xã Tam Hợp" not in text
    response = client.post(f"/reports/exports/{export.pk}/sign/")
    assert response.status_code == 302
    export.refresh_from_db()
    signature = DocumentSignature.objects.get(document=export.document)
    assert signature.signer.email == "lanhdao.vinhyen@vinhphuc.gov.vn"
    signed = documents.read_document(export.document)
    statuses = pyhanko_statuses(signed, documents_selectors.trust_roots())
    assert len(statuses) == 1 and statuses[0].intact and statuses[0].valid and statuses[0].trusted
    # A monitor without a signing certificate gets a clear message and nothing is signed.
    monitor = client_for("giamsat.vinhyen")
    other = request_export(monitor, django_capture_on_commit_callbacks, kind="ii06a_pdf", period="month-2026-11")
    refused = monitor.post(f"/reports/exports/{other.pk}/sign/")
    assert refused.status_code in (400, 403)
    assert DocumentSignature.objects.count() == 1


def test_monthly_job_makes_the_previous_month(history, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2026, 11, 3))
    result = tasks.monthly_report.enqueue()
    assert "bieu-II06a-month-2026-10" in result.return_value
    made = list(ReportExport.objects.order_by("kind"))
    assert [(e.kind, e.state, e.requested_by_id) for e in made] == [
        ("ii06a_pdf", "done", None),
        ("ii06a_xlsx", "done", None),
    ]
    client = client_for("lanhdao.tinh")
    assert client.get(f"/reports/exports/{made[1].pk}/download/").status_code == 200
    assert client_for("lanhdao.vinhyen").get(f"/reports/exports/{made[1].pk}/").status_code == 404
