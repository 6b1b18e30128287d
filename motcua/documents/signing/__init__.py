"""One signing interface (``base.Signer``) and its three modes: ``pkcs12.Pkcs12Signer`` (a file on
the server), ``pkcs11.Pkcs11Signer`` (a token or HSM) and ``remote.RemoteSigner`` (a remote-signing
service). ``services.signer_for(certificate)`` picks the mode of a stored certificate."""

from motcua.documents.signing.base import Appearance, CertificateRefused, Revocation, Signer, SigningError

__all__ = ["Appearance", "CertificateRefused", "Revocation", "Signer", "SigningError"]
