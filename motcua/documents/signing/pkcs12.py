"""Signing with a PKCS#12 (.p12/.pfx) file kept on the server: the demo, and small offices.

The file's passphrase comes from the environment or a protected file, never from git or the
database (see ``services.resolve_secret``). Loaded keys are cached per file, modification time
and passphrase, because opening a PKCS#12 file (PBKDF2) and re-parsing the key on every
signature (what pyHanko's SimpleSigner does) costs more than the signature itself.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils.translation import gettext as _
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from motcua.documents.signing.base import PyHankoKeySigner, SigningError


class _KeyCachingSigner(signers.SimpleSigner):
    """SimpleSigner that keeps the parsed RSA key instead of re-loading it for each signature."""

    def __init__(self, *args, pyca_key, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pyca_key = pyca_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if isinstance(self._pyca_key, RSAPrivateKey) and mechanism.signature_algo == "rsassa_pkcs1v15":
            return self._pyca_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


_cache: dict[tuple[str, int, str], signers.SimpleSigner] = {}
_lock = threading.Lock()


def load_pkcs12(path: Path, passphrase: bytes) -> signers.SimpleSigner:
    """A pyHanko signer for the key and certificates of ``path``; SigningError when it cannot open."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise SigningError(_("The signing key file %(name)s cannot be found.") % {"name": path.name}) from exc
    key = (str(path), stat.st_mtime_ns, hashlib.sha256(passphrase).hexdigest())
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        private_key, certificate, others = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except (ValueError, TypeError) as exc:
        raise SigningError(
            _("The signing key file %(name)s cannot be opened: wrong passphrase or damaged file.") % {"name": path.name}
        ) from exc
    if private_key is None or certificate is None:
        raise SigningError(_("The file %(name)s holds no key and certificate.") % {"name": path.name})
    store = SimpleCertificateStore()
    store.register_multiple(translate_pyca_cryptography_cert_to_asn1(c) for c in others)
    signer = _KeyCachingSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(certificate),
        signing_key=translate_pyca_cryptography_key_to_asn1(private_key),
        cert_registry=store,
        pyca_key=private_key,
    )
    with _lock:
        _cache[key] = signer
    return signer


class Pkcs12Signer(PyHankoKeySigner):
    mode = "pkcs12"

    def __init__(self, path: Path | str, passphrase: bytes, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path = Path(path)
        self.passphrase = passphrase

    def pyhanko_signer(self) -> signers.SimpleSigner:
        return load_pkcs12(self.path, self.passphrase)
