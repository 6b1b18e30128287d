"""Official PDFs of the counter slips (issued once, served after a scope check) and the tracking
book (HTML page and XLSX), through real HTTP requests."""

import subprocess
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from motcua.documents.models import IssuedDocument
from motcua.dossiers import services
from tests.dossiers.conftest import MONDAY, applicant

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes, tmp_path, mode: str = "-layout") -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True, check=True, text=True).stdout


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_receipt_pdf_has_the_code_applicant_due_moment_and_every_document(client, clerk, receive, tmp_path):
    dossier = receive()
    client.force_login(clerk)
    url = reverse("dossiers:slip-pdf", args=[dossier.code])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    data = body(response)
    assert data.startswith(b"%PDF")
    text = " ".join(pdf_text(data, tmp_path).split())
    assert dossier.code in text
    assert "Nguyễn Văn An" in text
    # Mẫu 01 writes the appointment the official way: "11 giờ 30 phút, ngày 01/12/2026".
    due = timezone.localtime(dossier.due_at)
    assert f"{due:%H} giờ {due:%M} phút, ngày {due:%d/%m/%Y}" in text
    names = list(dossier.documents.values_list("name", flat=True))
    assert names
    for name in names:
        assert name in text
    # Issued once: a second request serves the same stored document.
    again = client.get(url)
    assert body(again) == data
    assert IssuedDocument.objects.filter(dossier=dossier, form_key="receipt").count() == 1


def test_the_detail_page_links_to_the_pdf(client, clerk, receive):
    dossier = receive()
    client.force_login(clerk)
    page = client.get(reverse("dossiers:detail", args=[dossier.code])).content.decode()
    assert reverse("dossiers:slip-pdf", args=[dossier.code]) in page


def test_a_clerk_of_another_commune_gets_404_and_nothing_is_issued(client, clerk_tamhop, receive):
    dossier = receive()
    client.force_login(clerk_tamhop)
    assert client.get(reverse("dossiers:slip-pdf", args=[dossier.code])).status_code == 404
    assert client.get(reverse("dossiers:slip-pdf-by-id", args=[dossier.pk])).status_code == 404
    assert not IssuedDocument.objects.filter(dossier=dossier).exists()


def test_anonymous_users_are_sent_to_login(client, receive):
    dossier = receive()
    response = client.get(reverse("dossiers:slip-pdf", args=[dossier.code]))
    assert response.status_code == 302
    assert not IssuedDocument.objects.exists()


def test_guidance_and_refusal_give_their_own_forms(client, clerk, birth, tmp_path):
    guided = services.return_for_completion(
        clerk=clerk, procedure_code=birth.code, applicant=applicant(), missing=["Giấy chứng sinh bản chính"], now=MONDAY
    )
    refused = services.refuse(
        clerk=clerk, procedure_code=birth.code, applicant=applicant(), reason="Không thuộc thẩm quyền", now=MONDAY
    )
    client.force_login(clerk)
    for dossier, key, expected in (
        (guided, "supplement", "Giấy chứng sinh bản chính"),
        (refused, "refusal", "Không thuộc thẩm quyền"),
    ):
        response = client.get(reverse("dossiers:slip-pdf-by-id", args=[dossier.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = " ".join(pdf_text(body(response), tmp_path).split())
        assert expected in text
        assert IssuedDocument.objects.filter(dossier=dossier, form_key=key).count() == 1


def test_the_tracking_book_lists_the_period_in_scope_and_downloads_as_xlsx_and_pdf(
    client, clerk, clerk_tamhop, receive, tmp_path
):
    first = receive()
    second = receive(applicant=applicant(full_name="Trần Thị Bích", id_number="026090009999"))
    client.force_login(clerk)
    url = reverse("dossiers:tracking-book")
    page = client.get(url, {"from": "2026-11-30", "to": "2026-11-30"})
    assert page.status_code == 200
    html = page.content.decode()
    assert first.code in html and second.code in html
    empty = client.get(url, {"from": "2026-11-01", "to": "2026-11-29"}).content.decode()
    assert first.code not in empty

    response = client.get(url, {"from": "2026-11-30", "to": "2026-11-30", "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert [r[0] for r in rows] == [first.code, second.code]
    assert rows[1][1] == "Trần Thị Bích"
    assert rows[0][4] == timezone.localtime(first.due_at).strftime("%d/%m/%Y %H:%M")

    book = client.get(url, {"from": "2026-11-30", "to": "2026-11-30", "format": "pdf"})
    assert book["Content-Type"] == "application/pdf"
    # Narrow landscape columns wrap the cells: compare without the line breaks the layout adds.
    text = "".join(pdf_text(book.content, tmp_path, "-raw").split())
    assert first.code in text and second.code in text and "TrầnThịBích" in text

    client.force_login(clerk_tamhop)
    other = client.get(url, {"from": "2026-11-30", "to": "2026-11-30", "format": "xlsx"})
    sheet = load_workbook(BytesIO(other.content)).active
    assert list(sheet.iter_rows(min_row=3, values_only=True)) == []


def test_the_tracking_book_is_kept_per_counter(client, clerk, clerk_tamhop, receive):
    from motcua.org.models import Counter

    one, _ = Counter.objects.get_or_create(agency=clerk.agency, number=1, defaults={"name": "Quầy số 1"})
    two, _ = Counter.objects.get_or_create(agency=clerk.agency, number=2, defaults={"name": "Quầy số 2"})
    elsewhere, _ = Counter.objects.get_or_create(agency=clerk_tamhop.agency, number=1, defaults={"name": "Quầy 1"})
    at_one = receive(counter=one)
    at_two = receive(counter=two, applicant=applicant(full_name="Trần Thị Bích", id_number="026090009999"))
    client.force_login(clerk)
    url = reverse("dossiers:tracking-book")
    day = {"from": "2026-11-30", "to": "2026-11-30"}
    everything = client.get(url, day).content.decode()
    assert at_one.code in everything and at_two.code in everything
    assert f'<option value="{one.pk}"' in everything and f'<option value="{elsewhere.pk}"' not in everything

    only_two = client.get(url, {**day, "counter": two.pk})
    html = only_two.content.decode()
    assert at_two.code in html and at_one.code not in html
    assert f"counter={two.pk}" in html  # the XLSX and PDF links keep the counter
    sheet = load_workbook(BytesIO(client.get(url, {**day, "counter": two.pk, "format": "xlsx"}).content)).active
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)] == [at_two.code]
    assert str(two) in sheet.cell(row=1, column=3).value

    # A counter outside the clerk's scope, or not a number: a clear 400, no rows.
    for bad in (elsewhere.pk, "x"):
        refused = client.get(url, {**day, "counter": bad})
        assert refused.status_code == 400
        assert "Hãy chọn một quầy trong danh sách." in refused.content.decode()
        assert at_one.code not in refused.content.decode()


@pytest.mark.parametrize("bad", [{"from": "30/11/2026"}, {"to": "2026-02-30"}, {"from": "abc", "format": "xlsx"}])
def test_a_malformed_period_is_a_clear_vietnamese_message(client, clerk, receive, bad):
    dossier = receive()
    client.force_login(clerk)
    response = client.get(reverse("dossiers:tracking-book"), bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nhập ngày theo dạng YYYY-MM-DD." in html
    assert dossier.code not in html
