"""Tokens are minted only for oneself (review F16) and an expired password stops the API too (review F12): a bearer
token or a session of someone whose password is too old gets 403 with a Vietnamese detail until it is changed."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from motcua.api import services
from motcua.api.models import ApiToken
from motcua.org.models import User
from tests.api.conftest import ApiClient, staff

URL = "/api/v1/dossiers"
CHANGELIST = "/admin/api/apitoken/"
TOKEN_RE = re.compile(r"mc_[A-Za-z0-9_-]{40,}")


def desk(local: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(staff(local))
    return client


def expire_password(user: User, days: int = 181) -> None:
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=days))


@pytest.mark.usefixtures("demo")
class TestMintedOnlyForOneself:
    def test_the_desk_issues_the_token_to_the_person_adding_it_whatever_is_posted(self):
        admin = desk("quantri.vinhyen")
        leader = staff("lanhdao.vinhyen")
        response = admin.post(
            f"{CHANGELIST}add/", {"user": leader.pk, "name": "Ký thay", "expires_at": ""}, follow=True
        )
        assert response.status_code == 200
        assert not ApiToken.objects.filter(user=leader).exists()
        (row,) = ApiToken.objects.all()
        assert row.user == staff("quantri.vinhyen")
        # The secret is shown once, to its owner, in the answer to their own request.
        (secret,) = [m for message in response.context["messages"] for m in TOKEN_RE.findall(str(message))]
        assert ApiClient(secret).get("/api/v1/inbox").wsgi_request.user == staff("quantri.vinhyen")
        assert secret not in admin.get(f"{CHANGELIST}{row.pk}/change/").content.decode()
        assert secret not in desk("admin").get(CHANGELIST).content.decode()

    def test_the_add_form_has_no_owner_to_choose(self):
        html = desk("quantri.vinhyen").get(f"{CHANGELIST}add/").content.decode()
        assert 'name="name"' in html and 'name="user"' not in html

    def test_the_service_refuses_a_token_for_someone_else(self):
        with pytest.raises(PermissionDenied):
            services.issue_token(staff("lanhdao.vinhyen"), "x", by=staff("quantri.vinhyen"))
        with pytest.raises(PermissionDenied):
            services.issue_token(staff("motcua.lienbao"), "x", by=staff("admin"))
        assert not ApiToken.objects.exists()
        token, _plaintext = services.issue_token(staff("quantri.vinhyen"), "x", by=staff("quantri.vinhyen"))
        assert token.user == staff("quantri.vinhyen")

    def test_a_unit_administrator_still_revokes_tokens_of_their_scope(self):
        token, plaintext = services.issue_token(staff("lanhdao.vinhyen"), "Ký số")
        admin = desk("quantri.vinhyen")
        admin.post(CHANGELIST, {"action": "revoke_selected", "_selected_action": [token.pk]})
        token.refresh_from_db()
        assert token.revoked_by == staff("quantri.vinhyen")
        assert ApiClient(plaintext).get(URL).status_code == 401


@pytest.mark.usefixtures("demo")
class TestPasswordExpiry:
    @pytest.fixture(autouse=True)
    def _age(self, settings):
        settings.MOTCUA_PASSWORD_MAX_AGE_DAYS = 180

    def detail(self, response) -> str:
        assert response.status_code == 403
        body = response.json()
        assert body["errors"] == [] and set(body) == {"detail", "errors"}
        return body["detail"]

    def test_a_bearer_token_of_an_expired_password_is_refused_with_403(self):
        user = staff("motcua.lienbao")
        _token, plaintext = services.issue_token(user, "quầy 1")
        assert ApiClient(plaintext).get(URL).status_code == 200
        expire_password(user)
        detail = self.detail(ApiClient(plaintext).get(URL))
        assert "180 ngày" in detail and "mật khẩu" in detail
        assert "WWW-Authenticate" not in ApiClient(plaintext).get(URL).headers  # not a credentials problem
        # English when asked.
        english = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en").get(URL)
        assert english.status_code == 403 and "password" in english.json()["detail"]

        user.set_password("Mat-khau-moi-2027!")
        user.save()
        assert ApiClient(plaintext).get(URL).status_code == 200

    def test_a_session_of_an_expired_password_is_refused_with_403(self):
        user = staff("motcua.lienbao")
        client = Client(HTTP_ACCEPT_LANGUAGE="vi")
        client.force_login(user)
        assert client.get(URL).status_code == 200
        expire_password(user)
        assert "180 ngày" in self.detail(client.get(URL))
        assert "180 ngày" in self.detail(client.post(URL, {}, content_type="application/json"))

    def test_switched_off_the_age_limit_refuses_nothing(self, settings):
        settings.MOTCUA_PASSWORD_MAX_AGE_DAYS = 0
        user = staff("motcua.lienbao")
        _token, plaintext = services.issue_token(user, "quầy 1")
        expire_password(user, days=1000)
        assert ApiClient(plaintext).get(URL).status_code == 200


@pytest.mark.usefixtures("demo")
class TestMyTokensPage:
    """Staff without the desk issue and revoke their own tokens at /staff/api-tokens/."""

    PAGE = "/staff/api-tokens/"

    def test_a_clerk_issues_a_token_for_themselves_and_sees_it_once(self):
        clerk = desk("motcua.lienbao")
        response = clerk.post(self.PAGE, {"action": "issue", "name": "Máy quét quầy 1", "days": "90"})
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        (secret,) = TOKEN_RE.findall(response.content.decode())
        (row,) = ApiToken.objects.all()
        assert row.user == staff("motcua.lienbao") and row.name == "Máy quét quầy 1"
        assert timedelta(days=89) < row.expires_at - timezone.now() <= timedelta(days=90)
        assert ApiClient(secret).get(URL).status_code == 200
        again = clerk.get(self.PAGE).content.decode()
        assert secret not in again and row.prefix in again

    def test_bad_input_issues_nothing(self):
        clerk = desk("motcua.lienbao")
        for data in ({"name": "", "days": "90"}, {"name": "x", "days": "3650"}, {"name": "x", "days": "٩٠"}):
            response = clerk.post(self.PAGE, {"action": "issue", **data})
            assert response.status_code == 422 and 'id="token-errors"' in response.content.decode()
        assert not ApiToken.objects.exists()

    def test_only_ones_own_tokens_are_listed_and_revoked(self):
        mine, my_secret = services.issue_token(staff("motcua.lienbao"), "của tôi")
        theirs, their_secret = services.issue_token(staff("motcua.tamhop"), "của người khác")
        clerk = desk("motcua.lienbao")
        html = clerk.get(self.PAGE).content.decode()
        assert mine.prefix in html and theirs.prefix not in html
        for token in (theirs, mine):
            assert clerk.post(self.PAGE, {"action": "revoke", "token": token.pk}).status_code == 302
        assert ApiClient(my_secret).get(URL).status_code == 401
        assert ApiClient(their_secret).get(URL).status_code == 200
        assert clerk.post(self.PAGE, {"action": "revoke", "token": "١"}).status_code == 302  # nothing, no 500

    def test_citizens_and_strangers_get_no_tokens(self):
        from tests.portal.conftest import make_citizen

        citizen = Client()
        citizen.force_login(make_citizen("an@example.vn"))
        assert citizen.post(self.PAGE, {"action": "issue", "name": "x", "days": "30"}).status_code == 403
        anonymous = Client().get(self.PAGE)
        assert anonymous.status_code == 302 and anonymous.url.startswith("/staff/login/")
        assert not ApiToken.objects.exists()
