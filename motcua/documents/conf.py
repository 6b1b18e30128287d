"""The settings of the documents app, with their defaults (all optional in settings.py).

| Setting | Default | Meaning |
|---|---|---|
| ``MOTCUA_PKI_DIR`` | ``VAR_DIR/pki`` | PKCS#12 files and the demo PKI (never in git) |
| ``MOTCUA_TSA_URL`` | env ``MOTCUA_TSA_URL`` or none | RFC 3161 timestamp authority: PAdES B-T instead of B-B |
| ``MOTCUA_PKCS11`` | env ``MOTCUA_PKCS11_LIBRARY`` / ``…_TOKEN_LABEL`` | the token's library and label |
| ``MOTCUA_REMOTE_SIGNING`` | env ``MOTCUA_REMOTE_SIGNING_URL`` / ``…_SP_ID`` | the remote-signing service |
| ``MOTCUA_VERIFY_MAX_BYTES`` | 20 MB | the largest PDF the public verification page accepts |
| ``MOTCUA_SITE_URL`` | ``http://127.0.0.1:8000`` | the public address printed in QR codes |
| ``MOTCUA_TRACKING_URL`` | ``{site}/tracking/{code}`` | the public tracking page of a dossier |

Secrets are references (``env:NAME`` or ``file:name`` under the PKI folder), see ``resolve_secret``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from motcua.documents.signing.base import SigningError
from motcua.documents.signing.remote import RemoteConfig

DEFAULT_VERIFY_MAX_BYTES = 20 * 1024 * 1024


def pki_dir() -> Path:
    configured = getattr(settings, "MOTCUA_PKI_DIR", None) or os.environ.get("MOTCUA_PKI_DIR")
    if configured:
        return Path(configured)
    return Path(getattr(settings, "VAR_DIR", settings.BASE_DIR / "var")) / "pki"


def tsa_url() -> str | None:
    return getattr(settings, "MOTCUA_TSA_URL", None) or os.environ.get("MOTCUA_TSA_URL") or None


def verify_max_bytes() -> int:
    return int(getattr(settings, "MOTCUA_VERIFY_MAX_BYTES", DEFAULT_VERIFY_MAX_BYTES))


def resolve_secret(ref: str) -> str:
    """``env:NAME`` → the variable's value; ``file:name`` → the file's content (under the PKI
    folder only). SigningError when it is not there: the secret itself is never stored."""
    kind, _sep, name = ref.partition(":")
    if kind == "env" and name:
        value = os.environ.get(name)
        if value:
            return value
        raise SigningError(_("The secret %(ref)s is not set on this server.") % {"ref": ref})
    if kind == "file" and name:
        base = pki_dir().resolve()
        path = (base / name).resolve()
        if not path.is_relative_to(base):
            raise SigningError(_("The secret file %(ref)s must be inside the PKI folder.") % {"ref": ref})
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SigningError(_("The secret file %(ref)s cannot be read.") % {"ref": ref}) from exc
    raise SigningError(_("“%(ref)s” is not a secret reference (env:NAME or file:name).") % {"ref": ref})


def key_path(name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else pki_dir() / path


def pkcs11() -> dict[str, Any]:
    configured = dict(getattr(settings, "MOTCUA_PKCS11", {}) or {})
    return {
        "LIBRARY": configured.get("LIBRARY") or os.environ.get("MOTCUA_PKCS11_LIBRARY", ""),
        "TOKEN_LABEL": configured.get("TOKEN_LABEL") or os.environ.get("MOTCUA_PKCS11_TOKEN_LABEL", ""),
    }


def remote_signing() -> RemoteConfig:
    configured = dict(getattr(settings, "MOTCUA_REMOTE_SIGNING", {}) or {})
    url = configured.get("URL") or os.environ.get("MOTCUA_REMOTE_SIGNING_URL", "")
    if not url:
        raise SigningError(_("No remote signing service is configured (MOTCUA_REMOTE_SIGNING)."))
    password_ref = configured.get("SP_PASSWORD_REF") or "env:MOTCUA_REMOTE_SIGNING_SP_PASSWORD"
    return RemoteConfig(
        base_url=url,
        sp_id=configured.get("SP_ID") or os.environ.get("MOTCUA_REMOTE_SIGNING_SP_ID", ""),
        sp_password=resolve_secret(password_ref),
        connect_timeout=float(configured.get("CONNECT_TIMEOUT", 3.05)),
        read_timeout=float(configured.get("READ_TIMEOUT", 10)),
        poll_interval=float(configured.get("POLL_INTERVAL", 2)),
        max_wait=float(configured.get("MAX_WAIT", 240)),
    )
