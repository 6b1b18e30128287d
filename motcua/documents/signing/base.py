"""The one signing interface, and what the three modes share.

A ``Signer`` turns PDF bytes into PDF bytes with one more PAdES signature (baseline B-B, or
B-T when a timestamp authority is configured), added as an incremental update so earlier
signatures stay valid. Before it signs, it refuses a certificate that is expired, not yet
valid or revoked. The modes differ only in where the private key is: a PKCS#12 file on the
server, a PKCS#11 token/HSM, or a remote-signing service.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from typing import Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.stamp import TextStampStyle

from motcua.documents import pki
from motcua.documents.rendering import FONTS_DIR

#: pyHanko 0.38 mis-spaces stamp text in fonts of 2048 units/em (Tinos): Noto Serif has 1000.
STAMP_FONT = FONTS_DIR / "NotoSerif-Regular.ttf"
STAMP_FONT_SIZE = 8
STAMP_TEXT = "Ký bởi: %(signer)s\n%(organisation)s\nThời gian ký: %(time)s"


class SigningError(Exception):
    """Signing did not happen; the message is for the person who asked (Vietnamese)."""


class CertificateRefused(SigningError):
    def __init__(self, message: str, problem: pki.Problem) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class Revocation:
    """What the caller knows about revocation: the stored flag and the CAs' CRLs."""

    revoked: bool = False
    crls: tuple[x509.CertificateRevocationList, ...] = ()


@dataclass(frozen=True)
class Appearance:
    """A visible stamp: ``box`` (x1, y1, x2, y2 in points from the bottom left) on ``page``
    (negative counts from the end). No box: an invisible signature."""

    box: tuple[int, int, int, int] | None = None
    page: int = -1
    stamp_text: str = STAMP_TEXT
    params: dict[str, str] = field(default_factory=dict)


class Signer(Protocol):
    mode: str

    def certificate(self) -> x509.Certificate:
        """The signing certificate (fetched from the file, the token or the service)."""

    def sign(
        self,
        pdf: bytes,
        *,
        reason: str,
        location: str,
        field_name: str,
        appearance: Appearance | None = None,
    ) -> bytes:
        """``pdf`` with one more signature in the field ``field_name``."""


def problem_message(problem: pki.Problem, facts: pki.CertificateFacts) -> str:
    until = timezone.localtime(facts.not_after).strftime("%d/%m/%Y %H:%M")
    since = timezone.localtime(facts.not_before).strftime("%d/%m/%Y %H:%M")
    messages = {
        pki.Problem.EXPIRED: _("The certificate of %(name)s expired on %(date)s; it cannot sign any more.")
        % {"name": facts.common_name, "date": until},
        pki.Problem.NOT_YET_VALID: _("The certificate of %(name)s is only valid from %(date)s.")
        % {"name": facts.common_name, "date": since},
        pki.Problem.REVOKED: _("The certificate of %(name)s has been revoked; it cannot sign.")
        % {"name": facts.common_name},
        pki.Problem.NOT_FOR_SIGNING: _("The certificate of %(name)s is not meant for signing documents.")
        % {"name": facts.common_name},
    }
    return messages[problem]


def precheck(certificate: x509.Certificate, revocation: Revocation, now: datetime | None = None) -> None:
    """Raise CertificateRefused when ``certificate`` must not sign now."""
    found = pki.problem(certificate, now=now, crls=list(revocation.crls), revoked=revocation.revoked)
    if found is not None:
        raise CertificateRefused(problem_message(found, pki.describe(certificate)), found)


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    from cryptography.hazmat.primitives.serialization import Encoding

    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def from_asn1(certificate: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.dump())


@functools.cache
def _timestamper(url: str) -> RequestsHTTPTimeStamper:
    # One instance per URL: it caches the dummy token pyHanko uses to size the signature. The
    # requests client (not the aiohttp one) because each signature runs its own event loop.
    return RequestsHTTPTimeStamper(url, timeout=10)


def timestamper(url: str | None) -> timestamps.TimeStamper | None:
    return _timestamper(url) if url else None


def signature_metadata(*, field_name: str, reason: str, location: str) -> signers.PdfSignatureMetadata:
    return signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
    )


def stamp_style(appearance: Appearance | None) -> TextStampStyle | None:
    if appearance is None or appearance.box is None:
        return None
    return TextStampStyle(
        stamp_text=appearance.stamp_text,
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(STAMP_FONT), font_size=STAMP_FONT_SIZE), font_size=STAMP_FONT_SIZE
        ),
        border_width=1,
    )


def field_spec(field_name: str, appearance: Appearance | None) -> fields.SigFieldSpec:
    if appearance is None or appearance.box is None:
        return fields.SigFieldSpec(field_name)
    return fields.SigFieldSpec(field_name, on_page=appearance.page, box=appearance.box)


def stamp_params(certificate: x509.Certificate, appearance: Appearance | None, now: datetime) -> dict[str, str]:
    facts = pki.describe(certificate)
    params = {
        "signer": facts.common_name,
        "organisation": facts.organisation,
        "time": timezone.localtime(now).strftime("%H:%M:%S %d/%m/%Y"),
    }
    if appearance is not None:
        params.update(appearance.params)
    return params


def writer_for(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        return IncrementalPdfFileWriter(BytesIO(pdf))
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise SigningError(_("The file is not a PDF that can be signed.")) from exc


def existing_field_names(writer: IncrementalPdfFileWriter) -> set[str]:
    return {name for name, _value, _ref in fields.enumerate_sig_fields(writer.prev, filled_status=None)}


class PyHankoKeySigner:
    """Shared by the PKCS#12 and PKCS#11 modes: pyHanko holds a signer object for the key."""

    mode = ""

    def __init__(
        self,
        *,
        revocation: Revocation | None = None,
        tsa_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.revocation = revocation or Revocation()
        self.tsa_url = tsa_url
        self.clock = clock or (lambda: datetime.now(UTC))

    def pyhanko_signer(self) -> signers.Signer:
        raise NotImplementedError

    def certificate(self) -> x509.Certificate:
        try:
            return from_asn1(self.pyhanko_signer().signing_cert)
        finally:
            self.close()

    def close(self) -> None:
        """Release the key (token sessions); nothing to do for a file."""

    def sign(
        self,
        pdf: bytes,
        *,
        reason: str,
        location: str,
        field_name: str,
        appearance: Appearance | None = None,
    ) -> bytes:
        try:
            key_signer = self.pyhanko_signer()
            certificate = from_asn1(key_signer.signing_cert)
            now = self.clock()
            precheck(certificate, self.revocation, now)
            writer = writer_for(pdf)
            if field_name in existing_field_names(writer):
                raise SigningError(
                    _("The document already has a signature field named “%(name)s”.") % {"name": field_name}
                )
            pdf_signer = signers.PdfSigner(
                signature_metadata(field_name=field_name, reason=reason, location=location),
                signer=key_signer,
                timestamper=timestamper(self.tsa_url),
                stamp_style=stamp_style(appearance),
                new_field_spec=field_spec(field_name, appearance),
            )
            try:
                output = outside_event_loop(
                    pdf_signer.sign_pdf, writer, appearance_text_params=stamp_params(certificate, appearance, now)
                )
            except (PyHankoSigningError, PdfError) as exc:
                raise SigningError(_("The document could not be signed: %(error)s") % {"error": exc}) from exc
            return output.getvalue()
        finally:
            self.close()


def outside_event_loop[T](function: Callable[..., T], *args, **kwargs) -> T:
    """Call ``function``, one of pyHanko's synchronous entry points, where ``asyncio.run`` works.

    pyHanko runs its coroutines with ``asyncio.run``, which refuses a thread whose event loop is running
    (an async caller, or Playwright's sync API in the browser tests): there it runs in a thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(function, *args, **kwargs).result()


def run(coroutine):
    """Run one of pyHanko's coroutines from synchronous code (views and tasks are synchronous)."""
    return outside_event_loop(asyncio.run, coroutine)
