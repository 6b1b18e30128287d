"""The leader's "Phê duyệt, ký" signs the dossier's result, and the document clerk's "Vào sổ, đóng dấu"
adds the agency seal, in the same all-or-nothing unit as the move (issue 5).

Real components: the demo PKI (RSA keys, PKCS#12 files, a CRL), pyHanko signing and validation, the
database and the media storage. Every refusal is checked to leave nothing behind: no finished step,
no event, no IssuedDocument or signature, no file in storage.
"""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from motcua.documents import demo as pki_demo
from motcua.documents import selectors as document_selectors
from motcua.documents import services as document_services
from motcua.documents.models import DocumentSignature, IssuedDocument, SigningCertificate
from motcua.documents.verification import Outcome, verify_pdf
from motcua.dossiers.models import DossierEvent
from motcua.org.models import Role
from motcua.workflow import services
from motcua.workflow.models import StepAttachment, StepRun
from tests.workflow.conftest import PDF, current, result_pdf, staff

pytestmark = pytest.mark.django_db
Action = DossierEvent.Action
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "actions-body"}


def local_steps() -> dict:
    """All at the receiving commune: specialist 4 + leader 3 + document clerk 3 = 10 sessions (5 days)."""

    def step(key, name, budget, role, **extra):
        return {"key": key, "name": name, "kind": "task", "budget_sessions": budget, "holder": "receiving",
                "role": role, **extra}  # fmt: skip

    def move(key, source, target, action, label, role, **extra):
        return {"key": key, "from": source, "to": target, "action": action, "label": label, "role": role, **extra}

    return {
        "format": "motcua-workflow",
        "format_version": 1,
        "name": "Xã giải quyết, lãnh đạo ký, văn thư đóng dấu",
        "steps": [
            step("tham-dinh", "Công chức thẩm định", 4, Role.SPECIALIST),
            step("phe-duyet", "Lãnh đạo UBND phê duyệt, ký", 3, Role.LEADER),
            step("van-thu", "Văn thư vào sổ, đóng dấu", 3, Role.DOCUMENT_CLERK),
            {**step("tra-ket-qua", "Trả kết quả", 0, Role.CLERK, department="mot-cua"), "kind": "result"},
            {**step("tu-choi", "Trả văn bản từ chối", 0, Role.CLERK, department="mot-cua"), "kind": "refusal"},
        ],
        "transitions": [
            move("trinh", "tham-dinh", "phe-duyet", "forward", "Trình lãnh đạo", Role.SPECIALIST),
            move("phe-duyet", "phe-duyet", "van-thu", "approve", "Phê duyệt, ký", Role.LEADER, requires_signature=True),
            move("tra-lai", "phe-duyet", "tham-dinh", "return", "Trả lại chuyên viên", Role.LEADER),
            move("tu-choi", "phe-duyet", "tu-choi", "reject", "Từ chối giải quyết", Role.LEADER),
            move(
                "vao-so", "van-thu", "tra-ket-qua", "forward", "Vào sổ, đóng dấu, chuyển Một cửa", Role.DOCUMENT_CLERK
            ),
        ],
    }


@pytest.fixture
def flow(land):
    return services.replace_definition(land, None, local_steps())


@pytest.fixture
def specialist(org):
    return staff("chuyenvien.lienbao")


@pytest.fixture
def leader(org):
    return staff("lanhdao.lienbao")


@pytest.fixture
def archivist(org):
    return staff("vanthu.lienbao")


@pytest.fixture
def at_leader(flow, receive, specialist):
    """A dossier on the leader's desk, the specialist's draft (a real PDF) attached to "Trình lãnh đạo"."""
    dossier = receive(now=timezone.now() - timedelta(hours=2))
    services.act(
        dossier,
        user=specialist,
        action="trinh",
        attachments=[{"name": "du-thao.pdf", "content": result_pdf(), "kind": "draft"}],
    )
    return dossier


def files_in(media: Path) -> set[Path]:
    return {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()


def snapshot(dossier, media: Path) -> tuple:
    """Everything a refused signing must leave as it was."""
    return (
        StepRun.objects.filter(dossier=dossier).count(),
        StepRun.objects.filter(dossier=dossier, finished_at__isnull=False).count(),
        DossierEvent.objects.filter(dossier=dossier).count(),
        IssuedDocument.objects.count(),
        DocumentSignature.objects.count(),
        StepAttachment.objects.count(),
        frozenset(files_in(media)),
        tuple(IssuedDocument.objects.order_by("pk").values_list("sha256", flat=True)),
    )


def trusted_report(data: bytes):
    return verify_pdf(data, trust_roots=document_selectors.trust_roots(), crls=document_selectors.revocation_lists())


def vi(message: str, **params) -> str:
    with translation.override("vi"):
        text = translation.gettext(message)
    assert text != message, f"no Vietnamese translation for {message!r}"
    return text % params if params else text


# --- the leader signs ---------------------------------------------------------------------------------


def test_approving_signs_the_draft_and_records_the_event(pki, at_leader, leader, media):
    move = services.act(at_leader, user=leader, action="phe-duyet", comment="Đồng ý")
    assert move.current.step_key == "van-thu"

    document = IssuedDocument.objects.get(dossier=at_leader)
    assert document.title == f"Kết quả giải quyết hồ sơ {at_leader.code}"
    assert document.agency.code == "000.21.31.H62" and document.form_key == ""
    signed = document_services.read_document(document)
    assert signed.startswith(result_pdf())  # an incremental update of the draft itself
    report = trusted_report(signed)
    assert report.outcome == Outcome.SIGNED and report.all_ok
    [signature] = report.signatures
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, True)
    assert signature.signer_name == leader.full_name

    row = DocumentSignature.objects.get(document=document)
    assert row.signer == leader and row.reason == "Phê duyệt" and row.certificate.kind == "personal"
    event = DossierEvent.objects.get(dossier=at_leader, action=Action.RESULT_SIGNED)
    assert event.actor == leader
    assert event.data["document"] == document.pk
    assert event.data["verification_token"] == document.token
    assert event.data["signer"] == leader.full_name
    assert event.data["certificate_fingerprint"] == row.certificate.fingerprint
    assert event.data["signature_field"] == row.field_name == signature.field_name
    actions = list(DossierEvent.objects.filter(dossier=at_leader).order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == [Action.RESULT_SIGNED, Action.STEP_APPROVED]


def test_the_pdf_attached_to_the_approval_itself_is_the_one_signed(pki, at_leader, leader):
    final = result_pdf("QUYẾT ĐỊNH – bản cuối lãnh đạo sửa")
    services.act(
        at_leader,
        user=leader,
        action="phe-duyet",
        attachments=[{"name": "anh.png", "content": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32}, {"content": final}],
    )
    signed = document_services.read_document(IssuedDocument.objects.get(dossier=at_leader))
    assert signed.startswith(final) and not signed.startswith(result_pdf())


@pytest.mark.parametrize("case", ["no_certificate", "expired", "revoked", "no_pdf", "broken_pdf"])
def test_a_refused_signature_refuses_the_move_and_writes_nothing(case, pki, flow, receive, specialist, leader, media):
    dossier = receive(now=timezone.now() - timedelta(hours=2))
    draft = {"no_pdf": None, "broken_pdf": PDF}.get(case, result_pdf())
    files = [{"name": "du-thao.pdf", "content": draft, "kind": "draft"}] if draft else []
    services.act(dossier, user=specialist, action="trinh", attachments=files)
    own = SigningCertificate.objects.filter(user=leader)
    if case == "no_certificate":
        own.update(is_active=False)
    elif case == "expired":
        own.update(not_before=timezone.now() - timedelta(days=400), not_after=timezone.now() - timedelta(days=1))
    elif case == "revoked":
        for certificate in own:
            document_services.revoke_certificate(certificate, reason="Mất thiết bị ký")
    before = snapshot(dossier, media)

    with pytest.raises(ValidationError) as refused:
        services.act(dossier, user=leader, action="phe-duyet")

    assert snapshot(dossier, media) == before
    assert current(dossier).step_key == "phe-duyet"
    assert not DossierEvent.objects.filter(dossier=dossier, action=Action.RESULT_SIGNED).exists()
    text = " ".join(refused.value.messages)
    expected = {
        "no_certificate": vi("You have no valid digital signing certificate: ask the administrator to register yours."),
        "expired": "đã hết hạn",
        "revoked": "đã bị thu hồi",
        "no_pdf": "Chưa có tệp PDF kết quả để ký",
        "broken_pdf": "Không đọc được tệp PDF kết quả",
    }[case]
    assert expected in text, text


def test_where_leaders_sign_on_paper_the_approval_only_records_it(settings, flow, receive, specialist, leader):
    settings.MOTCUA_SIGN_RESULTS = False
    dossier = receive(now=timezone.now() - timedelta(hours=2))
    services.act(dossier, user=specialist, action="trinh")
    move = services.act(dossier, user=leader, action="phe-duyet")  # no certificate, no PDF: not signed here
    assert move.finished.requires_signature and move.current.step_key == "van-thu"
    assert not IssuedDocument.objects.filter(dossier=dossier).exists()
    assert not DossierEvent.objects.filter(dossier=dossier, action=Action.RESULT_SIGNED).exists()


def test_someone_not_holding_the_step_cannot_sign(pki, at_leader, media):
    other_leader = staff("lanhdao.tichson")
    before = snapshot(at_leader, media)
    with pytest.raises(PermissionDenied):
        services.act(at_leader, user=other_leader, action="phe-duyet")
    assert snapshot(at_leader, media) == before


def test_nobody_signs_with_a_certificate_that_is_not_theirs(pki, at_leader, leader, archivist, media):
    services.act(at_leader, user=leader, action="phe-duyet")
    document = IssuedDocument.objects.get(dossier=at_leader)
    before = snapshot(at_leader, media)
    leaders_certificate = document_services.result_certificate(leader)
    with pytest.raises(PermissionDenied):
        document_services.sign_document(document, actor=archivist, certificate=leaders_certificate)
    assert snapshot(at_leader, media) == before


def test_a_changed_byte_is_detected(pki, at_leader, leader):
    services.act(at_leader, user=leader, action="phe-duyet")
    signed = bytearray(document_services.read_document(IssuedDocument.objects.get(dossier=at_leader)))
    marker = signed.index(b"/MediaBox")  # inside the signed revision
    signed[marker + 1] = ord("N")  # /MediaBox → /NediaBox
    report = trusted_report(bytes(signed))
    assert not report.all_ok
    assert not all(s.intact for s in report.signatures)


# --- the document clerk seals --------------------------------------------------------------------------


def test_registering_adds_the_agency_seal_and_both_signatures_stay_valid(pki, at_leader, leader, archivist):
    services.act(at_leader, user=leader, action="phe-duyet")
    move = services.act(at_leader, user=archivist, action="vao-so")
    assert move.current.step_key == "tra-ket-qua"

    document = IssuedDocument.objects.get(dossier=at_leader)
    run = move.current.run
    assert run.result_number and document.title == f"Kết quả giải quyết hồ sơ {at_leader.code}, số {run.result_number}"
    report = trusted_report(document_services.read_document(document))
    assert report.outcome == Outcome.SIGNED and report.all_ok
    assert len(report.signatures) == 2
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    first, second = report.signatures
    assert first.coverage == "entire_revision" and first.later_changes in ("", "signatures")
    assert second.coverage == "entire_file"
    kinds = list(document.signatures.order_by("signed_at", "pk").values_list("certificate__kind", flat=True))
    assert kinds == ["personal", "seal"]
    seal_event = DossierEvent.objects.filter(dossier=at_leader, action=Action.RESULT_SIGNED).order_by("pk").last()
    assert seal_event.actor == archivist and seal_event.data["signature_kind"] == "seal"
    assert DossierEvent.objects.filter(dossier=at_leader, action=Action.RESULT_SIGNED).count() == 2


def test_a_clerk_without_the_seal_cannot_register_and_nothing_changes(pki, at_leader, leader, archivist, media):
    services.act(at_leader, user=leader, action="phe-duyet")
    SigningCertificate.objects.filter(user=archivist, kind=SigningCertificate.Kind.SEAL).update(is_active=False)
    before = snapshot(at_leader, media)
    with pytest.raises(ValidationError) as refused:
        services.act(at_leader, user=archivist, action="vao-so")
    assert snapshot(at_leader, media) == before
    assert "con dấu số" in " ".join(refused.value.messages)
    assert current(at_leader).step_key == "van-thu"
    assert services.WorkflowRun.objects.get(dossier=at_leader).result_number == ""  # the number is not used up


# --- the pages ----------------------------------------------------------------------------------------


def test_the_refusal_shows_next_to_the_action_in_vietnamese(client, pki, flow, receive, specialist, leader, media):
    dossier = receive(now=timezone.now() - timedelta(hours=2))
    services.act(dossier, user=specialist, action="trinh")  # no draft attached
    client.force_login(leader)
    page = unescape(client.get(reverse("dossiers:detail", args=[dossier.code])).content.decode())
    assert "Kết quả sẽ được ký số bằng chứng thư" in page
    before = snapshot(dossier, media)
    response = client.post(
        reverse("workflow:act", args=[dossier.code]),
        {"action": "phe-duyet", "expected_step": current(dossier).pk},
        **HX,
    )
    assert response.status_code == 422
    assert "Chưa có tệp PDF kết quả để ký" in unescape(response.content.decode())
    assert snapshot(dossier, media) == before


def test_the_dossier_page_lists_the_signed_result_and_staff_download_is_checked(
    client, pki, at_leader, leader, archivist
):
    services.act(at_leader, user=leader, action="phe-duyet")
    document = IssuedDocument.objects.get(dossier=at_leader)
    client.force_login(archivist)
    page = unescape(client.get(reverse("dossiers:detail", args=[at_leader.code])).content.decode())
    assert 'id="issued-documents"' in page and document.title in page
    assert reverse("documents:verify-token", args=[document.token]) in page
    assert f"Ký: {leader.full_name}" in page
    assert "Khi vào sổ, văn bản" in page  # the clerk is told the seal goes with the registration
    # The timeline shows the signature readably.
    assert "Người ký" in page and "Dấu vân tay chứng thư (SHA-256)" in page and "chữ ký cá nhân" in page

    download = client.get(reverse("workflow:issued-document", args=[document.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == document_services.read_document(document)

    client.force_login(staff("chuyenvien.tamhop"))  # another commune: not in scope
    assert client.get(reverse("workflow:issued-document", args=[document.pk])).status_code == 404


# --- remote signing: no transaction is open while the signer confirms on the phone -----------------------


def test_a_remote_signature_is_made_before_the_transaction_that_moves_the_dossier(
    pki, at_leader, leader, settings, monkeypatch, media
):
    """Invariant 6: every HTTP call to the remote-signing service happens at the atomic depth the
    caller had (no transaction of ``act`` open, the dossier's row not locked); the signature is then
    stored with the move."""
    from django.db import connection

    from motcua.documents.signing.remote import RemoteSigningClient
    from motcua.documents.simulators.remote_signing import RemoteSigningSimulator

    # The leader signs only through the remote service (the demo's remote account, lent to this leader).
    SigningCertificate.objects.filter(user=leader).update(is_active=False)
    remote = SigningCertificate.objects.get(mode="remote")
    SigningCertificate.objects.filter(pk=remote.pk).update(user=leader)
    baseline = len(connection.atomic_blocks)  # the test's own transaction, outside ``act``
    depths: list[int] = []
    call = RemoteSigningClient._call

    def watched(self, method, path, body=None):
        depths.append(len(connection.atomic_blocks))
        return call(self, method, path, body)

    monkeypatch.setattr(RemoteSigningClient, "_call", watched)
    with RemoteSigningSimulator(sp_id="motcua-test", hang_seconds=2.0) as simulator:
        for account, issued in pki_demo.remote_accounts():
            simulator.add_account(account, issued.key, issued.certificate, issued.chain)
        simulator.approve_after_polls = 2
        monkeypatch.setenv("MOTCUA_REMOTE_SIGNING_SP_PASSWORD", simulator.sp_password)
        settings.MOTCUA_REMOTE_SIGNING = {
            "URL": simulator.base_url,
            "SP_ID": "motcua-test",
            "READ_TIMEOUT": 2,
            "POLL_INTERVAL": 0.05,
            "MAX_WAIT": 5,
        }
        move = services.act(at_leader, user=leader, action="phe-duyet")

    assert move.current.step_key == "van-thu"
    assert len(depths) >= 4  # certificate lookup, sign, and the polls until the signer approved
    assert depths == [baseline] * len(depths), depths
    document = IssuedDocument.objects.get(dossier=at_leader)
    row = DocumentSignature.objects.get(document=document)
    assert row.mode == "remote" and row.certificate_id == remote.pk
    report = trusted_report(document_services.read_document(document))
    assert report.outcome == Outcome.SIGNED and report.all_ok
    assert DossierEvent.objects.filter(dossier=at_leader, action=Action.RESULT_SIGNED).count() == 1


def test_a_signature_made_for_a_step_someone_else_finished_meanwhile_is_not_kept(
    pki, at_leader, leader, monkeypatch, media
):
    """The signature is made outside the transaction: if the step is finished meanwhile (here the
    same leader returns the dossier from another tab while the first signature is being made), the
    move is refused as a conflict and the signed bytes are never stored."""
    other = staff("lanhdao.lienbao")  # the same person, another request
    prepare = document_services.prepare_result
    before: list[tuple] = []

    def meanwhile(*args, **kwargs):
        prepared = prepare(*args, **kwargs)
        services.act(at_leader, user=other, action="tra-lai", comment="Bổ sung căn cứ")  # finished by someone
        before.append(snapshot(at_leader, media))
        return prepared

    monkeypatch.setattr(document_services, "prepare_result", meanwhile)
    with pytest.raises(services.WorkflowConflict):
        services.act(at_leader, user=leader, action="phe-duyet")
    assert snapshot(at_leader, media) == before[0]
    assert not IssuedDocument.objects.filter(dossier=at_leader).exists()
    assert current(at_leader).step_key == "tham-dinh"
