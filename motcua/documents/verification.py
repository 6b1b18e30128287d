"""Checking the signatures of a PDF with pyHanko, for the public verification page and for the
signing services (every signed file is re-validated before it is stored).

For each signature: who signed (CN, organisation), when (the time the signer reported; there is
no trusted time without a timestamp authority), whether the signed bytes are intact, whether the
cryptographic signature is valid, whether the certificate chains to a root the province trusts
(and is not revoked by a CRL we hold), and what the signature covers: the whole file, or a
revision to which later changes were added (normal when a second signature follows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from cryptography import x509
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.misc import PdfError, PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from motcua.documents.signing.base import outside_event_loop, to_asn1

logger = logging.getLogger(__name__)

#: How far into the file the "%PDF-" header may start (the PDF specification tolerates junk before it).
HEADER_WINDOW = 1024


class Outcome:
    NOT_PDF = "not_pdf"
    BROKEN = "broken"
    ENCRYPTED = "encrypted"
    UNSIGNED = "unsigned"
    SIGNED = "signed"


@dataclass
class SignatureReport:
    field_name: str
    signer_name: str = ""
    organisation: str = ""
    issuer_name: str = ""
    serial_number: str = ""
    signed_at: datetime | None = None
    timestamped: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    revoked: bool = False
    coverage: str = "unclear"  # entire_file / entire_revision / unclear
    later_changes: str = ""  # "" (none), "signatures" (signatures or form filling), "other"
    bottom_line: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if not self.intact:
            return _("The document was changed after this signature: the signature no longer matches it.")
        if not self.valid:
            return _("The signature is not valid.")
        if self.revoked:
            return _("The signature is intact, but the certificate has been revoked.")
        if not self.trusted:
            return _(
                "The signature is intact, but the certificate does not come from a trusted certification authority."
            )
        if self.later_changes == "other":
            return _(
                "The signature is valid, but the document was modified afterwards in ways a signature does not allow."
            )
        if self.coverage == "entire_revision":
            return _("The signature is valid and trusted; later signatures were added to the document afterwards.")
        return _("The signature is valid and trusted; the document has not been changed since it was signed.")

    def as_dict(self) -> dict:
        return {
            "field_name": self.field_name,
            "signer_name": self.signer_name,
            "organisation": self.organisation,
            "issuer": self.issuer_name,
            "serial_number": self.serial_number,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "timestamped": self.timestamped,
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "revoked": self.revoked,
            "coverage": self.coverage,
            "later_changes": self.later_changes,
            "ok": self.bottom_line,
            "summary": self.summary,
        }


@dataclass
class VerificationReport:
    outcome: str
    message: str
    signatures: list[SignatureReport] = field(default_factory=list)
    sha256: str = ""

    @property
    def all_ok(self) -> bool:
        return self.outcome == Outcome.SIGNED and all(s.bottom_line for s in self.signatures)

    def as_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "message": self.message,
            "all_ok": self.all_ok,
            "sha256": self.sha256,
            "signatures": [s.as_dict() for s in self.signatures],
        }


def _name_part(name, key: str) -> str:
    value = name.native.get(key, "") if name is not None else ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value or "")


def _coverage(level: SignatureCoverageLevel | None) -> str:
    if level == SignatureCoverageLevel.ENTIRE_FILE:
        return "entire_file"
    if level == SignatureCoverageLevel.ENTIRE_REVISION:
        return "entire_revision"
    return "unclear"


def _later_changes(level: ModificationLevel | None, coverage: str) -> str:
    if coverage == "entire_file" or level in (None, ModificationLevel.NONE):
        return ""
    if level in (ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING):
        return "signatures"
    return "other"


def validation_context(
    trust_roots: list[x509.Certificate], crls: list[x509.CertificateRevocationList] = ()
) -> ValidationContext:
    from asn1crypto import crl as asn1_crl
    from cryptography.hazmat.primitives.serialization import Encoding

    return ValidationContext(
        trust_roots=[to_asn1(root) for root in trust_roots],
        crls=[asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER)) for c in crls],
        allow_fetching=False,  # never call out from a public page (invariant 6)
        revocation_mode="soft-fail",
    )


def _check_one(embedded, context: ValidationContext) -> SignatureReport:
    report = SignatureReport(field_name=embedded.field_name or "")
    try:
        certificate = embedded.signer_cert
        report.signer_name = _name_part(certificate.subject, "common_name")
        report.organisation = _name_part(certificate.subject, "organization_name")
        report.issuer_name = _name_part(certificate.issuer, "common_name")
        report.serial_number = format(certificate.serial_number, "x")
    except (ValueError, KeyError, AttributeError) as exc:
        report.problems.append(str(exc))
    try:
        status = outside_event_loop(validate_pdf_signature, embedded, context)
    except Exception as exc:  # pyHanko raises many kinds on malformed signatures; all mean "not valid"
        logger.info("Signature %s could not be validated: %s", report.field_name, exc)
        report.problems.append(str(exc))
        return report
    report.intact = bool(status.intact)
    report.valid = bool(status.valid)
    report.trusted = bool(status.trusted)
    report.revoked = bool(status.revoked)
    moment = status.signer_reported_dt
    report.signed_at = timezone.localtime(moment) if moment else None
    report.timestamped = status.timestamp_validity is not None
    report.coverage = _coverage(status.coverage)
    report.later_changes = _later_changes(status.modification_level, report.coverage)
    report.bottom_line = bool(status.bottom_line)
    return report


def verify_pdf(
    data: bytes,
    *,
    trust_roots: list[x509.Certificate],
    crls: list[x509.CertificateRevocationList] = (),
) -> VerificationReport:
    """Check every signature of ``data``; a clear outcome for a non-PDF, broken or unsigned file."""
    from motcua.documents.pki import sha256_hex

    digest = sha256_hex(data)
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        return VerificationReport(Outcome.NOT_PDF, _("The file is not a PDF document."), sha256=digest)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            return VerificationReport(
                Outcome.ENCRYPTED, _("The PDF is encrypted; its signatures cannot be checked here."), sha256=digest
            )
        embedded = list(reader.embedded_regular_signatures)
    except (PdfReadError, PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        logger.info("Unreadable PDF submitted for verification: %s", exc)
        return VerificationReport(
            Outcome.BROKEN, _("The PDF is damaged or incomplete and cannot be read."), sha256=digest
        )
    if not embedded:
        return VerificationReport(Outcome.UNSIGNED, _("The PDF has no digital signature."), sha256=digest)
    context = validation_context(trust_roots, crls)
    reports = [_check_one(sig, context) for sig in embedded]
    if all(r.bottom_line for r in reports):
        message = _("All %(count)s signature(s) are valid and trusted.") % {"count": len(reports)}
    else:
        message = _("At least one signature is not valid or not trusted; see the details below.")
    return VerificationReport(Outcome.SIGNED, message, reports, sha256=digest)
