"""Certificates for the demo and the tests, and the facts we read from any certificate.

Pure ``cryptography`` code without Django, so the demo command, the tests, the bench and the
remote-signing simulator make certificates the same way. Real deployments never use the
``make_*`` functions: their certificates come from a licensed Vietnamese CA; they only use
``describe`` and ``problem`` to check a certificate before signing with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

RSA_BITS = 2048


@dataclass(frozen=True)
class Issued:
    """A key with its certificate (and the certificates above it, nearest first)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def new_key(bits: int = RSA_BITS) -> rsa.RSAPrivateKey:
    # RSA, not ECDSA: pyHanko raises ECDSA-signed files to PDF 2.0, and Vietnamese tokens are RSA.
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(common_name: str, organisation: str = "", *, locality: str = "", unit: str = "") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if locality:
        attributes.append(x509.NameAttribute(NameOID.LOCALITY_NAME, locality))
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _serial() -> int:
    return x509.random_serial_number()


def make_ca(
    subject: x509.Name,
    *,
    issuer: Issued | None = None,
    not_before: datetime,
    days: int,
    key: rsa.RSAPrivateKey | None = None,
    path_length: int | None = None,
) -> Issued:
    """A root CA (``issuer`` None) or an intermediate CA signed by ``issuer``."""
    key = key or new_key()
    signer_key = issuer.key if issuer else key
    issuer_name = issuer.certificate.subject if issuer else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    certificate = builder.sign(signer_key, hashes.SHA256())
    chain = (issuer.certificate, *issuer.chain) if issuer else ()
    return Issued(key=key, certificate=certificate, chain=chain)


def issue_signing_certificate(
    subject: x509.Name,
    issuer: Issued,
    *,
    not_before: datetime,
    not_after: datetime,
    email: str = "",
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    """An end-entity certificate for signing documents: digitalSignature + nonRepudiation
    (pyHanko's validation requires non-repudiation by default, as Vietnamese signing certificates have)."""
    key = key or new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    certificate = builder.sign(issuer.key, hashes.SHA256())
    return Issued(key=key, certificate=certificate, chain=(issuer.certificate, *issuer.chain))


def make_crl(
    issuer: Issued, revoked: list[tuple[int, datetime]], *, now: datetime, days: int = 365
) -> x509.CertificateRevocationList:
    """A CRL of ``issuer`` listing ``(serial number, revocation time)`` pairs."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now)
        .next_update(now + timedelta(days=days))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def pkcs12_bytes(issued: Issued, friendly_name: str, passphrase: bytes) -> bytes:
    """PKCS#12 with the key, its certificate and the CA chain (PBES2/AES-256, SHA-256 MAC)."""
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode(),
        issued.key,
        issued.certificate,
        list(issued.chain),
        serialization.BestAvailableEncryption(passphrase),
    )


def key_pem(key: rsa.RSAPrivateKey, passphrase: bytes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def load_key_pem(data: bytes, passphrase: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(data, passphrase)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("Only RSA keys are used for the demo PKI.")
    return key


def load_certificate(data: bytes | str) -> x509.Certificate:
    """A certificate from PEM or DER bytes; ValueError when it is neither."""
    raw = data.encode() if isinstance(data, str) else data
    if b"-----BEGIN CERTIFICATE-----" in raw:
        return x509.load_pem_x509_certificate(raw)
    return x509.load_der_x509_certificate(raw)


def load_crl(data: bytes | str) -> x509.CertificateRevocationList:
    raw = data.encode() if isinstance(data, str) else data
    if b"-----BEGIN X509 CRL-----" in raw:
        return x509.load_pem_x509_crl(raw)
    return x509.load_der_x509_crl(raw)


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def crl_pem(crl: x509.CertificateRevocationList) -> str:
    return crl.public_bytes(serialization.Encoding.PEM).decode()


def _attribute(subject: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = subject.get_attributes_for_oid(oid)
    value = values[0].value if values else ""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class CertificateFacts:
    common_name: str
    organisation: str
    issuer_name: str
    serial_hex: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    is_ca: bool
    can_sign_documents: bool


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def describe(certificate: x509.Certificate) -> CertificateFacts:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = constraints.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        can_sign = usage.digital_signature or usage.content_commitment
    except x509.ExtensionNotFound:
        can_sign = True
    return CertificateFacts(
        common_name=_attribute(certificate.subject, NameOID.COMMON_NAME),
        organisation=_attribute(certificate.subject, NameOID.ORGANIZATION_NAME),
        issuer_name=_attribute(certificate.issuer, NameOID.COMMON_NAME) or certificate.issuer.rfc4514_string(),
        serial_hex=format(certificate.serial_number, "x"),
        fingerprint=fingerprint(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        is_ca=is_ca,
        can_sign_documents=can_sign and not is_ca,
    )


class Problem(StrEnum):
    """Why a certificate may not sign now."""

    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_FOR_SIGNING = "not_for_signing"


def problem(
    certificate: x509.Certificate,
    *,
    now: datetime | None = None,
    crls: list[x509.CertificateRevocationList] = (),
    revoked: bool = False,
) -> Problem | None:
    """The reason ``certificate`` must not sign at ``now``, or None when it may.

    Checked before every signature (a signature made with an expired or revoked certificate is
    worthless, and the signer must learn it before the leader approves, not from a verifier).
    """
    moment = now or datetime.now(UTC)
    facts = describe(certificate)
    if not facts.can_sign_documents:
        return Problem.NOT_FOR_SIGNING
    if moment < facts.not_before:
        return Problem.NOT_YET_VALID
    if moment > facts.not_after:
        return Problem.EXPIRED
    if revoked:
        return Problem.REVOKED
    for crl in crls:
        if crl.issuer != certificate.issuer:
            continue
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if entry is not None and entry.revocation_date_utc <= moment:
            return Problem.REVOKED
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
