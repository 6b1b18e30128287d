"""F13: uploaded files are served under a safe name with the extension and Content-Type of their
detected type, as attachments (RFC 5987 name), nosniff; bidi and control characters never survive."""

import pytest
from django.urls import reverse

from motcua.dossiers import uploads
from motcua.dossiers.models import DossierDocument
from tests.dossiers.conftest import pdf

pytestmark = pytest.mark.django_db

POLYGLOT = b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF\n"


@pytest.mark.parametrize(
    ("name", "kind", "served"),
    [
        ("invoice.html", uploads.PDF, "invoice.pdf"),
        ("scan\u202egpj.exe", uploads.PDF, "scangpj.pdf"),
        ("scan\u202egpj.exe", uploads.JPEG, "scangpj.jpg"),
        ("a\u2066b\u2069c\u200b\u200fd.png.exe", uploads.PNG, "abcd.png.png"),
        ("ảnh.JPEG", uploads.JPEG, "ảnh.jpg"),
        ("Giấy tờ v1.2", uploads.PDF, "Giấy tờ v1.2.pdf"),
        (".htaccess", uploads.PDF, "htaccess.pdf"),
        ("", uploads.PDF, "tep.pdf"),
        ("noidea.pdf", None, "noidea.bin"),
    ],
)
def test_the_served_name_has_the_detected_extension_and_no_control_characters(name, kind, served):
    assert uploads.download_name(name, kind) == served


def test_content_disposition_is_an_attachment_with_an_rfc5987_name():
    header = uploads.content_disposition('Tờ "khai"; đơn.pdf')
    assert header == (
        "attachment; filename=\"To _khai__ don.pdf\"; filename*=UTF-8''T%E1%BB%9D%20%22khai%22%3B%20%C4%91%C6%A1n.pdf"
    )


def download(client, document):
    response = client.get(reverse("dossiers:document", args=[document.pk]))
    assert response.status_code == 200
    return response


def test_a_pdf_html_polyglot_uploaded_as_html_downloads_as_pdf(client, clerk, receive, birth):
    dossier = receive(documents=birth.documents(f0=pdf("invoice.html", POLYGLOT)))
    document = dossier.documents.exclude(file="").get()
    assert document.original_filename == "invoice.pdf"
    client.force_login(clerk)
    response = download(client, document)
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and 'filename="invoice.pdf"' in disposition
    assert ".html" not in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == POLYGLOT

    # A row stored before the fix still comes back under the detected type's extension.
    DossierDocument.objects.filter(pk=document.pk).update(original_filename="invoice.html", content_type="text/html")
    response = download(client, document)
    assert response["Content-Type"] == "application/pdf" and ".html" not in response["Content-Disposition"]


def test_a_right_to_left_override_never_brings_back_exe(client, clerk, receive, birth):
    dossier = receive(documents=birth.documents(f0=pdf("scan\u202egpj.exe")))
    document = dossier.documents.exclude(file="").get()
    assert document.original_filename == "scangpj.pdf"
    DossierDocument.objects.filter(pk=document.pk).update(original_filename="scan\u202egpj.exe")
    client.force_login(clerk)
    disposition = download(client, document)["Content-Disposition"]
    assert "exe" not in disposition and "\u202e" not in disposition and "%E2%80%AE" not in disposition
    assert disposition.endswith("scangpj.pdf")


def test_vietnamese_names_come_back_exactly(client, clerk, receive, birth):
    dossier = receive(documents=birth.documents(f0=pdf("Tờ khai.pdf")))
    client.force_login(clerk)
    disposition = download(client, dossier.documents.exclude(file="").get())["Content-Disposition"]
    assert "filename*=UTF-8''T%E1%BB%9D%20khai.pdf" in disposition
