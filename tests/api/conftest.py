"""Fixtures for the dossier API and token tests: the whole demo (org, calendar, catalogue), real tokens."""

import base64
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from motcua.api import services as token_services
from motcua.org.models import User
from motcua.worktime import selectors as worktime_selectors

DOMAIN = "vinhphuc.gov.vn"
LIENBAO = "000.21.31.H62"
TAMHOP = "000.22.32.H62"
#: Copy of a civil-status extract, 0.5 working day, one mandatory document, a four-field form (demo catalogue).
EXTRACT = "2.000635"
#: Birth registration: immediate (no due moment).
BIRTH = "1.001193"
#: Household business: a district procedure, not carried out by communes.
BUSINESS = "1.001612"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def staff(local: str) -> User:
    return User.objects.get(email=f"{local}@{DOMAIN}")


def applicant(**overrides) -> dict:
    data = {
        "kind": "person",
        "full_name": "Nguyễn Văn An",
        "id_number": "026090001234",
        "date_of_birth": "1990-05-17",
        "phone": "0912345678",
        "email": "an@example.vn",
        "address": "Phường Liên Bảo, Vĩnh Yên",
        "accepts_sms": True,
        "accepts_zalo": False,
    }
    data.update(overrides)
    return data


def extract_payload(**overrides) -> dict:
    """A valid intake of the civil-status extract copy, the way a client would send it."""
    data = {
        "procedure_code": EXTRACT,
        "applicant": applicant(),
        "form_data": {
            "ho_ten": "Nguyễn Văn An",
            "so_dinh_danh": "026090001234",
            "loai_trich_luc": "Khai sinh",
            "so_ban": 2,
        },
        "documents": [{"component": 1, "originals": 1, "copies": 0}],
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _fresh_calendars():
    worktime_selectors.clear_cache()
    yield
    worktime_selectors.clear_cache()


@pytest.fixture
def media(_media) -> Path:
    return _media


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.fixture(scope="class")
def _demo_class(django_db_setup, django_db_blocker):
    """The whole demo province (organisation, calendar, catalogue), loaded once per test class inside a
    transaction rolled back after the class; each test still runs in its own savepoint (``db``).

    Loading costs ~2 s on PostgreSQL. Tests that need committed data (the live server) load it
    themselves and must not be in a class that uses this fixture.
    """
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(_demo_class, db) -> None:
    """The demo province for one test (see ``_demo_class``)."""


class ApiClient(Client):
    """A test client that sends ``Authorization: Bearer <token>`` and JSON bodies."""

    def __init__(self, token: str | None = None, **defaults) -> None:
        defaults.setdefault("HTTP_ACCEPT_LANGUAGE", "vi")
        if token is not None:
            defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        super().__init__(**defaults)
        self.token = token

    def post_json(self, path: str, data: dict | None = None, **extra):
        return self.post(path, data or {}, content_type="application/json", **extra)


@pytest.fixture
def client_for(demo):
    """``client_for("motcua.lienbao")`` → an ApiClient with a fresh real token of that staff member."""

    def make(local: str, **token_options) -> ApiClient:
        _token, plaintext = token_services.issue_token(staff(local), "tests", **token_options)
        return ApiClient(plaintext)

    return make


@pytest.fixture
def lienbao(client_for) -> ApiClient:
    return client_for("motcua.lienbao")


@pytest.fixture
def tamhop(client_for) -> ApiClient:
    return client_for("motcua.tamhop")
