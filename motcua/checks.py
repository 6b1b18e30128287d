"""Production refuses missing or default secrets (invariant 7; review F1, F18).

``check_secrets`` is a system check registered for ``manage.py check --deploy``; with
``MOTCUA_PRODUCTION=1`` it is also a regular check, so ``migrate``, the workers and ``runserver``
refuse to start, and ``motcua/wsgi.py`` runs it before gunicorn serves anything. Each problem is an
Error naming the environment variable to set. What is required:

- always: ``SECRET_KEY``; the payment gateway (``MOTCUA_PAYMENT_URL``, ``_MERCHANT_CODE``, ``_SECRET``:
  the IPN endpoint is always served); SMS (``MOTCUA_SMS_*`` or ``MOTCUA_SMPP_*``: phone sign-up codes);
- when the service is configured: the national SSO's client secret, Zalo's secret key, the SMTP
  password, the remote-signing password, the passphrases of active signing certificates, and the
  national portal's credentials for the authentication chosen in the desk (with synchronisation on).

A value is refused when it is empty or a known placeholder: a default of this code's simulators
("change-me", "motcua-simulator", …) or an obvious stand-in ("changeme", "xxx", "<secret>").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

#: Defaults that shipped in this code or its README at some point, and common stand-ins.
KNOWN_DEFAULTS = frozenset(
    {
        "change-me",
        "changeme",
        "change-this",
        "changethis",
        "changeit",
        "secret",
        "password",
        "passwd",
        "motcua-simulator",
        "motcua-simulator-secret",
        "zalo-secret",
        "sim-secret",
        "test-secret-123",
        "demo",
        "test",
        "example",
        "placeholder",
        "todo",
        "none",
        "null",
        "default",
    }
)
_STAND_IN = re.compile(r"^(?:x+|\*+|\.+|…|<[^>]*>|\$\{[^}]*\}|your[-_ ].*|django-insecure.*)$", re.IGNORECASE)


def is_placeholder(value: str | None) -> bool:
    """Empty, a known default, or an obvious stand-in."""
    text = (value or "").strip()
    if not text:
        return True
    lowered = text.lower()
    return lowered in KNOWN_DEFAULTS or lowered.replace("_", "-") in KNOWN_DEFAULTS or bool(_STAND_IN.match(text))


def _error(code: int, variable: str, what: str, value: str | None) -> checks.Error:
    state = "is not set" if not (value or "").strip() else "is left at a known default or placeholder"
    return checks.Error(
        f"{variable} {state}: {what}.",
        hint=f"Set {variable} in the environment of every server and worker (README, Production).",
        id=f"motcua.E{code:03d}",
    )


def _required(code: int, pairs: Iterable[tuple[str, str | None]], what: str) -> list[checks.Error]:
    return [_error(code, name, what, value) for name, value in pairs if is_placeholder(value)]


def _filled(pairs: Iterable[tuple[str, str | None]]) -> list[checks.Error]:
    """Non-secret values (addresses, codes): only required to be there."""
    return [
        checks.Error(f"{name} is not set.", hint="README, Production.", id="motcua.E010")
        for name, value in pairs
        if not str(value or "").strip()
    ]


def _secret_key() -> list[checks.Error]:
    key = str(getattr(settings, "SECRET_KEY", "") or "")
    if is_placeholder(key) or len(key) < 50 or len(set(key)) < 5:
        return [
            checks.Error(
                "SECRET_KEY is missing, a placeholder or too weak (at least 50 random characters).",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(50))', the same on every server.",
                id="motcua.E001",
            )
        ]
    return []


def _payment() -> list[checks.Error]:
    conf = dict(getattr(settings, "MOTCUA_PAYMENT", {}) or {})
    return _filled(
        [("MOTCUA_PAYMENT_URL", conf.get("base_url")), ("MOTCUA_PAYMENT_MERCHANT_CODE", conf.get("merchant_code"))]
    ) + _required(2, [("MOTCUA_PAYMENT_SECRET", conf.get("secret"))], "the payment notices' checksum key")


def _sso() -> list[checks.Error]:
    conf = dict(getattr(settings, "PORTAL_SSO", {}) or {})
    if not (conf.get("server_url") or conf.get("client_id")):
        return []  # no national SSO: no VNeID button
    return _filled(
        [("MOTCUA_SSO_SERVER_URL", conf.get("server_url")), ("MOTCUA_SSO_CLIENT_ID", conf.get("client_id"))]
    ) + _required(3, [("MOTCUA_SSO_CLIENT_SECRET", conf.get("client_secret"))], "the national SSO client secret")


def _messaging() -> list[checks.Error]:
    conf = dict(getattr(settings, "MOTCUA_MESSAGING", {}) or {})
    sms = dict(conf.get("sms", {}) or {})
    if sms.get("backend") == "smpp":
        errors = _filled([("MOTCUA_SMPP_HOST", sms.get("host")), ("MOTCUA_SMPP_SYSTEM_ID", sms.get("system_id"))])
        errors += _required(5, [("MOTCUA_SMPP_PASSWORD", sms.get("password"))], "the SMSC password")
    else:
        errors = _filled([("MOTCUA_SMS_URL", sms.get("url"))])
        errors += _required(
            5,
            [("MOTCUA_SMS_API_KEY", sms.get("api_key")), ("MOTCUA_SMS_SECRET_KEY", sms.get("secret_key"))],
            "the SMS gateway's credentials",
        )
    zalo = dict(conf.get("zalo", {}) or {})
    if zalo.get("app_id"):
        errors += _required(6, [("MOTCUA_ZALO_SECRET_KEY", zalo.get("secret_key"))], "the Zalo app's secret key")
    return errors


def _email() -> list[checks.Error]:
    options = dict(dict(getattr(settings, "MAILERS", {}) or {}).get("default", {}).get("OPTIONS", {}) or {})
    if not options.get("username"):
        return []  # an unauthenticated relay
    return _required(7, [("EMAIL_HOST_PASSWORD", options.get("password"))], "the SMTP account's password")


def _env_ref(ref: str, environ: Mapping[str, str]) -> tuple[str, str | None] | None:
    kind, _sep, name = (ref or "").partition(":")
    return (name, environ.get(name)) if kind == "env" and name else None


def _signing(environ: Mapping[str, str]) -> list[checks.Error]:
    remote = dict(getattr(settings, "MOTCUA_REMOTE_SIGNING", {}) or {})
    errors: list[checks.Error] = []
    if remote.get("URL") or environ.get("MOTCUA_REMOTE_SIGNING_URL"):
        ref = _env_ref(remote.get("SP_PASSWORD_REF") or "env:MOTCUA_REMOTE_SIGNING_SP_PASSWORD", environ)
        if ref:
            errors += _required(8, [ref], "the remote-signing service's password")
    return errors


def _from_database(environ: Mapping[str, str]) -> list[checks.CheckMessage]:
    """What the desk configured: the national portal's authentication, signing certificates' passphrases."""
    from django.db import DatabaseError, connection

    from motcua.documents.models import SigningCertificate
    from motcua.integrations.models import NationalPortalConfig
    from motcua.integrations.national.services import missing_credentials

    try:
        tables = set(connection.introspection.table_names())
        if not {NationalPortalConfig._meta.db_table, SigningCertificate._meta.db_table} <= tables:
            return []  # not migrated yet: nothing configured in the desk
        errors: list[checks.CheckMessage] = []
        config = NationalPortalConfig.objects.filter(pk=1).first()
        if config is not None and config.enabled:
            names = [*missing_credentials(config, {}), config.inbound_token_env]
            secret_names = {
                config.password_env,
                config.client_secret_env,
                config.bearer_token_env,
                config.inbound_token_env,
            }
            errors += _filled([(name, environ.get(name)) for name in names if name not in secret_names])
            errors += _required(
                4,
                [(name, environ.get(name)) for name in names if name in secret_names],
                "the national portal's credentials (names set in the desk)",
            )
        refs = SigningCertificate.objects.filter(is_active=True).values_list("secret_ref", flat=True)
        for ref in sorted({ref for ref in refs if ref}):
            if pair := _env_ref(ref, environ):
                errors += _required(9, [pair], "the passphrase or PIN of an active signing certificate")
        return errors
    except DatabaseError:
        return [
            checks.Warning(
                "The database could not be read: the national portal's and the signing certificates' "
                "credentials were not checked.",
                id="motcua.W001",
            )
        ]


def secret_problems(environ: Mapping[str, str] | None = None, *, database: bool = True) -> list[checks.CheckMessage]:
    env = os.environ if environ is None else environ
    problems: list[checks.CheckMessage] = []
    for part in (_secret_key(), _payment(), _sso(), _messaging(), _email(), _signing(env)):
        problems += part
    if database:
        problems += _from_database(env)
    return problems


def check_secrets(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """The system check: only in production (MOTCUA_PRODUCTION=1)."""
    if not getattr(settings, "PRODUCTION", False):
        return []
    return secret_problems()


def register() -> None:
    """A deploy check; in production a regular one (which ``check --deploy`` runs as well, once)."""
    checks.register(check_secrets, "motcua", deploy=not getattr(settings, "PRODUCTION", False))


def refuse_to_start() -> None:
    """For the WSGI/ASGI entry points, which run no system checks: ImproperlyConfigured in production."""
    errors = [problem for problem in check_secrets() if problem.is_serious()]
    if errors:
        lines = "\n".join(f"- {problem.msg}" for problem in errors)
        raise ImproperlyConfigured(f"Production settings are incomplete:\n{lines}")
