"""Fixtures for the documents tests: the demo organisation and PKI, a received dossier, the
remote-signing simulator on 127.0.0.1, and helpers that read PDFs with poppler and pyHanko.

The demo PKI's files are made once per test session in a temporary folder (RSA keys take time);
every test registers them in its own database through ``demo.load`` (which reuses the files).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from motcua.documents import demo, pki, services
from motcua.documents.models import DocumentSignature, IssuedDocument, SigningCertificate
from motcua.documents.signing.base import to_asn1
from motcua.documents.simulators.remote_signing import RemoteSigningSimulator
from tests.dossiers.conftest import FORM, MONDAY, applicant, make_procedure, user

POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdftoppm"))
needs_poppler = pytest.mark.skipif(
    not POPPLER, reason="poppler-utils is not installed (scripts/ensure-debian-packages.sh)"
)


@pytest.fixture(scope="session")
def pki_files(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(autouse=True)
def _documents_settings(settings, tmp_path, pki_files):
    settings.MOTCUA_PKI_DIR = pki_files
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MOTCUA_SITE_URL = "https://motcua.example.vn"


@pytest.fixture(autouse=True)
def _fresh_calendars():
    from motcua.worktime import selectors as worktime_selectors

    worktime_selectors.clear_cache()
    yield
    worktime_selectors.clear_cache()


@pytest.fixture(scope="module")
def _demo_module(django_db_setup, django_db_blocker, pki_files):
    """The demo organisation and PKI, loaded once per module inside a transaction rolled back at
    its end (as tests/dossiers does); each test still runs in its own savepoint."""
    from django.db import transaction
    from django.test import override_settings

    from motcua.org import demo as org_demo

    with django_db_blocker.unblock(), override_settings(MOTCUA_PKI_DIR=pki_files), transaction.atomic():
        units = org_demo.load()
        loaded = demo.load()
        yield units, loaded
        transaction.set_rollback(True)


@pytest.fixture
def demo_org(_demo_module, db):
    return _demo_module[0]


@pytest.fixture
def org(demo_org):
    return demo_org


@pytest.fixture
def demo_pki(_demo_module, db) -> demo.DemoPki:
    return _demo_module[1]


@pytest.fixture
def clerk(org):
    return user("motcua.lienbao")


@pytest.fixture
def dossier(org, clerk):
    """A birth registration received at Liên Bảo's counter on Monday 30/11/2026, 09:00."""
    from motcua.dossiers import services as dossier_services

    birth = make_procedure("1.001193")
    return dossier_services.receive_at_counter(
        clerk=clerk,
        procedure_code=birth.code,
        applicant=applicant(full_name="Nguyễn Thị Hồng Nhung", address="Số 12 đường Lý Thường Kiệt, Liên Bảo"),
        form_data=dict(FORM),
        documents=birth.documents(),
        now=MONDAY,
        ip="203.0.113.7",
    )


@pytest.fixture
def receipt(dossier, clerk) -> IssuedDocument:
    return services.issue_form("receipt", dossier, actor=clerk, now=MONDAY)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def pyhanko_statuses(data: bytes, roots) -> list:
    """pyHanko's own validation of every signature, against ``roots`` only."""
    reader = PdfFileReader(BytesIO(data))
    context = ValidationContext(trust_roots=[to_asn1(r) for r in roots], allow_fetching=False)
    return [validate_pdf_signature(sig, context) for sig in reader.embedded_regular_signatures]


def stored_bytes(document: IssuedDocument) -> bytes:
    document.refresh_from_db()
    return services.read_document(document)


def certificate_of(email_local: str, **filters) -> SigningCertificate:
    return SigningCertificate.objects.filter(user__email=f"{email_local}@vinhphuc.gov.vn", **filters).get()


def nothing_signed(document: IssuedDocument, before: bytes) -> None:
    document.refresh_from_db()
    assert DocumentSignature.objects.filter(document=document).count() == 0
    assert services.read_document(document) == before
    assert document.sha256 == pki.sha256_hex(before)
    media = Path(document.file.storage.location)
    assert len([p for p in media.rglob("*.pdf")]) == IssuedDocument.objects.count()


def other_pki(common_name: str = "Root lạ (không tin cậy)") -> tuple[pki.Issued, pki.Issued]:
    """A root CA nobody configured, and a signing certificate under it."""
    now = datetime.now(UTC)
    root = pki.make_ca(pki.name(common_name), not_before=now - timedelta(days=1), days=365)
    leaf = pki.issue_signing_certificate(
        pki.name("Người ký lạ", "Tổ chức lạ"),
        root,
        not_before=now - timedelta(hours=1),
        not_after=now + timedelta(days=30),
    )
    return root, leaf


@pytest.fixture
def simulator(demo_pki, monkeypatch, settings):
    """The SmartCA-like service on 127.0.0.1 with the demo's remote account, wired into settings."""
    with RemoteSigningSimulator(sp_id="motcua-test", hang_seconds=2.0) as sim:
        for account, issued in demo.remote_accounts():
            sim.add_account(account, issued.key, issued.certificate, issued.chain)
        monkeypatch.setenv("MOTCUA_REMOTE_SIGNING_SP_PASSWORD", sim.sp_password)
        settings.MOTCUA_REMOTE_SIGNING = {
            "URL": sim.base_url,
            "SP_ID": "motcua-test",
            "READ_TIMEOUT": 0.5,
            "POLL_INTERVAL": 0.05,
            "MAX_WAIT": 3,
        }
        yield sim
