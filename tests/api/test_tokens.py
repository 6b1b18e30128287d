"""API tokens: issue, hash-only storage, bearer authentication and every way it fails, the session
fallback with CSRF, the command line, and the desk (list, revoke, scope)."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from motcua.api import services
from motcua.api.models import ApiToken
from motcua.dossiers.models import Dossier
from tests.api.conftest import ApiClient, extract_payload, staff

URL = "/api/v1/dossiers"
TOKEN_RE = re.compile(r"^mc_[A-Za-z0-9_-]{40,}$")


def detail_of(response) -> str:
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return body["detail"]


def run_command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


CHANGELIST = "/admin/api/apitoken/"


def desk(local: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(staff(local))
    return client


@pytest.fixture
def tokens(demo) -> dict[str, tuple[ApiToken, str]]:
    return {
        "lienbao": services.issue_token(staff("motcua.lienbao"), "Quầy Liên Bảo"),
        "tamhop": services.issue_token(staff("motcua.tamhop"), "Quầy Tam Hợp"),
    }


@pytest.mark.usefixtures("demo")
class TestBearerTokens:
    """Issue, storage, and the bearer header with every way it fails."""

    def test_issued_token_is_stored_as_a_hash_only(self):
        user = staff("motcua.lienbao")
        token, plaintext = services.issue_token(user, "Máy quét quầy 1")
        assert TOKEN_RE.match(plaintext)
        row = ApiToken.objects.get(pk=token.pk)
        assert row.secret_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert row.prefix == plaintext[:11] and len(row.prefix) < len(plaintext) // 3
        assert row.name == "Máy quét quầy 1" and row.user == user
        assert row.revoked_at is None and row.expires_at is None and row.last_used_at is None
        stored = " ".join(str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values())
        assert plaintext not in stored
        assert plaintext[11:] not in stored
        other_token, other = services.issue_token(user, "again")
        assert other != plaintext and other_token.secret_hash != row.secret_hash

    def test_a_valid_token_authenticates_as_its_user(self):
        _token, plaintext = services.issue_token(staff("motcua.lienbao"), "t")
        response = ApiClient(plaintext).get(URL)
        assert response.status_code == 200
        assert response.json() == {"items": [], "count": 0}
        # the scheme is case-insensitive, surrounding blanks are ignored
        assert Client(HTTP_AUTHORIZATION=f"bearer   {plaintext} ").get(URL).status_code == 200

    def test_missing_header_is_401_in_our_shape(self):
        for response in (Client().get(URL), Client().post(URL, {}, content_type="application/json")):
            assert response.status_code == 401
            assert "Bearer" in detail_of(response)
            assert response.json()["errors"] == []
            assert response["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "header",
        [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Token abc",
            "Bearer mc_not-a-real-token",
            "Bearer not-even-our-prefix",
            "Bearer " + "x" * 5000,
            "Bearer mc_' OR 1=1 --",
        ],
    )
    def test_garbage_header_is_401_and_saves_nothing(self, header):
        response = Client(HTTP_AUTHORIZATION=header, HTTP_ACCEPT_LANGUAGE="vi").post(
            URL, extract_payload(), content_type="application/json"
        )
        assert response.status_code == 401
        assert detail_of(response)
        assert Dossier.objects.count() == 0

    def test_revoked_token_stops_working(self):
        token, plaintext = services.issue_token(staff("motcua.lienbao"), "t")
        client = ApiClient(plaintext)
        assert client.get(URL).status_code == 200
        admin = staff("admin")
        assert services.revoke(token, by=admin) is True
        assert services.revoke(token, by=admin) is False  # already revoked: nothing changes
        row = ApiToken.objects.get(pk=token.pk)
        assert row.revoked_at is not None and row.revoked_by == admin
        response = client.get(URL)
        assert response.status_code == 401
        with translation.override("vi"):
            assert detail_of(response) == translation.gettext("The API token has been revoked.")
        assert detail_of(response) != "The API token has been revoked."  # answered in Vietnamese

    def test_expired_token_stops_working(self):
        token, plaintext = services.issue_token(staff("motcua.lienbao"), "t", days=30)
        assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
        client = ApiClient(plaintext)
        assert client.get(URL).status_code == 200
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        response = client.get(URL)
        assert response.status_code == 401
        assert "hết hạn" in detail_of(response)

    def test_token_of_an_inactive_user_never_works(self):
        user = staff("motcua.lienbao")
        _token, plaintext = services.issue_token(user, "t")
        client = ApiClient(plaintext)
        assert client.get(URL).status_code == 200
        user.is_active = False
        user.save(update_fields=["is_active"])
        response = client.get(URL)
        assert response.status_code == 401
        assert client.post_json(URL, extract_payload()).status_code == 401
        assert Dossier.objects.count() == 0

    def test_last_used_is_written_at_most_once_a_minute(self):
        token, plaintext = services.issue_token(staff("motcua.lienbao"), "t")
        client = ApiClient(plaintext)
        client.get(URL)
        first = ApiToken.objects.get(pk=token.pk).last_used_at
        assert first is not None and timezone.now() - first < timedelta(seconds=30)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        assert not [q for q in queries if q["sql"].startswith("UPDATE") and "api_apitoken" in q["sql"]]
        assert ApiToken.objects.get(pk=token.pk).last_used_at == first
        stale = timezone.now() - timedelta(minutes=2)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
        client.get(URL)
        assert ApiToken.objects.get(pk=token.pk).last_used_at > stale + timedelta(minutes=1)


@pytest.mark.usefixtures("demo")
class TestSessionFallback:
    """The logged-in session as second choice, with Django's CSRF check."""

    def test_a_logged_in_session_works_with_csrf(self):
        browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="vi")
        browser.force_login(staff("motcua.lienbao"))
        assert browser.get(URL).status_code == 200
        refused = browser.post(URL, extract_payload(), content_type="application/json")
        assert refused.status_code == 403
        assert "CSRF" in detail_of(refused)
        assert Dossier.objects.count() == 0
        browser.get("/admin/login/")  # any page that sets the CSRF cookie
        csrf = browser.cookies["csrftoken"].value
        accepted = browser.post(URL, extract_payload(), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
        assert accepted.status_code == 201, accepted.json()
        assert Dossier.objects.get().received_by == staff("motcua.lienbao")

    def test_bearer_comes_first_and_a_bad_token_is_not_rescued_by_the_session(self):
        browser = Client()
        browser.force_login(staff("motcua.lienbao"))
        assert browser.get(URL, HTTP_AUTHORIZATION="Bearer mc_wrong").status_code == 401
        _token, tamhop = services.issue_token(staff("motcua.tamhop"), "t")
        response = browser.post(
            URL, extract_payload(), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {tamhop}"
        )
        assert response.status_code == 201
        assert response.json()["receiving_agency"]["code"] == "000.22.32.H62"  # the token's user, not the session's


@pytest.mark.usefixtures("demo")
class TestCommand:
    """``manage.py issue_api_token``."""

    def test_command_prints_only_the_token(self):
        out, err = run_command("MOTCUA.LIENBAO@vinhphuc.gov.vn", "--name", "Máy quét", "--days", "7")
        token = out.strip()
        assert out == token + "\n" and TOKEN_RE.match(token)
        row = ApiToken.objects.get()
        assert row.user == staff("motcua.lienbao") and row.name == "Máy quét"
        assert timedelta(days=6, hours=23) < row.expires_at - timezone.now() <= timedelta(days=7)
        assert row.prefix in err and token not in err
        assert ApiClient(token).get(URL).status_code == 200
        out, _err = run_command("motcua.tamhop@vinhphuc.gov.vn")
        assert ApiToken.objects.get(user=staff("motcua.tamhop")).expires_at is None

    @pytest.mark.parametrize(
        ("args", "vietnamese", "english"),
        [
            (["khongco@vinhphuc.gov.vn"], "Không có người dùng", "No user has the e-mail address"),
            (["motcua.lienbao@vinhphuc.gov.vn", "--days", "0"], "phải là số ngày nguyên", "must be a whole number"),
        ],
    )
    def test_command_errors_are_clear(self, args, vietnamese, english):
        with translation.override("vi"), pytest.raises(CommandError) as error:
            run_command(*args)
        assert vietnamese in str(error.value)
        with translation.override("en"), pytest.raises(CommandError) as error:
            run_command(*args)
        assert english in str(error.value)
        assert ApiToken.objects.count() == 0

    def test_command_refuses_an_inactive_user(self):
        user = staff("motcua.tamhop")
        user.is_active = False
        user.save(update_fields=["is_active"])
        with translation.override("vi"), pytest.raises(CommandError) as error:
            run_command(user.email)
        assert "vô hiệu" in str(error.value) or "khóa" in str(error.value)
        assert ApiToken.objects.count() == 0


@pytest.mark.usefixtures("demo")
class TestDesk:
    """The desk page: list, filter, revoke, add; scoped like every desk page."""

    def test_desk_lists_tokens_without_secrets(self, tokens):
        page = desk("admin").get(CHANGELIST)
        assert page.status_code == 200
        html = page.content.decode()
        for token, plaintext in tokens.values():
            assert token.prefix in html and token.name in html
            assert plaintext not in html and token.secret_hash not in html
        detail = desk("admin").get(f"{CHANGELIST}{tokens['lienbao'][0].pk}/change/").content.decode()
        assert tokens["lienbao"][0].prefix in detail
        assert tokens["lienbao"][1] not in detail and tokens["lienbao"][0].secret_hash not in detail

    def test_desk_filters_by_state(self, tokens):
        services.revoke(tokens["tamhop"][0], by=staff("admin"))
        admin = desk("admin")
        active = admin.get(CHANGELIST, {"state": "active"}).content.decode()
        revoked = admin.get(CHANGELIST, {"state": "revoked"}).content.decode()
        assert tokens["lienbao"][0].prefix in active and tokens["tamhop"][0].prefix not in active
        assert tokens["tamhop"][0].prefix in revoked and tokens["lienbao"][0].prefix not in revoked

    def test_unit_admin_sees_and_revokes_only_tokens_in_scope(self, tokens):
        vinhyen = desk("quantri.vinhyen")
        html = vinhyen.get(CHANGELIST).content.decode()
        assert tokens["lienbao"][0].prefix in html
        assert tokens["tamhop"][0].prefix not in html
        assert vinhyen.get(f"{CHANGELIST}{tokens['tamhop'][0].pk}/change/").status_code in (302, 404)

        both = [tokens["lienbao"][0].pk, tokens["tamhop"][0].pk]
        response = vinhyen.post(CHANGELIST, {"action": "revoke_selected", "_selected_action": both})
        assert response.status_code == 302
        assert ApiToken.objects.get(pk=tokens["lienbao"][0].pk).revoked_at is not None
        assert ApiToken.objects.get(pk=tokens["tamhop"][0].pk).revoked_at is None
        assert ApiClient(tokens["lienbao"][1]).get(URL).status_code == 401
        assert ApiClient(tokens["tamhop"][1]).get(URL).status_code == 200

    def test_monitor_may_look_but_not_revoke(self, tokens):
        monitor = desk("giamsat.tinh")
        assert monitor.get(CHANGELIST).status_code == 200
        monitor.post(CHANGELIST, {"action": "revoke_selected", "_selected_action": [tokens["lienbao"][0].pk]})
        assert ApiToken.objects.get(pk=tokens["lienbao"][0].pk).revoked_at is None
        assert monitor.get(f"{CHANGELIST}add/").status_code == 403

    def test_clerk_has_no_desk_page_of_tokens(self, tokens):
        assert desk("motcua.lienbao").get(CHANGELIST).status_code in (302, 403)

    def test_desk_adds_a_token_and_shows_the_secret_once(self):
        # Issued to the person adding it (tests/api/test_token_rules.py: never to someone else).
        admin = desk("quantri.vinhyen")
        response = admin.post(f"{CHANGELIST}add/", {"name": "Kiosk", "expires_at": ""}, follow=True)
        assert response.status_code == 200
        row = ApiToken.objects.get()
        assert row.user == staff("quantri.vinhyen")
        shown = [str(m) for m in response.context["messages"]]
        secrets = [m for s in shown for m in re.findall(r"mc_[A-Za-z0-9_-]{40,}", s)]
        assert len(secrets) == 1
        assert hashlib.sha256(secrets[0].encode()).hexdigest() == row.secret_hash
        assert ApiClient(secrets[0]).get(URL).status_code == 200
        again = admin.get(f"{CHANGELIST}{row.pk}/change/").content.decode()
        assert secrets[0] not in again


def test_openapi_documents_the_bearer_scheme_on_dossier_endpoints(db):
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["BearerTokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schema["paths"]["/api/v1/dossiers"]["post"]["security"][0] == {"BearerTokenAuth": []}
    assert "/api/v1/dossiers/{code}/supplement-request" in schema["paths"]
