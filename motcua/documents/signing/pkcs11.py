"""Signing with a key on a PKCS#11 token or HSM (a USB token plugged into a signing server, or a
network HSM), through pyHanko and python-pkcs11.

The library (the vendor's ``.so``), the token label and the PIN reference come from settings
(``MOTCUA_PKCS11``); the certificate row names the key label. python-pkcs11 is optional: without
it this mode says so clearly instead of failing on import. ``import_key`` puts a key and its
certificate on a token (SoftHSM2 in the tests and the demo).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.utils.translation import gettext as _

from motcua.documents.signing.base import PyHankoKeySigner, SigningError

try:  # optional dependency (pyHanko's "pkcs11" extra)
    import pkcs11 as p11
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11 as pyhanko_pkcs11
except ImportError:  # pragma: no cover - exercised only where python-pkcs11 is missing
    p11 = None


def available() -> bool:
    return p11 is not None


def _require() -> None:
    if p11 is None:
        raise SigningError(
            _("Signing with a PKCS#11 token needs the python-pkcs11 package, which is not installed on this server.")
        )


class Pkcs11Signer(PyHankoKeySigner):
    mode = "pkcs11"

    def __init__(self, *, library: str, token_label: str, pin: str, key_label: str, **kwargs) -> None:
        _require()
        super().__init__(**kwargs)
        self.library = library
        self.token_label = token_label
        self.pin = pin
        self.key_label = key_label
        self._session = None
        self._signer = None

    def pyhanko_signer(self):
        if self._signer is None:
            try:
                self._session = pyhanko_pkcs11.open_pkcs11_session(
                    self.library, token_criteria=TokenCriteria(label=self.token_label), user_pin=self.pin
                )
            except p11.PinIncorrect as exc:
                raise SigningError(
                    _("Wrong PIN for the signing token “%(label)s”.") % {"label": self.token_label}
                ) from exc
            except Exception as exc:  # python-pkcs11 and pyHanko raise their own kinds for a missing token
                raise SigningError(
                    _("The signing token “%(label)s” cannot be opened: %(error)s")
                    % {"label": self.token_label, "error": exc or type(exc).__name__}
                ) from exc
            # other_certs_to_pull=None: embed every certificate on the token (the CA chain that
            # import_key stores next to the key), so verifiers can build the path to the root.
            self._signer = pyhanko_pkcs11.PKCS11Signer(
                self._session, cert_label=self.key_label, key_label=self.key_label, other_certs_to_pull=None
            )
            try:
                self._signer.signing_cert  # noqa: B018 - loads the certificate now, to fail early
            except Exception as exc:
                self.close()
                raise SigningError(
                    _("The token has no key and certificate labelled “%(label)s”.") % {"label": self.key_label}
                ) from exc
        return self._signer

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.close()
            finally:
                self._session = None
                self._signer = None


def import_key(
    *,
    library: str,
    token_label: str,
    pin: str,
    label: str,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    chain: tuple[x509.Certificate, ...] = (),
) -> None:
    """Store ``key`` (private, non-extractable), ``certificate`` and its CA ``chain`` on the token."""
    _require()
    token = p11.lib(library).get_token(token_label=token_label)
    der_key = key.private_bytes(Encoding.DER, PrivateFormat.TraditionalOpenSSL, NoEncryption())
    with token.open(rw=True, user_pin=pin) as session:
        attributes = decode_rsa_private_key(der_key)
        attributes.update(
            {
                p11.Attribute.TOKEN: True,
                p11.Attribute.LABEL: label,
                p11.Attribute.ID: label.encode(),
                p11.Attribute.SENSITIVE: True,
                p11.Attribute.EXTRACTABLE: False,
                p11.Attribute.SIGN: True,
                p11.Attribute.PRIVATE: True,
            }
        )
        session.create_object(attributes)
        cert_attributes = decode_x509_certificate(certificate.public_bytes(Encoding.DER))
        cert_attributes.update(
            {p11.Attribute.TOKEN: True, p11.Attribute.LABEL: label, p11.Attribute.ID: label.encode()}
        )
        session.create_object(cert_attributes)
        for index, ca in enumerate(chain, start=1):
            ca_attributes = decode_x509_certificate(ca.public_bytes(Encoding.DER))
            ca_attributes.update({p11.Attribute.TOKEN: True, p11.Attribute.LABEL: f"{label}-ca{index}"})
            session.create_object(ca_attributes)
