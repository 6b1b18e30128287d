"""The public verification page (/verify/) and its JSON variant: a non-PDF, a broken PDF, an
unsigned PDF, a valid signed one, a tampered one, an untrusted one, the QR link and its limits."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from motcua.documents import context, rendering, services
from motcua.documents.models import IssuedDocument
from tests.documents.conftest import stored_bytes
from tests.dossiers.conftest import user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.documents.urls")]


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def upload(client: Client, data: bytes, name: str = "van-ban.pdf"):
    page = client.get("/verify/")
    token = page.cookies["csrftoken"].value
    return client.post(
        "/verify/",
        {"file": SimpleUploadedFile(name, data, content_type="application/pdf"), "csrfmiddlewaretoken": token},
    )


@pytest.fixture
def signed(demo_pki, receipt) -> bytes:
    services.sign_document(receipt, actor=user("lanhdao.vinhyen"))
    services.sign_document(receipt, actor=user("vanthu.lienbao"))
    return stored_bytes(receipt)


def test_the_page_offers_an_upload_form(client, db):
    response = client.get("/verify/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Kiểm tra văn bản ký số" in body and 'enctype="multipart/form-data"' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_upload_without_csrf_is_refused(client, db):
    response = client.post("/verify/", {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.7")})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "Tệp không phải văn bản PDF."),
        ("Hợp đồng.docx nội dung".encode(), "Tệp không phải văn bản PDF."),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "Tệp PDF bị hỏng hoặc không đầy đủ, không đọc được."),
    ],
)
def test_not_a_pdf_or_a_broken_pdf_gets_a_clear_answer(client, db, data, message):
    response = upload(client, data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_an_unsigned_pdf(client, db):
    pdf = rendering.render_pdf("documents/forms/refusal.html", context.sample_context("refusal"))
    body = upload(client, pdf).content.decode()
    assert "Tệp PDF không có chữ ký số." in body


def test_a_valid_signed_pdf_shows_who_signed_and_when(client, signed):
    leader = user("lanhdao.vinhyen")
    body = upload(client, signed).content.decode()
    assert "Tất cả 2 chữ ký đều hợp lệ và tin cậy." in body
    assert leader.full_name in body and "Ủy ban nhân dân phường Liên Bảo" in body
    assert "Chữ ký hợp lệ và tin cậy; sau đó văn bản được ký thêm." in body
    assert "Chữ ký hợp lệ và tin cậy; văn bản không bị thay đổi kể từ khi ký." in body
    assert "Một cửa Demo Issuing CA" in body


def test_a_tampered_pdf_is_reported(client, signed):
    data = bytearray(signed)
    start = data.index(b"stream\n") + 20
    data[start] ^= 0x01
    body = upload(client, bytes(data)).content.decode()
    assert "Có chữ ký không hợp lệ hoặc không tin cậy" in body
    assert "Văn bản đã bị thay đổi sau khi ký" in body


def test_an_untrusted_root_is_reported(client, signed, settings):
    from motcua.documents.models import TrustedRoot

    TrustedRoot.objects.update(is_active=False)
    body = upload(client, signed).content.decode()
    assert "không do tổ chức chứng thực tin cậy cấp" in body


def test_a_file_over_the_limit_is_refused(client, db, settings):
    settings.MOTCUA_VERIFY_MAX_BYTES = 1024
    response = upload(client, b"%PDF-1.7\n" + b"0" * 2048)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Tệp lớn hơn 1,0\xa0KB." in body
    too_big = client.post("/verify/api/", {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.7\n" + b"0" * 2048)})
    assert too_big.status_code == 413 and too_big.json()["detail"] == "Tệp lớn hơn 1,0\xa0KB."


def test_the_qr_link_verifies_the_stored_document(client, signed, receipt):
    body = client.get(f"/verify/{receipt.token}/").content.decode()
    assert receipt.title in body and "Tất cả 2 chữ ký đều hợp lệ và tin cậy." in body
    assert "Ủy ban nhân dân phường Liên Bảo" in body
    missing = client.get("/verify/AAAAAAAAAAAAAAAAAAAAAA/")
    assert missing.status_code == 404 and "Không có văn bản nào mang mã kiểm tra này" in missing.content.decode()
    assert client.get("/verify/../etc/passwd/").status_code == 404


def test_the_qr_of_an_issued_form_points_to_its_own_verification_page(receipt, tmp_path):
    from tests.documents.conftest import pdf_text

    text = pdf_text(stored_bytes(receipt), tmp_path)
    assert "https://motcua.example.vn/tracking/" in text  # the tracking QR of the receipt
    issued = IssuedDocument.objects.get(pk=receipt.pk)
    assert len(issued.token) >= 22


def test_json_variants(client, signed, receipt, db):
    response = client.post("/verify/api/", {"file": SimpleUploadedFile("x.pdf", signed)})
    payload = response.json()
    assert response.status_code == 200 and payload["all_ok"] and len(payload["signatures"]) == 2
    assert payload["signatures"][0]["coverage"] == "entire_revision"
    assert payload["signatures"][1]["coverage"] == "entire_file"
    raw = client.post("/verify/api/", data=b"not a pdf", content_type="application/pdf").json()
    assert raw["outcome"] == "not_pdf" and raw["message"] == "Tệp không phải văn bản PDF."
    empty = client.post("/verify/api/", {})
    assert empty.status_code == 400 and empty.json()["detail"] == "Hãy gửi tệp PDF trong trường “file”."
    by_token = client.get(f"/verify/{receipt.token}/json/").json()
    assert by_token["document"]["title"] == receipt.title and by_token["all_ok"]
    assert client.get("/verify/AAAAAAAAAAAAAAAAAAAAAA/json/").status_code == 404
    english = client.post(
        "/verify/api/", data=b"not a pdf", content_type="application/pdf", headers={"Accept-Language": "en"}
    )
    assert json.loads(english.content)["message"] == "The file is not a PDF document."


def test_an_encrypted_pdf_gets_a_clear_answer(client, db):
    from io import BytesIO

    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    writer.encrypt("chu-so-huu", "nguoi-doc")
    out = BytesIO()
    writer.write(out)
    body = upload(client, out.getvalue()).content.decode()
    assert "Tệp PDF được mã hóa; không thể kiểm tra chữ ký tại đây." in body
