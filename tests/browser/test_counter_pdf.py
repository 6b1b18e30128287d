"""A clerk receives a dossier at the counter in Chromium and opens the official receipt PDF from the
counter screen (the "PDF" link next to "In phiếu"): the answer is a real PDF for that dossier."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from motcua.documents.models import IssuedDocument
from motcua.dossiers.models import Dossier
from motcua.org.demo import DEMO_DOMAIN
from tests.browser.test_counter import log_in, receive_extract, site  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_receipt_pdf_opens_from_the_counter_screen(page, site, tmp_path):  # noqa: F811
    log_in(page, site, f"motcua.lienbao@{DEMO_DOMAIN}")
    code = receive_extract(page, "Lường Thị Hoà", "026190003333")
    dossier = Dossier.objects.get(code=code)

    link = page.locator("#slip-pdf")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert re.search(r"/slip\.pdf$", href), href
    # The link's answer, fetched with the clerk's own browser session.
    response = page.request.get(page.url.split("/counter")[0] + href if href.startswith("/") else href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    data = response.body()
    assert data.startswith(b"%PDF")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split())
    assert code in text and "Lường Thị Hoà" in text
    assert IssuedDocument.objects.filter(dossier=dossier, form_key="receipt").count() == 1
