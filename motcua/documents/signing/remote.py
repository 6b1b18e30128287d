"""Remote signing: the key stays with a Vietnamese remote-signing service (VNPT SmartCA-like,
shared/reference/integrations.md §7.2); the signer approves each signature in the provider's app.

pyHanko's interrupted signing (§7.1): the PDF is prepared and its signed attributes hashed
(``start``), the hash goes to the service as a transaction, the transaction is polled until the
signer approves, refuses or it expires (``wait``), and the returned raw signature is checked
against the certificate before it is embedded (``finish``). Every HTTP call has a timeout; every
failure is a ``RemoteSigningError`` with a sentence for the person waiting, and nothing is stored
by this module (the services store the result only when ``sign`` returns).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import requests
from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko_certvalidator.registry import SimpleCertificateStore

from motcua.documents.signing.base import (
    Appearance,
    Revocation,
    SigningError,
    existing_field_names,
    field_spec,
    precheck,
    run,
    signature_metadata,
    stamp_params,
    stamp_style,
    timestamper,
    to_asn1,
    writer_for,
)


class RemoteSigningError(SigningError):
    pass


@dataclass(frozen=True)
class RemoteConfig:
    base_url: str
    sp_id: str
    sp_password: str
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    poll_interval: float = 2.0
    #: Integrators poll for 3–4 minutes (§7.2); the signer approves on their phone meanwhile.
    max_wait: float = 240.0


@dataclass(frozen=True)
class RemoteCertificate:
    cert_id: str
    serial_number: str
    status: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


class RemoteSigningClient:
    """The HTTP calls of the service: get_certificate, sign (start a transaction), status."""

    def __init__(self, config: RemoteConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()

    def _url(self, path: str) -> str:
        return f"{self.config.base_url.rstrip('/')}/{path}"

    def _credentials(self) -> dict[str, str]:
        return {"sp_id": self.config.sp_id, "sp_password": self.config.sp_password}

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        timeout = (self.config.connect_timeout, self.config.read_timeout)
        try:
            response = self.session.request(method, self._url(path), json=body, timeout=timeout)
        except requests.Timeout as exc:
            raise RemoteSigningError(
                _("The remote signing service did not answer within %(seconds)s seconds; nothing was signed.")
                % {"seconds": int(self.config.read_timeout)}
            ) from exc
        except requests.RequestException as exc:
            raise RemoteSigningError(_("The remote signing service cannot be reached; nothing was signed.")) from exc
        try:
            payload = response.json()
        except ValueError as exc:
            raise RemoteSigningError(
                _("The remote signing service answered with HTTP %(status)s and no readable data; nothing was signed.")
                % {"status": response.status_code}
            ) from exc
        if response.status_code >= 400 or payload.get("status_code") != 0:
            raise RemoteSigningError(
                _("The remote signing service refused the request: %(message)s")
                % {"message": payload.get("message") or response.status_code}
            )
        return payload.get("data") or {}

    def get_certificates(self, user_id: str) -> list[RemoteCertificate]:
        data = self._call(
            "POST",
            "credentials/get_certificate",
            {**self._credentials(), "user_id": user_id, "serial_number": "", "transaction_id": uuid.uuid4().hex},
        )
        found = []
        for item in data.get("user_certificates") or []:
            try:
                certificate = x509.load_der_x509_certificate(base64.b64decode(item["cert_data"]))
                chain = tuple(x509.load_der_x509_certificate(base64.b64decode(c)) for c in item.get("chain_data") or [])
            except (KeyError, ValueError) as exc:
                raise RemoteSigningError(_("The remote signing service sent an unreadable certificate.")) from exc
            found.append(
                RemoteCertificate(
                    cert_id=str(item.get("cert_id", "")),
                    serial_number=str(item.get("serial_number", "")).lower(),
                    status=str(item.get("cert_status_code", "")),
                    certificate=certificate,
                    chain=chain,
                )
            )
        return found

    def start_sign(self, user_id: str, serial_number: str, digest: bytes, *, doc_id: str, description: str) -> str:
        transaction_id = uuid.uuid4().hex
        data = self._call(
            "POST",
            "signatures/sign",
            {
                **self._credentials(),
                "user_id": user_id,
                "serial_number": serial_number,
                "transaction_id": transaction_id,
                "transaction_desc": description,
                "sign_files": [
                    {
                        "data_to_be_signed": digest.hex(),
                        "doc_id": doc_id,
                        "file_type": "pdf",
                        "sign_type": "hash",
                        "hash_algorithm": "SHA-256",
                    }
                ],
            },
        )
        return str(data.get("transaction_id") or transaction_id)

    def status(self, transaction_id: str) -> tuple[str, bytes | None]:
        data = self._call("GET", f"signatures/sign/{transaction_id}/status")
        state = str(data.get("status") or "").upper()
        signatures = data.get("signatures") or []
        value = None
        if state == "SUCCESS":
            try:
                value = base64.b64decode(signatures[0]["signature_value"])
            except (IndexError, KeyError, ValueError) as exc:
                raise RemoteSigningError(_("The remote signing service sent no usable signature.")) from exc
        return state, value


@dataclass
class PendingSignature:
    """What interrupted signing keeps between sending the hash and receiving the signature."""

    transaction_id: str
    field_name: str
    certificate: x509.Certificate
    registry: SimpleCertificateStore
    prepared: PreparedByteRangeDigest
    signed_attrs: cms.CMSAttributes
    output: BytesIO
    started: float = field(default=0.0)


class RemoteSigner:
    mode = "remote"
    PENDING_STATES = frozenset({"PENDING", "WAITING", "WAITING_FOR_APPROVAL", "PROCESSING", ""})

    def __init__(
        self,
        client: RemoteSigningClient,
        user_id: str,
        *,
        serial_number: str = "",
        revocation: Revocation | None = None,
        tsa_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.user_id = user_id
        self.serial_number = serial_number.lower()
        self.revocation = revocation or Revocation()
        self.tsa_url = tsa_url
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.monotonic = monotonic
        self._remote: RemoteCertificate | None = None

    def _remote_certificate(self) -> RemoteCertificate:
        if self._remote is None:
            candidates = [
                c
                for c in self.client.get_certificates(self.user_id)
                if not self.serial_number or c.serial_number == self.serial_number
            ]
            if not candidates:
                raise RemoteSigningError(_("The remote signing service has no matching certificate for this signer."))
            self._remote = candidates[0]
        return self._remote

    def certificate(self) -> x509.Certificate:
        return self._remote_certificate().certificate

    def start(
        self, pdf: bytes, *, reason: str, location: str, field_name: str, appearance: Appearance | None = None
    ) -> PendingSignature:
        remote = self._remote_certificate()
        now = self.clock()
        precheck(remote.certificate, self.revocation, now)
        if remote.status and remote.status.upper() != "VALID":
            raise RemoteSigningError(
                _("The remote signing service reports the certificate as %(status)s.") % {"status": remote.status}
            )
        public_key = remote.certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise RemoteSigningError(_("Only RSA certificates are supported for remote signing."))
        writer = writer_for(pdf)
        if field_name in existing_field_names(writer):
            raise SigningError(_("The document already has a signature field named “%(name)s”.") % {"name": field_name})
        registry = SimpleCertificateStore()
        registry.register_multiple(to_asn1(c) for c in remote.chain)
        placeholder = signers.ExternalSigner(
            signing_cert=to_asn1(remote.certificate),
            cert_registry=registry,
            signature_value=bytes(public_key.key_size // 8),
        )
        pdf_signer = signers.PdfSigner(
            signature_metadata(field_name=field_name, reason=reason, location=location),
            signer=placeholder,
            timestamper=timestamper(self.tsa_url),
            stamp_style=stamp_style(appearance),
            new_field_spec=field_spec(field_name, appearance),
        )
        try:
            prepared, _tbs, output = run(
                pdf_signer.async_digest_doc_for_signing(
                    writer, appearance_text_params=stamp_params(remote.certificate, appearance, now)
                )
            )
            signed_attrs = run(placeholder.signed_attrs(prepared.document_digest, "sha256", use_pades=True))
        except (PyHankoSigningError, PdfError) as exc:
            raise SigningError(_("The document could not be signed: %(error)s") % {"error": exc}) from exc
        digest = hashlib.sha256(signed_attrs.dump()).digest()
        transaction_id = self.client.start_sign(
            self.user_id, remote.serial_number, digest, doc_id=field_name, description=reason or field_name
        )
        return PendingSignature(
            transaction_id=transaction_id,
            field_name=field_name,
            certificate=remote.certificate,
            registry=registry,
            prepared=prepared,
            signed_attrs=signed_attrs,
            output=output,
            started=self.monotonic(),
        )

    def wait(self, pending: PendingSignature) -> bytes:
        deadline = pending.started + self.client.config.max_wait
        while True:
            state, value = self.client.status(pending.transaction_id)
            if state == "SUCCESS" and value is not None:
                return value
            if state == "EXPIRED":
                raise RemoteSigningError(_("The signing request expired before the signer approved it."))
            if state in {"REJECTED", "REFUSED", "CANCELED", "CANCELLED"}:
                raise RemoteSigningError(_("The signer refused the signing request."))
            if state not in self.PENDING_STATES:
                raise RemoteSigningError(
                    _("The remote signing service reported an unknown state: %(state)s") % {"state": state}
                )
            if self.monotonic() + self.client.config.poll_interval > deadline:
                raise RemoteSigningError(
                    _("The signer did not approve within %(seconds)s seconds; nothing was signed.")
                    % {"seconds": int(self.client.config.max_wait)}
                )
            self.sleep(self.client.config.poll_interval)

    def finish(self, pending: PendingSignature, signature: bytes) -> bytes:
        public_key = pending.certificate.public_key()
        try:
            public_key.verify(signature, pending.signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise RemoteSigningError(
                _("The signature returned by the remote service does not match the certificate; it was not used.")
            ) from exc
        final = signers.ExternalSigner(
            signing_cert=to_asn1(pending.certificate), cert_registry=pending.registry, signature_value=signature
        )
        signature_cms = run(
            final.async_sign_prescribed_attributes(
                "sha256", signed_attrs=pending.signed_attrs, timestamper=timestamper(self.tsa_url)
            )
        )
        pending.prepared.fill_with_cms(pending.output, signature_cms)
        return pending.output.getvalue()

    def sign(
        self, pdf: bytes, *, reason: str, location: str, field_name: str, appearance: Appearance | None = None
    ) -> bytes:
        pending = self.start(pdf, reason=reason, location=location, field_name=field_name, appearance=appearance)
        return self.finish(pending, self.wait(pending))
