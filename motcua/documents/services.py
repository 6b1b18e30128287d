"""The only code that changes the documents app's rows: template overrides, trust material,
signing certificates, issued documents and their signatures.

Signing never happens inside a database transaction (invariant 6: a remote service may take
minutes): the PDF is read, signed and re-validated first; then, in a short transaction, the
document row is locked and the new version stored only if nobody changed it meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.misc import PdfError

from motcua.documents import conf, context, pki, registry, rendering, sandbox, selectors
from motcua.documents.models import (
    DocumentSignature,
    IssuedDocument,
    RevocationList,
    SigningCertificate,
    SigningMode,
    TemplateOverride,
    TrustedRoot,
    document_upload_to,
    new_token,
)
from motcua.documents.signing.base import Appearance, Revocation, Signer, SigningError
from motcua.documents.verification import Outcome, verify_pdf
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.org.models import AdministrativeUnit, Agency, Role
from motcua.org.selectors import is_system_admin, unit_in_scope
from motcua.text import normalize

logger = logging.getLogger(__name__)

#: Where visible stamps go on the last page (points from the bottom left of an A4 page):
#: the leader's signature on the right, the agency seal on the left, above the bottom margin.
STAMP_BOXES = {
    SigningCertificate.Kind.PERSONAL: (330, 30, 560, 88),
    SigningCertificate.Kind.SEAL: (90, 30, 320, 88),
}
FIELD_PREFIX = {SigningCertificate.Kind.PERSONAL: "KyDuyet", SigningCertificate.Kind.SEAL: "DongDau"}


# --- template overrides ---------------------------------------------------------------------------


def _check_scope(actor, unit: AdministrativeUnit | None, agency: Agency | None) -> None:
    if (unit is None) == (agency is None):
        raise ValidationError(_("Choose either an administrative unit or an agency for the override."))
    target = unit if unit is not None else agency.unit
    if not (is_system_admin(actor) or (actor.has_role(Role.UNIT_ADMIN) and unit_in_scope(actor, target))):
        raise PermissionDenied(_("You may only change the forms of your own unit and the units below it."))


def check_template(form_key: str, body: str) -> None:
    """ValidationError on ``body`` (one message per problem, with its line) when the sandbox refuses it."""
    try:
        sandbox.check_override(body, context.sample_context(form_key))
    except sandbox.TemplateRejected as exc:
        raise ValidationError({"body": [str(p) for p in exc.problems]}) from exc


@transaction.atomic
def save_override(
    *,
    actor,
    form_key: str,
    body: str,
    unit: AdministrativeUnit | None = None,
    agency: Agency | None = None,
    note: str = "",
    override: TemplateOverride | None = None,
    now: datetime | None = None,
) -> TemplateOverride:
    """Create an override (or a new version of ``override``) after the sandbox accepted it; the
    active override previously in force for the same form and scope is deactivated."""
    registry.FormKey(form_key)
    _check_scope(actor, unit, agency)
    body = body.replace("\r\n", "\n")
    check_template(form_key, body)
    moment = now or timezone.now()
    if (
        override is not None
        and override.pk
        and (override.unit_id != getattr(unit, "pk", None) or override.agency_id != getattr(agency, "pk", None))
    ):
        _check_scope(actor, override.unit, override.agency)  # moving it: the old scope must be the actor's too
    same_scope = TemplateOverride.objects.select_for_update().filter(
        form_key=form_key, unit=unit, agency=agency, is_active=True
    )
    if override is not None and override.pk:
        same_scope = same_scope.exclude(pk=override.pk)
    for previous in same_scope:
        previous.is_active = False
        previous.updated_by, previous.updated_at = actor, moment
        previous.save(update_fields=["is_active", "updated_by", "updated_at"])
    target = override or TemplateOverride(created_by=actor, created_at=moment)
    target.form_key, target.unit, target.agency = form_key, unit, agency
    target.body, target.note, target.is_active = body, normalize(note), True
    target.updated_by, target.updated_at = actor, moment
    target.save()
    return target


@transaction.atomic
def deactivate_override(override: TemplateOverride, *, actor, now: datetime | None = None) -> TemplateOverride:
    """Roll back to the default (or to the override of a wider scope): the row stays, inactive."""
    _check_scope(actor, override.unit, override.agency)
    override.is_active = False
    override.updated_by, override.updated_at = actor, now or timezone.now()
    override.save(update_fields=["is_active", "updated_by", "updated_at"])
    return override


def preview_pdf(form_key: str, *, body: str | None = None, override: TemplateOverride | None = None) -> bytes:
    """The form rendered with the sample dossier (no state change): an unsaved body is checked first."""
    if body is not None:
        check_template(form_key, body)
        template = sandbox.engine().from_string(body)
    elif override is not None:
        template = selectors.compiled_template(override)
    else:
        template = registry.default_template(form_key)
    return rendering.render_pdf(template, context.sample_context(form_key))


# --- trust material -------------------------------------------------------------------------------------


def _require_system_admin(actor) -> None:
    if actor is not None and not is_system_admin(actor):
        raise PermissionDenied(_("Only the system administrator manages trusted roots and revocation lists."))


def add_trusted_root(pem: str, *, name: str = "", unit: AdministrativeUnit | None = None, actor=None) -> TrustedRoot:
    """Trust a root certificate (idempotent by fingerprint)."""
    _require_system_admin(actor)
    try:
        certificate = pki.load_certificate(pem)
    except ValueError as exc:
        raise ValidationError({"certificate_pem": _("This is not a certificate in PEM or DER form.")}) from exc
    facts = pki.describe(certificate)
    if not facts.is_ca:
        raise ValidationError({"certificate_pem": _("This certificate is not a certification authority.")})
    root, _created = TrustedRoot.objects.update_or_create(
        fingerprint=facts.fingerprint,
        defaults={
            "name": normalize(name) or facts.common_name,
            "certificate_pem": pki.pem(certificate),
            "subject": certificate.subject.rfc4514_string()[:500],
            "not_after": facts.not_after,
            "unit": unit,
            "is_active": True,
        },
    )
    return root


def store_crl(pem: str, *, actor=None) -> RevocationList:
    """Keep the latest CRL of its issuer (an older CRL than the one stored is refused)."""
    _require_system_admin(actor)
    try:
        crl = pki.load_crl(pem)
    except ValueError as exc:
        raise ValidationError({"crl_pem": _("This is not a certificate revocation list in PEM or DER form.")}) from exc
    issuer_key = pki.sha256_hex(crl.issuer.public_bytes())
    current = RevocationList.objects.filter(issuer_key=issuer_key).first()
    if current is not None and current.this_update > crl.last_update_utc:
        raise ValidationError({"crl_pem": _("A newer revocation list of this issuer is already stored.")})
    row, _created = RevocationList.objects.update_or_create(
        issuer_key=issuer_key,
        defaults={
            "issuer": crl.issuer.rfc4514_string()[:500],
            "crl_pem": pki.crl_pem(crl),
            "this_update": crl.last_update_utc,
            "next_update": crl.next_update_utc,
            "revoked_count": len(list(crl)),
        },
    )
    return row


# --- certificates ---------------------------------------------------------------------------------------


def check_registration(
    *,
    certificate: x509.Certificate | str,
    mode: str,
    key_file: str = "",
    secret_ref: str = "",
    token_label: str = "",
    remote_user_id: str = "",
    new: bool = False,
) -> x509.Certificate:
    """The certificate, after checking it can sign and that its key is where the row says;
    ValidationError by field otherwise. A PKCS#12 file is opened: its certificate must be this one."""
    if isinstance(certificate, str):
        try:
            certificate = pki.load_certificate(certificate)
        except ValueError as exc:
            raise ValidationError({"certificate_pem": _("This is not a certificate in PEM or DER form.")}) from exc
    SigningMode(mode)
    facts = pki.describe(certificate)
    errors: dict[str, str] = {}
    if not facts.can_sign_documents:
        errors["certificate_pem"] = _("This certificate is not meant for signing documents.")
    elif new and SigningCertificate.objects.filter(fingerprint=facts.fingerprint).exists():
        errors["certificate_pem"] = _("This certificate is already registered.")
    if mode == SigningMode.PKCS12:
        if not key_file or not secret_ref:
            errors["key_file"] = _("A PKCS#12 certificate needs its file and the reference of its passphrase.")
        else:
            from motcua.documents.signing.pkcs12 import load_pkcs12

            try:
                loaded = load_pkcs12(conf.key_path(key_file), conf.resolve_secret(secret_ref).encode())
            except SigningError as exc:
                errors["key_file"] = str(exc)
            else:
                if loaded.signing_cert.sha256.hex() != facts.fingerprint:
                    errors["key_file"] = _("The PKCS#12 file holds another certificate.")
    elif mode == SigningMode.PKCS11 and not token_label:
        errors["token_label"] = _("A token certificate needs the label of its key on the token.")
    elif mode == SigningMode.REMOTE and not remote_user_id:
        errors["remote_user_id"] = _("A remote certificate needs the signer's account at the service.")
    if errors:
        raise ValidationError(errors)
    return certificate


def register_certificate(
    *,
    user,
    certificate: x509.Certificate | str,
    mode: str,
    label: str = "",
    kind: str = SigningCertificate.Kind.PERSONAL,
    agency: Agency | None = None,
    key_file: str = "",
    secret_ref: str = "",
    token_label: str = "",
    remote_user_id: str = "",
    actor=None,
) -> SigningCertificate:
    """Record which certificate ``user`` signs with and where its key is (idempotent by fingerprint)."""
    if actor is not None and not (is_system_admin(actor) or actor.has_role(Role.UNIT_ADMIN)):
        raise PermissionDenied(_("Only administrators register signing certificates."))
    if actor is not None and not (is_system_admin(actor) or unit_in_scope(actor, user.unit)):
        raise PermissionDenied(_("You may only register certificates of people in your unit."))
    certificate = check_registration(
        certificate=certificate,
        mode=mode,
        key_file=key_file,
        secret_ref=secret_ref,
        token_label=token_label,
        remote_user_id=remote_user_id,
    )
    facts = pki.describe(certificate)
    row, _created = SigningCertificate.objects.update_or_create(
        fingerprint=facts.fingerprint,
        defaults={
            "user": user,
            "label": normalize(label) or facts.common_name,
            "kind": kind,
            "agency": agency,
            "mode": mode,
            "certificate_pem": pki.pem(certificate),
            "subject_name": facts.common_name,
            "organisation": facts.organisation,
            "issuer_name": facts.issuer_name[:500],
            "serial_number": facts.serial_hex,
            "not_before": facts.not_before,
            "not_after": facts.not_after,
            "key_file": key_file,
            "secret_ref": secret_ref,
            "token_label": token_label,
            "remote_user_id": remote_user_id,
        },
    )
    return row


def revoke_certificate(
    certificate: SigningCertificate, *, actor=None, reason: str = "", now: datetime | None = None
) -> SigningCertificate:
    """Mark a certificate revoked here (its CA's CRL may follow later): it signs nothing more."""
    if actor is not None and not (is_system_admin(actor) or actor.has_role(Role.UNIT_ADMIN)):
        raise PermissionDenied(_("Only administrators revoke signing certificates."))
    if certificate.revoked_at is None:
        certificate.revoked_at = now or timezone.now()
        certificate.revocation_reason = normalize(reason)
        certificate.save(update_fields=["revoked_at", "revocation_reason"])
    return certificate


def revocation_for(certificate: SigningCertificate) -> Revocation:
    return Revocation(revoked=certificate.revoked_at is not None, crls=tuple(selectors.revocation_lists()))


def signer_for(certificate: SigningCertificate) -> Signer:
    """The Signer of the certificate's mode, with the secrets resolved from the environment."""
    common: dict[str, Any] = {"revocation": revocation_for(certificate), "tsa_url": conf.tsa_url()}
    if certificate.mode == SigningMode.PKCS12:
        from motcua.documents.signing.pkcs12 import Pkcs12Signer

        passphrase = conf.resolve_secret(certificate.secret_ref).encode()
        return Pkcs12Signer(conf.key_path(certificate.key_file), passphrase, **common)
    if certificate.mode == SigningMode.PKCS11:
        from motcua.documents.signing.pkcs11 import Pkcs11Signer

        token = conf.pkcs11()
        if not token["LIBRARY"] or not token["TOKEN_LABEL"]:
            raise SigningError(_("No PKCS#11 token is configured on this server (MOTCUA_PKCS11)."))
        return Pkcs11Signer(
            library=token["LIBRARY"],
            token_label=token["TOKEN_LABEL"],
            pin=conf.resolve_secret(certificate.secret_ref),
            key_label=certificate.token_label,
            **common,
        )
    from motcua.documents.signing.remote import RemoteSigner, RemoteSigningClient

    return RemoteSigner(
        RemoteSigningClient(conf.remote_signing()),
        certificate.remote_user_id,
        serial_number=certificate.serial_number,
        **common,
    )


# --- issued documents -----------------------------------------------------------------------------------


def _store(document: IssuedDocument, data: bytes, filename: str) -> str:
    return default_storage.save(document_upload_to(document, filename), ContentFile(data))


def _discard(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:  # pragma: no cover - best effort on a failed transaction
        logger.warning("Could not delete the orphan file %s", name)


def issue_form(
    form_key: str,
    dossier,
    *,
    actor,
    now: datetime | None = None,
    extra: dict[str, Any] | None = None,
    pdf_a: bool = False,
) -> IssuedDocument:
    """Render ``form_key`` for ``dossier`` with the template in force for its receiving agency,
    and keep the PDF (its QR links to the public verification page of this very document)."""
    key = registry.FormKey(form_key)
    if not dossiers_visible_to(actor).filter(pk=dossier.pk).exists():
        raise PermissionDenied(_("You may not issue documents for this dossier."))
    agency = dossier.receiving_agency
    token = new_token()
    choice = selectors.select_template(key, agency)
    data = context.dossier_context(dossier, key, now=now, officer=actor, extra=extra, verification_token=token)
    pdf = rendering.render_pdf(selectors.compiled_template(choice), data, pdf_a=pdf_a)
    moment = now or timezone.now()
    document = IssuedDocument(
        token=token,
        title=f"{registry.TITLES[key]} – {dossier.code or dossier.applicant_name}",
        form_key=key,
        dossier=dossier,
        agency=agency,
        is_pdf_a=pdf_a,
        template_override=choice if isinstance(choice, TemplateOverride) else None,
        created_by=actor,
        created_at=moment,
        updated_at=moment,
        sha256=pki.sha256_hex(pdf),
        size=len(pdf),
    )
    name = _store(document, pdf, f"{key.value}.pdf")
    try:
        with transaction.atomic():
            document.file.name = name
            document.save()
    except Exception:
        _discard(name)
        raise
    return document


def store_result(
    pdf: bytes, *, actor, title: str, agency: Agency, dossier=None, now: datetime | None = None
) -> IssuedDocument:
    """Keep a result PDF (prepared elsewhere) so that it can be signed; refuses anything but a readable PDF."""
    if dossier is not None and not dossiers_visible_to(actor).filter(pk=dossier.pk).exists():
        raise PermissionDenied(_("You may not add documents to this dossier."))
    if not (is_system_admin(actor) or unit_in_scope(actor, agency.unit)):
        raise PermissionDenied(_("You may not add documents for this agency."))
    report = verify_pdf(pdf, trust_roots=[])
    if report.outcome in (Outcome.NOT_PDF, Outcome.BROKEN, Outcome.ENCRYPTED):
        raise ValidationError({"file": report.message})
    moment = now or timezone.now()
    document = IssuedDocument(
        title=normalize(title),
        dossier=dossier,
        agency=agency,
        created_by=actor,
        created_at=moment,
        updated_at=moment,
        sha256=pki.sha256_hex(pdf),
        size=len(pdf),
    )
    name = _store(document, pdf, "ket-qua.pdf")
    try:
        with transaction.atomic():
            document.file.name = name
            document.save()
    except Exception:
        _discard(name)
        raise
    return document


def read_document(document: IssuedDocument) -> bytes:
    with default_storage.open(document.file.name, "rb") as handle:
        return handle.read()


@dataclass(frozen=True)
class SignOutcome:
    document: IssuedDocument
    signature: DocumentSignature


def _next_field_name(document: IssuedDocument, kind: str) -> str:
    used = set(document.signatures.values_list("field_name", flat=True))
    prefix = FIELD_PREFIX[kind]
    number = 1
    while f"{prefix}{number}" in used:
        number += 1
    return f"{prefix}{number}"


def _signed_and_checked(
    pdf: bytes, *, certificate: SigningCertificate, reason: str, location: str, field_name: str, visible: bool
) -> bytes:
    """``pdf`` with the certificate's new signature in ``field_name``, re-validated as a whole file.

    This is where the outside world may be called (a remote service, a timestamp server): never
    call it with a transaction open (invariant 6)."""
    appearance = Appearance(box=STAMP_BOXES[certificate.kind]) if visible else None
    signed = signer_for(certificate).sign(
        pdf, reason=reason, location=location, field_name=field_name, appearance=appearance
    )
    report = verify_pdf(signed, trust_roots=selectors.trust_roots(), crls=selectors.revocation_lists())
    broken = [s for s in report.signatures if not (s.intact and s.valid)]
    if report.outcome != Outcome.SIGNED or broken or report.signatures[-1].field_name != field_name:
        raise SigningError(_("The signed file did not pass validation; it was not stored."))
    return signed


def sign_document(
    document: IssuedDocument,
    *,
    actor,
    certificate: SigningCertificate | None = None,
    reason: str = "",
    location: str = "",
    visible: bool = True,
    now: datetime | None = None,
) -> SignOutcome:
    """Add ``actor``'s signature (PAdES, incremental) to ``document``, re-validate the whole file,
    and store the new version. Nothing is stored when anything fails."""
    if not selectors.documents_visible_to(actor).filter(pk=document.pk).exists():
        raise PermissionDenied(_("You may not sign this document."))
    document = IssuedDocument.objects.select_related("agency__unit").get(pk=document.pk)  # the current version
    if certificate is None:
        certificate = selectors.usable_certificates(actor, now).first()
        if certificate is None:
            raise SigningError(_("You have no valid signing certificate."))
    if certificate.user_id != actor.pk or not certificate.is_active:
        raise PermissionDenied(_("This certificate is not yours to sign with."))
    before = read_document(document)
    before_sha = pki.sha256_hex(before)
    if before_sha != document.sha256:
        raise SigningError(_("The stored file does not match its record; it was not signed."))
    field_name = _next_field_name(document, certificate.kind)
    if not reason:
        reason = _("Agency seal") if certificate.kind == SigningCertificate.Kind.SEAL else _("Approved")
    signed = _signed_and_checked(
        before,
        certificate=certificate,
        reason=reason,
        location=location or context.place_name(document.agency.unit.name),
        field_name=field_name,
        visible=visible,
    )
    moment = now or timezone.now()
    name = _store(document, signed, "da-ky.pdf")
    try:
        with transaction.atomic():
            locked = IssuedDocument.objects.select_for_update().get(pk=document.pk)
            if locked.sha256 != before_sha:
                raise SigningError(_("Someone else signed this document meanwhile; open it again and sign."))
            old_name = locked.file.name
            locked.file.name = name
            locked.sha256, locked.size, locked.updated_at = pki.sha256_hex(signed), len(signed), moment
            locked.save(update_fields=["file", "sha256", "size", "updated_at"])
            signature = DocumentSignature.objects.create(
                document=locked,
                certificate=certificate,
                signer=actor,
                field_name=field_name,
                mode=certificate.mode,
                reason=reason,
                signed_at=moment,
                sha256_before=before_sha,
                sha256_after=locked.sha256,
            )
            transaction.on_commit(lambda: _discard(old_name))
    except Exception:
        _discard(name)
        raise
    return SignOutcome(locked, signature)


# --- the dossier's result, signed from the workflow -----------------------------------------------------
#
# Two phases, because a signature may call the outside world (a remote service where the signer confirms
# on a phone, a timestamp server) and invariant 6 forbids that inside the transaction that moves the
# dossier and locks its row:
#
# 1. ``prepare_result`` / ``prepare_seal``, with NO transaction open: every refusal that can be known
#    beforehand (certificate, permission, unreadable PDF), then the signature itself. The outcome is
#    signed bytes held in memory; nothing is stored, so a signature that is never committed has no effect.
# 2. ``commit_signature``, inside the caller's transaction (after it re-checked its own state): re-checks
#    the certificate and the document, stores the file and writes the rows. The stored file's name is
#    appended to ``stored`` so that the caller removes it when its transaction rolls back.
#
# Every refusal is a ValidationError (shown next to the action) or a PermissionDenied.


def certificate_problem(actor, kind: str, agency: Agency | None, moment: datetime) -> str:
    """Why ``actor`` has no usable certificate of ``kind``: revoked, expired, not yet valid, or none at all."""
    own = SigningCertificate.objects.filter(user=actor, kind=kind, is_active=True)
    if kind == SigningCertificate.Kind.SEAL and agency is not None:
        own = own.filter(agency=agency)
    revoked = own.filter(revoked_at__isnull=False).order_by("-revoked_at").first()
    expired = own.filter(not_after__lte=moment).order_by("-not_after").first()
    early = own.filter(not_before__gt=moment).order_by("not_before").first()
    if revoked is not None:
        return _("Your certificate “%(label)s” was revoked on %(date)s: it cannot sign.") % {
            "label": revoked.label,
            "date": timezone.localtime(revoked.revoked_at).strftime("%d/%m/%Y"),
        }
    if expired is not None:
        return _("Your certificate “%(label)s” expired on %(date)s: ask for a new one before signing.") % {
            "label": expired.label,
            "date": timezone.localtime(expired.not_after).strftime("%d/%m/%Y"),
        }
    if early is not None:
        return _("Your certificate “%(label)s” is only valid from %(date)s.") % {
            "label": early.label,
            "date": timezone.localtime(early.not_before).strftime("%d/%m/%Y"),
        }
    if kind == SigningCertificate.Kind.SEAL:
        return _("You hold no valid digital seal of %(agency)s: the result cannot be sealed.") % {
            "agency": agency.name if agency is not None else "—"
        }
    return _("You have no valid digital signing certificate: ask the administrator to register yours.")


def result_certificate(
    actor, kind: str = SigningCertificate.Kind.PERSONAL, agency: Agency | None = None, now: datetime | None = None
) -> SigningCertificate | None:
    """The certificate ``actor`` signs a result with: their own PERSONAL one, or the SEAL of ``agency``."""
    usable = selectors.usable_certificates(actor, now).filter(kind=kind)
    if kind == SigningCertificate.Kind.SEAL:
        usable = usable.filter(agency=agency)
    return usable.first()


def _require_certificate(actor, kind: str, agency: Agency | None, moment: datetime) -> SigningCertificate:
    certificate = result_certificate(actor, kind, agency, moment)
    if certificate is None:
        raise ValidationError({"signature": [certificate_problem(actor, kind, agency, moment)]})
    return certificate


@dataclass(frozen=True)
class PreparedSignature:
    """A signature made and validated but not stored: ``commit_signature`` keeps it, or nothing does."""

    signed: bytes
    sha256_before: str
    certificate: SigningCertificate
    actor: Any
    field_name: str
    reason: str
    agency: Agency
    #: The document that was signed; None for a result PDF that is not kept yet (a new IssuedDocument).
    document_id: int | None = None
    dossier: Any = None
    title: str = ""


def _free_field_name(pdf: bytes, kind: str, taken: set[str]) -> str:
    """The first ``KyDuyetN``/``DongDauN`` used neither by a signature row nor by a field already in ``pdf``."""
    from motcua.documents.signing.base import existing_field_names, writer_for

    taken = taken | existing_field_names(writer_for(pdf))
    number = 1
    while f"{FIELD_PREFIX[kind]}{number}" in taken:
        number += 1
    return f"{FIELD_PREFIX[kind]}{number}"


def _sign_for_result(pdf: bytes, *, certificate: SigningCertificate, reason: str, agency: Agency, taken: set[str]):
    """(field name, signed bytes), with pyHanko's and the signer's failures as the ValidationError an action shows."""
    try:
        field_name = _free_field_name(pdf, certificate.kind, taken)
        signed = _signed_and_checked(
            pdf,
            certificate=certificate,
            reason=reason,
            location=context.place_name(agency.unit.name),
            field_name=field_name,
            visible=True,
        )
    except SigningError as exc:
        raise ValidationError({"signature": [str(exc)]}) from exc
    except (PdfError, ValueError, KeyError, TypeError) as exc:  # pyHanko on a PDF it cannot extend
        logger.warning("Signing a result of agency %s failed: %r", agency.pk, exc)
        raise ValidationError(
            {"signature": [_("This PDF cannot be signed (%(problem)s); attach another one.") % {"problem": exc}]}
        ) from exc
    return field_name, signed


def prepare_result(pdf: bytes, *, actor, dossier, agency: Agency, title: str) -> PreparedSignature:
    """Sign ``pdf`` (the result or draft the leader approves) with the actor's own valid PERSONAL
    certificate, visible stamp, reason "Approved", and re-validate it, without storing anything.

    Call it with no transaction open. Raises before any signing when the actor has no such
    certificate (none, expired, revoked), may not act for the dossier or agency, or the PDF cannot
    be read. The certificate must be valid now, on the real clock: that is when the signature is made
    (pyHanko stamps it with this time), whatever moment the move itself is recorded at."""
    certificate = _require_certificate(actor, SigningCertificate.Kind.PERSONAL, None, timezone.now())
    if dossier is not None and not dossiers_visible_to(actor).filter(pk=dossier.pk).exists():
        raise PermissionDenied(_("You may not add documents to this dossier."))
    if not (is_system_admin(actor) or unit_in_scope(actor, agency.unit)):
        raise PermissionDenied(_("You may not add documents for this agency."))
    if not pdf:
        raise ValidationError({"attachments": [_("There is no PDF of the result to sign: attach it (PDF).")]})
    report = verify_pdf(pdf, trust_roots=[])
    if report.outcome in (Outcome.NOT_PDF, Outcome.BROKEN, Outcome.ENCRYPTED):
        raise ValidationError(
            {"attachments": [_("The PDF of the result cannot be read: %(problem)s") % {"problem": report.message}]}
        )
    reason = _("Approved")
    field_name, signed = _sign_for_result(pdf, certificate=certificate, reason=reason, agency=agency, taken=set())
    return PreparedSignature(
        signed=signed,
        sha256_before=pki.sha256_hex(pdf),
        certificate=certificate,
        actor=actor,
        field_name=field_name,
        reason=reason,
        agency=agency,
        dossier=dossier,
        title=normalize(title)[:500],
    )


def prepare_seal(document: IssuedDocument, *, actor, agency: Agency) -> PreparedSignature:
    """Add the seal of ``agency`` (the document clerk's SEAL certificate) to a result the leader
    signed, as a second incremental signature that leaves the first one intact, without storing
    anything. Call it with no transaction open; like ``prepare_result``, on the real clock."""
    certificate = _require_certificate(actor, SigningCertificate.Kind.SEAL, agency, timezone.now())
    if not selectors.documents_visible_to(actor).filter(pk=document.pk).exists():
        raise PermissionDenied(_("You may not sign this document."))
    document = IssuedDocument.objects.get(pk=document.pk)  # the current version
    kinds = set(document.signatures.values_list("certificate__kind", flat=True))
    if SigningCertificate.Kind.PERSONAL not in kinds:
        raise ValidationError({"signature": [_("The result has not been signed by the leader yet.")]})
    if SigningCertificate.Kind.SEAL in kinds:
        raise ValidationError({"signature": [_("The result already bears the agency seal.")]})
    before = read_document(document)
    if pki.sha256_hex(before) != document.sha256:
        raise ValidationError({"signature": [_("The stored file does not match its record; it was not signed.")]})
    reason = _("Agency seal")
    taken = set(document.signatures.values_list("field_name", flat=True))
    field_name, signed = _sign_for_result(before, certificate=certificate, reason=reason, agency=agency, taken=taken)
    return PreparedSignature(
        signed=signed,
        sha256_before=document.sha256,
        certificate=certificate,
        actor=actor,
        field_name=field_name,
        reason=reason,
        agency=agency,
        document_id=document.pk,
    )


def commit_signature(
    prepared: PreparedSignature, *, stored: list[str], title: str = "", now: datetime | None = None
) -> SignOutcome:
    """Keep a prepared signature: the new IssuedDocument (a result) or the document's new version (a
    seal), and its DocumentSignature row. Call it inside the transaction that records the move, after
    that transaction re-checked its own state; ``title`` replaces the document's title when set.

    Refuses (ValidationError) when the certificate was deactivated or revoked meanwhile, or the
    document changed since it was signed; the stored file is appended to ``stored`` so that the
    caller removes it if its transaction rolls back."""
    moment = now or timezone.now()
    certificate = SigningCertificate.objects.select_related("agency").get(pk=prepared.certificate.pk)
    if not certificate.is_active or certificate.revoked_at is not None or certificate.user_id != prepared.actor.pk:
        raise ValidationError(
            {"signature": [_("Your certificate “%(label)s” can no longer sign.") % {"label": certificate.label}]}
        )
    with transaction.atomic():
        if prepared.document_id is None:
            document = IssuedDocument(
                title=title or prepared.title,
                dossier=prepared.dossier,
                agency=prepared.agency,
                created_by=prepared.actor,
                created_at=moment,
            )
            old_name = ""
        else:
            document = IssuedDocument.objects.select_for_update().get(pk=prepared.document_id)
            if document.sha256 != prepared.sha256_before:
                raise ValidationError(
                    {"signature": [_("Someone else signed this document meanwhile; open it again and sign.")]}
                )
            old_name = document.file.name
            if title:
                document.title = normalize(title)[:500]
        name = _store(document, prepared.signed, "da-ky.pdf")
        stored.append(name)
        document.file.name = name
        document.sha256, document.size, document.updated_at = (
            pki.sha256_hex(prepared.signed),
            len(prepared.signed),
            moment,
        )
        document.save()
        signature = DocumentSignature.objects.create(
            document=document,
            certificate=certificate,
            signer=prepared.actor,
            field_name=prepared.field_name,
            mode=certificate.mode,
            reason=prepared.reason,
            signed_at=moment,
            sha256_before=prepared.sha256_before,
            sha256_after=document.sha256,
        )
        if old_name:
            transaction.on_commit(lambda: _discard(old_name))
    return SignOutcome(document, signature)


def signed_event_data(outcome: SignOutcome) -> dict[str, Any]:
    """The RESULT_SIGNED event's data: which document, how to verify it, who signed with what."""
    signature, certificate = outcome.signature, outcome.signature.certificate
    return {
        "document": outcome.document.pk,
        "title": outcome.document.title,
        "verification_token": outcome.document.token,
        "signer": signature.signer.full_name,
        "certificate": certificate.subject_name,
        "certificate_fingerprint": certificate.fingerprint,
        "signature_kind": certificate.kind,
        "signature_field": signature.field_name,
    }
