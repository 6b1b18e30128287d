"""The demo PKI: a root CA, an issuing CA, and PKCS#12 files for the demo leaders and document
clerks, so that signing works in the demo out of the box. Demonstration material only.

Files go to ``MOTCUA_PKI_DIR`` (``var/pki`` by default, never committed): ``ca/`` holds the CA
certificates, their encrypted keys and the issuing CA's CRL; ``users/`` the PKCS#12 files;
``remote/`` the keys the remote-signing simulator signs with. One random passphrase protects
them all; it is kept in ``passphrase`` (mode 0600) unless ``MOTCUA_DEMO_PKI_PASSPHRASE`` is set.

Running it again changes nothing: existing files are reused (a certificate is only re-issued
when it expires within 30 days), and the rows are updated in place. Besides the working
certificates it makes, for ``lanhdao.tinh``, one that has expired and one that is revoked (on
the CRL and flagged), which the signing service must refuse.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import pkcs12
from django.db import transaction

from motcua.documents import conf, pki, services
from motcua.documents.models import SigningCertificate, SigningMode
from motcua.org import demo as org_demo
from motcua.org.models import AdministrativeUnit, Role, User

ROOT_NAME = "Một cửa Demo Root CA"
ISSUING_NAME = "Một cửa Demo Issuing CA"
ORGANISATION = "Một cửa – dữ liệu mẫu"
PASSPHRASE_FILE = "passphrase"
SECRET_REF = f"file:{PASSPHRASE_FILE}"
RENEW_BEFORE = timedelta(days=30)
LEAF_DAYS = 730
#: The demo leader who also signs through the remote-signing simulator, and their account there.
REMOTE_LEADER = ("binhxuyen", "026080001234")
EXPIRED_FILE = "users/lanhdao.tinh-het-han.p12"
REVOKED_FILE = "users/lanhdao.tinh-thu-hoi.p12"


class _Authority:
    """A CA certificate, with its encrypted key loaded only when something must be issued."""

    def __init__(self, key_path: Path, passphrase: bytes, issued: pki.Issued | None = None, **loaded) -> None:
        self.key_path, self.passphrase = key_path, passphrase
        self._issued = issued
        self.certificate: x509.Certificate = issued.certificate if issued else loaded["certificate"]
        self.chain: tuple[x509.Certificate, ...] = issued.chain if issued else loaded.get("chain", ())

    @property
    def issued(self) -> pki.Issued:
        if self._issued is None:
            key = pki.load_key_pem(self.key_path.read_bytes(), self.passphrase)
            self._issued = pki.Issued(key, self.certificate, self.chain)
        return self._issued


@dataclass
class DemoPki:
    directory: Path
    passphrase: bytes
    root_ca: _Authority
    issuing_ca: _Authority
    created: list[str] = field(default_factory=list)

    @property
    def root(self) -> pki.Issued:
        return self.root_ca.issued

    @property
    def issuing(self) -> pki.Issued:
        return self.issuing_ca.issued

    def path(self, relative: str) -> Path:
        return self.directory / relative


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(data)
    path.chmod(0o600)


def _passphrase(directory: Path) -> bytes:
    if value := os.environ.get("MOTCUA_DEMO_PKI_PASSPHRASE"):
        return value.encode()
    path = directory / PASSPHRASE_FILE
    if not path.exists():
        _write(path, secrets.token_urlsafe(24).encode())
    return path.read_text().strip().encode()


def _authority(
    directory: Path,
    stem: str,
    passphrase: bytes,
    make,
    created: list[str],
    now: datetime,
    issuer: _Authority | None = None,
) -> _Authority:
    cert_path, key_path = directory / f"ca/{stem}.crt.pem", directory / f"ca/{stem}.key.pem"
    chain = (issuer.certificate, *issuer.chain) if issuer else ()
    if cert_path.exists() and key_path.exists():
        certificate = pki.load_certificate(cert_path.read_bytes())
        still_good = certificate.not_valid_after_utc > now + RENEW_BEFORE
        if still_good and (issuer is None or _issued_by(certificate, issuer.certificate)):
            return _Authority(key_path, passphrase, certificate=certificate, chain=chain)
    issued = make()
    _write(key_path, pki.key_pem(issued.key, passphrase))
    _write(cert_path, issued.pem.encode())
    created.append(str(cert_path.relative_to(directory)))
    return _Authority(key_path, passphrase, issued)


def authorities(directory: Path | None = None, now: datetime | None = None) -> DemoPki:
    """The demo root and issuing CA, created on first use."""
    directory = directory or conf.pki_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    moment = now or datetime.now(UTC)
    passphrase = _passphrase(directory)
    created: list[str] = []
    start = moment - timedelta(days=1)
    root = _authority(
        directory,
        "root",
        passphrase,
        lambda: pki.make_ca(pki.name(ROOT_NAME, ORGANISATION), not_before=start, days=3650),
        created,
        moment,
    )
    issuing = _authority(
        directory,
        "issuing",
        passphrase,
        lambda: pki.make_ca(
            pki.name(ISSUING_NAME, ORGANISATION), issuer=root.issued, not_before=start, days=1825, path_length=0
        ),
        created,
        moment,
        issuer=root,
    )
    return DemoPki(directory, passphrase, root, issuing, created)


def _load_p12(path: Path, passphrase: bytes) -> pki.Issued | None:
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except (OSError, ValueError):
        return None
    if key is None or certificate is None:
        return None
    return pki.Issued(key, certificate, tuple(chain))


def leaf(
    demo: DemoPki,
    relative: str,
    subject: x509.Name,
    *,
    email: str = "",
    not_before: datetime,
    not_after: datetime,
    keep_expired: bool = False,
    now: datetime,
) -> x509.Certificate:
    """The certificate of the PKCS#12 file ``relative``: reused when it is ours and still good
    (read from its ``.crt.pem`` companion, without opening the key), else issued anew."""
    path = demo.path(relative)
    companion = path.with_suffix(".crt.pem")
    if path.exists() and companion.exists():
        existing = pki.load_certificate(companion.read_bytes())
        good = keep_expired or existing.not_valid_after_utc > now + RENEW_BEFORE
        if good and _issued_by(existing, demo.issuing_ca.certificate):
            return existing
    issued = pki.issue_signing_certificate(
        subject, demo.issuing, not_before=not_before, not_after=not_after, email=email
    )
    _write(path, pki.pkcs12_bytes(issued, relative, demo.passphrase))
    _write(companion, issued.pem.encode())
    demo.created.append(relative)
    return issued.certificate


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _crl(demo: DemoPki, revoked_serials: list[int], now: datetime) -> x509.CertificateRevocationList:
    path = demo.path("ca/issuing.crl.pem")
    if path.exists():
        crl = pki.load_crl(path.read_bytes())
        listed = {entry.serial_number for entry in crl}
        fresh = crl.next_update_utc is not None and crl.next_update_utc > now + RENEW_BEFORE
        ours = crl.is_signature_valid(demo.issuing_ca.certificate.public_key())
        if fresh and ours and set(revoked_serials) <= listed:
            return crl
    crl = pki.make_crl(demo.issuing, [(serial, now - timedelta(hours=1)) for serial in revoked_serials], now=now)
    _write(path, pki.crl_pem(crl).encode())
    demo.created.append("ca/issuing.crl.pem")
    return crl


def _register(user: User, certificate: x509.Certificate, relative: str, **fields) -> SigningCertificate:
    return services.register_certificate(
        user=user,
        certificate=certificate,
        mode=SigningMode.PKCS12,
        key_file=relative,
        secret_ref=SECRET_REF,
        **fields,
    )


@transaction.atomic
def load(directory: Path | None = None, now: datetime | None = None) -> DemoPki:
    """Create (or reuse) the demo PKI and register it; the demo organisation must be loaded."""
    moment = now or datetime.now(UTC)
    demo = authorities(directory, moment)
    start, end = moment - timedelta(hours=1), moment + timedelta(days=LEAF_DAYS)
    province = AdministrativeUnit.objects.filter(level__code="province").order_by("path").first()
    services.add_trusted_root(pki.pem(demo.root_ca.certificate), name=ROOT_NAME + " (dữ liệu mẫu)", unit=province)

    missing = []
    for unit_key in org_demo.ONE_STOP:
        leader = User.objects.filter(email=org_demo.demo_email(Role.LEADER, unit_key)).select_related("agency").first()
        clerk = (
            User.objects.filter(email=org_demo.demo_email(Role.DOCUMENT_CLERK, unit_key))
            .select_related("agency")
            .first()
        )
        if leader is None or clerk is None:
            missing.append(unit_key)
            continue
        relative = f"users/{leader.email.split('@')[0]}.p12"
        subject = pki.name(leader.full_name, leader.agency.name, locality="Vĩnh Phúc", unit="Lãnh đạo")
        issued = leaf(demo, relative, subject, email=leader.email, not_before=start, not_after=end, now=moment)
        _register(leader, issued, relative, label=f"{leader.full_name} – chữ ký số (mẫu)", agency=leader.agency)

        relative = f"users/{clerk.email.split('@')[0]}.p12"
        subject = pki.name(clerk.agency.name, clerk.agency.name, locality="Vĩnh Phúc", unit="Văn thư")
        issued = leaf(demo, relative, subject, email=clerk.email, not_before=start, not_after=end, now=moment)
        _register(
            clerk,
            issued,
            relative,
            label=f"Dấu {clerk.agency.name} (mẫu)",
            kind=SigningCertificate.Kind.SEAL,
            agency=clerk.agency,
        )
    if missing:
        raise LookupError(f"Demo accounts missing for {', '.join(missing)}: run `manage.py load_demo` first.")

    leader = User.objects.select_related("agency").get(email=org_demo.demo_email(Role.LEADER, "tinh"))
    subject = pki.name(leader.full_name, leader.agency.name, locality="Vĩnh Phúc", unit="Lãnh đạo")
    expired = leaf(
        demo,
        EXPIRED_FILE,
        subject,
        email=leader.email,
        not_before=moment - timedelta(days=400),
        not_after=moment - timedelta(days=1),
        keep_expired=True,
        now=moment,
    )
    _register(leader, expired, EXPIRED_FILE, label=f"{leader.full_name} – chứng thư đã hết hạn (để thử)")
    revoked = leaf(demo, REVOKED_FILE, subject, email=leader.email, not_before=start, not_after=end, now=moment)
    revoked_row = _register(leader, revoked, REVOKED_FILE, label=f"{leader.full_name} – chứng thư đã thu hồi (để thử)")
    services.revoke_certificate(revoked_row, reason="Thu hồi để thử (dữ liệu mẫu)", now=moment)
    crl = _crl(demo, [revoked.serial_number], moment)
    services.store_crl(pki.crl_pem(crl))

    unit_key, account = REMOTE_LEADER
    remote_leader = User.objects.select_related("agency").get(email=org_demo.demo_email(Role.LEADER, unit_key))
    subject = pki.name(remote_leader.full_name, remote_leader.agency.name, locality="Vĩnh Phúc", unit="Lãnh đạo")
    remote = leaf(
        demo, f"remote/{account}.p12", subject, email=remote_leader.email, not_before=start, not_after=end, now=moment
    )
    services.register_certificate(
        user=remote_leader,
        certificate=remote,
        mode=SigningMode.REMOTE,
        label=f"{remote_leader.full_name} – ký số từ xa (mẫu)",
        agency=remote_leader.agency,
        remote_user_id=account,
    )
    return demo


def remote_accounts(directory: Path | None = None) -> list[tuple[str, pki.Issued]]:
    """The (account, key and certificate) pairs the remote-signing simulator serves."""
    directory = directory or conf.pki_dir()
    passphrase = _passphrase(directory)
    accounts = []
    for path in sorted((directory / "remote").glob("*.p12")):
        issued = _load_p12(path, passphrase)
        if issued is not None:
            accounts.append((path.stem, issued))
    return accounts
