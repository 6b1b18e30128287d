"""Citizen login through the simulated national SSO with allauth's openid_connect provider: a real OIDC provider
on 127.0.0.1, real HTTP, PKCE; the claims are mapped by services.citizen_from_claims keyed by SoDinhDanh."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from motcua.org.models import Role, User
from motcua.portal.models import Citizen
from motcua.portal.simulators.sso import SSOServer
from motcua.settings import sso_providers

SSO_START = "/accounts/oidc/vneid/login/"


@pytest.fixture
def sso(settings):
    server = SSOServer().start()
    settings.SOCIALACCOUNT_PROVIDERS = sso_providers(
        {"server_url": server.url, "client_id": server.client_id, "client_secret": server.client_secret}
    )
    yield server
    server.stop()


def start(client: Client):
    """Our confirmation page (POST, CSRF-protected) → a redirect to the provider."""
    page = client.get(SSO_START)
    assert page.status_code == 200 and "VNeID" in page.content.decode()
    response = client.post(SSO_START)
    assert response.status_code == 302
    return response


def sso_login(client: Client):
    """Run the authorization-code flow: our redirect → the provider → our callback."""
    query = parse_qs(urlparse(start(client)["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and "code_challenge" in query and "state" in query
    at_provider = requests.get(start(client)["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = urlparse(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_login_page_links_to_vneid(db, sso):
    page = Client().get(reverse("account_login"))
    assert page.status_code == 200
    assert f'href="{SSO_START}' in page.content.decode() and "Đăng nhập bằng VNeID" in page.content.decode()


def test_no_sso_configured_no_link_and_404(db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = sso_providers(None)
    assert "VNeID" not in Client().get(reverse("account_login")).content.decode()
    assert Client().get(SSO_START).status_code == 404


def test_sso_creates_the_citizen_keyed_by_id_number(db, sso):
    client = Client()
    response = sso_login(client)
    assert response.status_code == 302 and response["Location"] == reverse("portal:my")
    citizen = Citizen.objects.get(id_number="026090001234")
    assert citizen.full_name == "Nguyễn Văn An" and str(citizen.birth_date) == "1990-03-15"
    assert citizen.user.has_role(Role.CITIZEN) and not citizen.user.is_staff
    assert SocialAccount.objects.get().user == citizen.user
    assert client.get(reverse("portal:my")).status_code == 200
    # A second login (new name at the provider) finds the same account by the ID number.
    sso.identity["HoVaTen"] = "Nguyễn Văn Ân"
    assert sso_login(Client()).status_code == 302
    assert User.objects.filter(citizen__id_number="026090001234").count() == 1
    assert Citizen.objects.get().full_name == "Nguyễn Văn Ân" and SocialAccount.objects.count() == 1


def test_forged_state_or_reused_code_is_refused(db, sso):
    client = Client()
    location = start(client)["Location"]
    back = urlparse(requests.get(location, allow_redirects=False, timeout=10).headers["Location"])
    forged = back.query.replace("state=", "state=x")
    response = client.get(f"{back.path}?{forged}")
    assert response.status_code == 400 and "Đăng nhập một lần không thành công" in response.content.decode()
    assert Citizen.objects.count() == 0 and "_auth_user_id" not in client.session
    # The real answer in another browser (no state in its session): refused too.
    assert Client().get(f"{back.path}?{back.query}").status_code == 400
    assert Citizen.objects.count() == 0


def test_start_needs_post_with_csrf(db, sso):
    client = Client(enforce_csrf_checks=True)
    assert client.post(SSO_START).status_code == 403
    assert client.get(SSO_START).status_code == 200  # only the confirmation page, no redirect


def test_bad_claims_are_refused(db, sso):
    sso.identity["SoDinhDanh"] = "12345"
    response = sso_login(Client())
    assert response.status_code == 400 and "số định danh" in response.content.decode()
    assert Citizen.objects.count() == 0 and User.objects.count() == 0 and SocialAccount.objects.count() == 0


def test_staff_identity_is_not_taken_over(demo_org, sso):
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    Citizen.objects.create(user=clerk, id_number="026090001234")
    client = Client()
    response = sso_login(client)
    assert response.status_code == 400
    assert not clerk.roles.filter(role=Role.CITIZEN).exists() and not SocialAccount.objects.exists()
    assert "_auth_user_id" not in client.session
