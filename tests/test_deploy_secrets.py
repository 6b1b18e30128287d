"""Production refuses missing or default secrets (review F1, F18): `check --deploy` fails naming the variable,
and a missing SECRET_KEY stops the settings from loading at all."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from motcua import checks

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """A complete production environment (every required secret set) with ``changes`` applied; None removes."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MOTCUA_", "EMAIL_", "DATABASE_")) and key not in ("SECRET_KEY", "DEBUG")
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests; check --deploy warns about it
    env.update(
        {
            "MOTCUA_PRODUCTION": "1",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "motcua.example.gov.vn",
            "MOTCUA_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
            "MOTCUA_PAYMENT_URL": "https://pay.example.gov.vn",
            "MOTCUA_PAYMENT_MERCHANT_CODE": "UBND-VP",
            "MOTCUA_PAYMENT_SECRET": secrets.token_urlsafe(32),
            "MOTCUA_SMS_URL": "https://sms.example.vn/send",
            "MOTCUA_SMS_API_KEY": secrets.token_hex(8),
            "MOTCUA_SMS_SECRET_KEY": secrets.token_hex(16),
        }
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_everything_set_is_clean(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


SSO = {"MOTCUA_SSO_SERVER_URL": "https://sso.example.gov.vn", "MOTCUA_SSO_CLIENT_ID": "motcua-vp"}

# Each run starts Django once (~5-20 s on a loaded machine), so one run carries several problems; every
# expected variable must be named by its own Error.
MISSING_OR_DEFAULT = [
    (
        {
            "SECRET_KEY": "change-me",
            "MOTCUA_PAYMENT_SECRET": "change-me",  # the code's old default (F1)
            "MOTCUA_PAYMENT_URL": None,
            **SSO,  # SSO configured, no client secret
            "MOTCUA_SMS_SECRET_KEY": None,
            "MOTCUA_SMS_API_KEY": "<api key>",
            "MOTCUA_ZALO_APP_ID": "12345",  # Zalo configured, no secret key
            "EMAIL_HOST": "smtp.example.vn",
            "EMAIL_HOST_USER": "motcua",  # an SMTP account without its password
            "MOTCUA_REMOTE_SIGNING_URL": "https://ca.example.vn",
            "MOTCUA_REMOTE_SIGNING_SP_PASSWORD": "demo",  # the README's demo value
        },
        [
            "SECRET_KEY",
            "MOTCUA_PAYMENT_SECRET",
            "MOTCUA_PAYMENT_URL",
            "MOTCUA_SSO_CLIENT_SECRET",
            "MOTCUA_SMS_SECRET_KEY",
            "MOTCUA_SMS_API_KEY",
            "MOTCUA_ZALO_SECRET_KEY",
            "EMAIL_HOST_PASSWORD",
            "MOTCUA_REMOTE_SIGNING_SP_PASSWORD",
        ],
    ),
    (
        {
            "SECRET_KEY": "django-insecure-" + "a" * 50,
            "MOTCUA_PAYMENT_SECRET": None,
            "MOTCUA_PAYMENT_MERCHANT_CODE": None,
            **SSO,
            "MOTCUA_SSO_CLIENT_SECRET": "sim-secret",  # the SSO simulator's
            "MOTCUA_SMS_BACKEND": "smpp",
            "MOTCUA_SMPP_HOST": "smsc.example.vn",
            "MOTCUA_SMPP_PASSWORD": "secret",  # the SMPP simulator's; and no system id
            "MOTCUA_ZALO_APP_ID": "12345",
            "MOTCUA_ZALO_SECRET_KEY": "zalo-secret",  # the Zalo simulator's
        },
        [
            "SECRET_KEY",
            "MOTCUA_PAYMENT_SECRET",
            "MOTCUA_PAYMENT_MERCHANT_CODE",
            "MOTCUA_SSO_CLIENT_SECRET",
            "MOTCUA_SMPP_PASSWORD",
            "MOTCUA_SMPP_SYSTEM_ID",
            "MOTCUA_ZALO_SECRET_KEY",
        ],
    ),
]


@pytest.mark.parametrize(("changes", "variables"), MISSING_OR_DEFAULT, ids=["missing", "defaults"])
def test_a_missing_or_default_secret_fails_the_deploy_check(tmp_path, changes, variables):
    result = check_deploy(production_env(tmp_path, **changes))
    assert result.returncode != 0, result.stdout
    errors = [line for line in result.stderr.splitlines() if "(motcua.E" in line]
    for variable in variables:
        assert any(f") {variable} " in line for line in errors), (variable, result.stderr)
    assert len(errors) == len(variables), result.stderr


def test_production_refuses_to_load_without_secret_key(tmp_path):
    """Not only check --deploy: every command (and so every server) stops, and no var/secret_key is made."""
    result = check_deploy(production_env(tmp_path, SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_production_servers_refuse_to_start_with_a_missing_secret(tmp_path):
    """gunicorn imports motcua.wsgi, which runs no system checks: it refuses by itself."""
    code = "import motcua.wsgi"
    env = production_env(tmp_path, MOTCUA_PAYMENT_SECRET="change-me", DJANGO_SETTINGS_MODULE="motcua.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "MOTCUA_PAYMENT_SECRET" in result.stderr
    ok = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(tmp_path, DJANGO_SETTINGS_MODULE="motcua.settings"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("value", ["", "  ", "change-me", "CHANGE_ME", "xxxx", "<secret>", "${SECRET}", "…"])
def test_placeholders(value):
    assert checks.is_placeholder(value)


@pytest.mark.parametrize("value", ["kX9-2mQ_7vT", "Vinh-Phuc-2026-token-7f3a"])
def test_real_values_are_not_placeholders(value):
    assert not checks.is_placeholder(value)


@pytest.mark.django_db
def test_the_national_portals_credentials_named_in_the_desk_are_required(settings):
    """Synchronisation on in the desk: the variables it names must be set (and not the simulator's defaults)."""
    from motcua.integrations.national.services import get_config

    settings.PRODUCTION = True
    config = get_config()
    config.enabled, config.auth_mode = True, "oauth2"
    config.client_secret_env = "VP_NATIONAL_SECRET"
    config.save()
    env = {"MOTCUA_NATIONAL_CLIENT_ID": "motcua-vp", "VP_NATIONAL_SECRET": "motcua-simulator-secret"}
    messages = [problem.msg for problem in checks.secret_problems(env) if problem.id.startswith("motcua.E")]
    assert any(m.startswith("VP_NATIONAL_SECRET is left at a known default") for m in messages), messages
    assert any(m.startswith("MOTCUA_NATIONAL_INBOUND_TOKEN is not set") for m in messages), messages
    env.update(VP_NATIONAL_SECRET=secrets.token_urlsafe(24), MOTCUA_NATIONAL_INBOUND_TOKEN=secrets.token_urlsafe(24))
    assert not [m for m in checks.secret_problems(env) if "NATIONAL" in m.msg]
    config.enabled = False
    config.save()
    assert not [m for m in checks.secret_problems({}) if "NATIONAL" in m.msg]
