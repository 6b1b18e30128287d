"""Signing: the demo PKI, PAdES with PKCS#12 validated by pyHanko, a second signature that keeps
the first valid, tampering detected, untrusted roots reported, expired / revoked / not-yet-valid
certificates refused before signing, and nothing stored when anything fails."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation.status import SignatureCoverageLevel

from motcua.documents import demo, pki, selectors, services, verification
from motcua.documents.models import DocumentSignature, RevocationList, SigningCertificate, TrustedRoot
from motcua.documents.signing.base import Appearance, CertificateRefused, SigningError
from motcua.documents.signing.pkcs12 import Pkcs12Signer
from motcua.org.models import Agency
from tests.documents.conftest import (
    certificate_of,
    needs_poppler,
    nothing_signed,
    other_pki,
    pdf_text,
    pyhanko_statuses,
    stored_bytes,
)
from tests.dossiers.conftest import user

pytestmark = pytest.mark.django_db


def test_demo_pki_registers_everyone_and_runs_twice_without_change(demo_pki, pki_files):
    first = demo.load()
    rows = {c.fingerprint: (c.user_id, c.label, c.mode) for c in SigningCertificate.objects.all()}
    files = {p: p.stat().st_mtime_ns for p in Path(pki_files).rglob("*") if p.is_file()}
    # 7 leaders + 7 seals + expired + revoked + remote
    assert len(rows) == 17
    assert TrustedRoot.objects.count() == 1 and RevocationList.objects.count() == 1
    second = demo.load()
    assert second.created == []
    assert {c.fingerprint: (c.user_id, c.label, c.mode) for c in SigningCertificate.objects.all()} == rows
    assert {p: p.stat().st_mtime_ns for p in Path(pki_files).rglob("*") if p.is_file()} == files
    assert first.root_ca.certificate == second.root_ca.certificate == demo_pki.root_ca.certificate
    passphrase = Path(pki_files) / "passphrase"
    assert passphrase.stat().st_mode & 0o077 == 0  # readable by the owner only
    seal = certificate_of("vanthu.lienbao")
    assert seal.kind == SigningCertificate.Kind.SEAL and seal.subject_name == "Ủy ban nhân dân phường Liên Bảo"
    leader = SigningCertificate.objects.get(user__email="lanhdao.vinhyen@vinhphuc.gov.vn")
    assert leader.subject_name == leader.user.full_name and leader.mode == "pkcs12"


def test_demo_pki_command(org, capsys):
    call_command("demo_pki")
    assert "Demo PKI ready" in capsys.readouterr().out
    assert SigningCertificate.objects.filter(mode="pkcs12", kind="seal").count() == 7


def test_a_signed_result_is_intact_valid_and_trusted_for_pyhanko(demo_pki, receipt):
    leader = user("lanhdao.vinhyen")
    outcome = services.sign_document(receipt, actor=leader, reason="Phê duyệt kết quả")
    data = stored_bytes(receipt)
    assert outcome.signature.field_name == "KyDuyet1" and outcome.signature.mode == "pkcs12"
    assert outcome.document.sha256 == pki.sha256_hex(data) != outcome.signature.sha256_before
    [status] = pyhanko_statuses(data, [demo_pki.root_ca.certificate])
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["common_name"] == leader.full_name
    report = verification.verify_pdf(data, trust_roots=selectors.trust_roots())
    assert report.all_ok and report.signatures[0].signer_name == leader.full_name


def test_a_second_signature_keeps_the_first_valid(demo_pki, receipt):
    services.sign_document(receipt, actor=user("lanhdao.vinhyen"))
    services.sign_document(receipt, actor=user("vanthu.lienbao"))
    data = stored_bytes(receipt)
    first, second = pyhanko_statuses(data, [demo_pki.root_ca.certificate])
    assert first.bottom_line and second.bottom_line
    assert first.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert first.modification_level == ModificationLevel.FORM_FILLING  # only a signature was added
    assert second.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert second.signing_cert.subject.native["common_name"] == "Ủy ban nhân dân phường Liên Bảo"
    assert list(receipt.signatures.values_list("field_name", flat=True)) == ["KyDuyet1", "DongDau1"]


@needs_poppler
def test_the_visible_stamps_carry_the_vietnamese_names(demo_pki, receipt, tmp_path):
    leader = user("lanhdao.vinhyen")
    services.sign_document(receipt, actor=leader)
    services.sign_document(receipt, actor=user("vanthu.lienbao"))
    text = pdf_text(stored_bytes(receipt), tmp_path)
    assert f"Ký bởi: {leader.full_name}" in text
    assert "Ký bởi: Ủy ban nhân dân phường Liên Bảo" in text
    assert "Thời gian ký:" in text


def test_a_changed_byte_after_signing_is_detected(demo_pki, receipt):
    services.sign_document(receipt, actor=user("lanhdao.vinhyen"))
    services.sign_document(receipt, actor=user("vanthu.lienbao"))
    data = bytearray(stored_bytes(receipt))
    start = data.index(b"stream\n") + len(b"stream\n") + 10  # inside the first content stream, signed by both
    data[start] ^= 0x01
    for status in pyhanko_statuses(bytes(data), [demo_pki.root_ca.certificate]):
        assert not status.intact and not status.bottom_line
    report = verification.verify_pdf(bytes(data), trust_roots=selectors.trust_roots())
    assert report.outcome == "signed" and not report.all_ok
    assert all(not s.intact for s in report.signatures)
    assert "thay đổi sau khi ký" in report.signatures[0].summary


def test_a_certificate_from_another_root_is_reported_untrusted(demo_pki, receipt, tmp_path):
    root, stranger = other_pki()
    path = tmp_path / "stranger.p12"
    path.write_bytes(pki.pkcs12_bytes(stranger, "stranger", b"x"))
    signed = Pkcs12Signer(path, b"x").sign(
        services.read_document(receipt),
        reason="",
        location="",
        field_name="La",
        appearance=Appearance(box=(90, 30, 320, 88)),
    )
    report = verification.verify_pdf(signed, trust_roots=selectors.trust_roots())
    [sig] = report.signatures
    assert sig.intact and sig.valid and not sig.trusted and not report.all_ok
    assert "không do tổ chức chứng thực tin cậy cấp" in sig.summary
    # The same file is trusted by whoever trusts that root: the check is about the roots.
    assert verification.verify_pdf(signed, trust_roots=[root.certificate]).all_ok


def test_an_expired_certificate_is_refused_before_signing(demo_pki, receipt):
    before = services.read_document(receipt)
    expired = certificate_of("lanhdao.tinh", label__contains="hết hạn")
    assert expired not in selectors.usable_certificates(expired.user)
    with pytest.raises(CertificateRefused) as excinfo:
        services.sign_document(receipt, actor=expired.user, certificate=expired)
    assert excinfo.value.problem == pki.Problem.EXPIRED
    assert "đã hết hạn từ" in str(excinfo.value) and expired.user.full_name in str(excinfo.value)
    nothing_signed(receipt, before)


def test_a_revoked_certificate_is_refused_before_signing(demo_pki, receipt):
    before = services.read_document(receipt)
    revoked = certificate_of("lanhdao.tinh", label__contains="thu hồi")
    with pytest.raises(CertificateRefused) as excinfo:
        services.sign_document(receipt, actor=revoked.user, certificate=revoked)
    assert excinfo.value.problem == pki.Problem.REVOKED and "đã bị thu hồi" in str(excinfo.value)
    nothing_signed(receipt, before)


def test_the_crl_alone_is_enough_to_refuse(demo_pki, receipt):
    """The CA's CRL lists the certificate even if nobody flagged it here."""
    before = services.read_document(receipt)
    revoked = certificate_of("lanhdao.tinh", label__contains="thu hồi")
    SigningCertificate.objects.filter(pk=revoked.pk).update(revoked_at=None)
    revoked.refresh_from_db()
    with pytest.raises(CertificateRefused, match="thu hồi"):
        services.sign_document(receipt, actor=revoked.user, certificate=revoked)
    RevocationList.objects.all().delete()
    services.sign_document(receipt, actor=revoked.user, certificate=revoked)  # without the CRL it would sign
    assert DocumentSignature.objects.filter(document=receipt).count() == 1
    assert before != stored_bytes(receipt)


def test_revoking_in_the_desk_stops_signing(demo_pki, receipt):
    leader = user("lanhdao.vinhyen")
    certificate = selectors.usable_certificates(leader).get()
    services.revoke_certificate(certificate, actor=user("admin"), reason="Mất token")
    with pytest.raises(SigningError):
        services.sign_document(receipt, actor=leader)  # no usable certificate left
    with pytest.raises(CertificateRefused):
        services.sign_document(receipt, actor=leader, certificate=certificate)
    with pytest.raises(PermissionDenied):
        services.revoke_certificate(certificate, actor=leader)


def test_a_certificate_not_yet_valid_is_refused(receipt, tmp_path, demo_pki):
    now = datetime.now(UTC)
    future = pki.issue_signing_certificate(
        pki.name("Người ký tương lai"),
        demo_pki.issuing,
        not_before=now + timedelta(days=2),
        not_after=now + timedelta(days=30),
    )
    path = tmp_path / "future.p12"
    path.write_bytes(pki.pkcs12_bytes(future, "f", b"x"))
    with pytest.raises(CertificateRefused) as excinfo:
        Pkcs12Signer(path, b"x").sign(services.read_document(receipt), reason="", location="", field_name="F")
    assert excinfo.value.problem == pki.Problem.NOT_YET_VALID and "chỉ có hiệu lực từ" in str(excinfo.value)


def test_a_ca_certificate_cannot_sign(receipt, tmp_path, demo_pki):
    path = tmp_path / "ca.p12"
    path.write_bytes(pki.pkcs12_bytes(demo_pki.issuing, "ca", b"x"))
    with pytest.raises(CertificateRefused) as excinfo:
        Pkcs12Signer(path, b"x").sign(services.read_document(receipt), reason="", location="", field_name="F")
    assert excinfo.value.problem == pki.Problem.NOT_FOR_SIGNING


def test_a_wrong_or_missing_passphrase_signs_nothing(demo_pki, receipt, pki_files, monkeypatch):
    before = services.read_document(receipt)
    certificate = certificate_of("lanhdao.vinhyen")
    SigningCertificate.objects.filter(pk=certificate.pk).update(secret_ref="env:MOTCUA_TEST_NO_SUCH_SECRET")
    certificate.refresh_from_db()
    with pytest.raises(SigningError, match="chưa được cấu hình bí mật"):
        services.sign_document(receipt, actor=certificate.user, certificate=certificate)
    monkeypatch.setenv("MOTCUA_TEST_NO_SUCH_SECRET", "sai-mat-khau")
    with pytest.raises(SigningError, match="sai mật khẩu"):
        services.sign_document(receipt, actor=certificate.user, certificate=certificate)
    SigningCertificate.objects.filter(pk=certificate.pk).update(secret_ref="file:../../etc/passwd")
    certificate.refresh_from_db()
    with pytest.raises(SigningError, match="thư mục PKI"):
        services.sign_document(receipt, actor=certificate.user, certificate=certificate)
    nothing_signed(receipt, before)


def test_only_the_owner_signs_and_only_documents_in_scope(demo_pki, receipt):
    before = services.read_document(receipt)
    with pytest.raises(PermissionDenied):
        services.sign_document(receipt, actor=user("lanhdao.vinhyen"), certificate=certificate_of("vanthu.lienbao"))
    with pytest.raises(PermissionDenied):  # Bình Xuyên's leader does not see a Liên Bảo document
        services.sign_document(receipt, actor=user("lanhdao.binhxuyen"))
    with pytest.raises(SigningError, match="chưa có chứng thư số"):
        services.sign_document(receipt, actor=user("motcua.lienbao"))
    nothing_signed(receipt, before)


def test_a_document_changed_on_disk_is_not_signed(demo_pki, receipt):
    with receipt.file.open("ab") as handle:
        handle.write(b"% tampered\n")
    with pytest.raises(SigningError, match="không khớp"):
        services.sign_document(receipt, actor=user("lanhdao.vinhyen"))
    assert DocumentSignature.objects.count() == 0


def test_a_concurrent_signature_is_detected(demo_pki, receipt, monkeypatch):
    """Two signers read the same version; the one who stores second must not overwrite the first."""
    original = services.signer_for

    class SignsAfterTheOther:
        def __init__(self, inner):
            self.inner = inner

        def sign(self, pdf, **kwargs):
            monkeypatch.setattr(services, "signer_for", original)
            services.sign_document(receipt, actor=user("lanhdao.vinhyen"))  # finishes while we sign
            return self.inner.sign(pdf, **kwargs)

    monkeypatch.setattr(services, "signer_for", lambda certificate: SignsAfterTheOther(original(certificate)))
    with pytest.raises(SigningError, match="người khác ký"):
        services.sign_document(receipt, actor=user("vanthu.lienbao"))
    signed_once = stored_bytes(receipt)
    assert [s.signer_name for s in verification.verify_pdf(signed_once, trust_roots=[]).signatures] == [
        user("lanhdao.vinhyen").full_name
    ]
    assert DocumentSignature.objects.count() == 1


def test_an_uploaded_result_is_checked_and_can_be_signed(demo_pki, dossier, tmp_path):
    from django.core.exceptions import ValidationError

    leader = user("lanhdao.vinhyen")
    agency = Agency.objects.get(code="000.21.31.H62")
    with pytest.raises(ValidationError, match="không phải văn bản PDF"):
        services.store_result(b"GIF89a...", actor=leader, title="Kết quả", agency=agency, dossier=dossier)
    with pytest.raises(ValidationError, match="bị hỏng"):
        services.store_result(b"%PDF-1.7\n1 0 obj", actor=leader, title="Kết quả", agency=agency, dossier=dossier)
    from motcua.documents import context, rendering

    pdf = rendering.render_pdf("documents/forms/refusal.html", context.sample_context("refusal"), pdf_a=True)
    result = services.store_result(
        pdf, actor=leader, title="Giấy khai sinh (bản điện tử)", agency=agency, dossier=dossier
    )
    services.sign_document(result, actor=leader)
    [status] = pyhanko_statuses(stored_bytes(result), [demo_pki.root_ca.certificate])
    assert status.bottom_line
    with pytest.raises(PermissionDenied):
        services.store_result(pdf, actor=user("lanhdao.binhxuyen"), title="x", agency=agency)


def test_signing_runs_as_a_task(demo_pki, receipt, settings):
    from motcua.documents import tasks

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    leader = user("lanhdao.vinhyen")
    result = tasks.sign_document.enqueue(receipt.pk, leader.pk)
    assert result.status == "SUCCESSFUL", result.errors
    signature = DocumentSignature.objects.get(pk=result.return_value)
    assert signature.signer == leader
    issued = tasks.issue_form.enqueue("control_sheet", receipt.dossier_id, user("motcua.lienbao").pk, True)
    assert issued.status == "SUCCESSFUL", issued.errors
    from motcua.documents.models import IssuedDocument

    assert IssuedDocument.objects.get(pk=issued.return_value).is_pdf_a


def test_a_form_is_issued_by_the_database_task_worker(dossier, settings, monkeypatch):
    """The embedded setup: enqueue into the database, then `manage.py db_worker --batch` runs it."""
    from django_tasks_db.management.commands import db_worker

    from motcua.documents import tasks
    from motcua.documents.models import IssuedDocument

    # The test runs inside one transaction; the worker's connection housekeeping would close it
    # (a connection out of autocommit looks unusable to Django), which PostgreSQL then reports.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = tasks.issue_form.enqueue("receipt", dossier.pk, user("motcua.lienbao").pk)
    assert result.status == "READY" and not IssuedDocument.objects.exists()
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL", result.errors
    document = IssuedDocument.objects.get(pk=result.return_value)
    assert document.form_key == "receipt" and services.read_document(document).startswith(b"%PDF-")


@pytest.fixture
def tsa(demo_pki, settings):
    """An RFC 3161 timestamp authority on 127.0.0.1 (pyHanko's DummyTimeStamper behind HTTP)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import tsp
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1
    from pyhanko.sign.timestamps import DummyTimeStamper

    from motcua.documents.signing.base import to_asn1

    issuing = demo_pki.issuing
    key = pki.new_key()
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(pki.name("Máy chủ cấp dấu thời gian (thử)"))
        .issuer_name(issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(issuing.key, hashes.SHA256())
    )
    stamper = DummyTimeStamper(
        tsa_cert=to_asn1(certificate),
        tsa_key=translate_pyca_cryptography_key_to_asn1(key),
        certs_to_embed=[to_asn1(c) for c in issuing.chain] + [to_asn1(issuing.certificate)],
    )
    requests_seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            requests_seen.append(self.headers["Content-Type"])
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.MOTCUA_TSA_URL = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    yield requests_seen
    server.shutdown()
    server.server_close()


def test_with_a_timestamp_authority_the_signature_is_timestamped(tsa, receipt):
    services.sign_document(receipt, actor=user("lanhdao.vinhyen"))
    assert tsa and all(t == "application/timestamp-query" for t in tsa)
    [sig] = verification.verify_pdf(stored_bytes(receipt), trust_roots=selectors.trust_roots()).signatures
    assert sig.timestamped and sig.bottom_line


def test_signing_and_verifying_work_beside_a_running_event_loop(demo_pki, receipt):
    # pyHanko's synchronous API calls asyncio.run, which refuses a thread whose loop runs (an async caller;
    # Playwright's sync API in the browser tests, which made later signing tests fail in the same worker).
    import asyncio

    document = services.read_document(receipt)
    signer = Pkcs12Signer(demo_pki.path("users/lanhdao.vinhyen.p12"), demo_pki.passphrase)

    async def in_a_loop():
        signed = signer.sign(document, reason="", location="", field_name="Loop")
        return verification.verify_pdf(signed, trust_roots=[demo_pki.root_ca.certificate])

    report = asyncio.run(in_a_loop())
    assert report.all_ok and report.signatures[0].field_name == "Loop"
