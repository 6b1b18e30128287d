"""Citizen login through the simulated national SSO: a real OIDC provider on 127.0.0.1, real HTTP."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client
from django.urls import reverse

from motcua.org.models import Role, User
from motcua.portal.models import Citizen
from motcua.portal.simulators.sso import SSOServer


@pytest.fixture
def sso(settings):
    server = SSOServer().start()
    settings.PORTAL_SSO = {
        "server_url": server.url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
    }
    yield server
    server.stop()


def sso_login(client: Client):
    """Run the authorization-code flow: our redirect → the provider → our callback."""
    start = client.get(reverse("portal:sso-login"))
    assert start.status_code == 302
    query = parse_qs(urlparse(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and "nonce" in query and "state" in query
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = urlparse(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_sso_creates_the_citizen_keyed_by_id_number(db, sso):
    client = Client()
    response = sso_login(client)
    assert response.status_code == 302 and response["Location"] == reverse("portal:my")
    citizen = Citizen.objects.get(id_number="026090001234")
    assert citizen.full_name == "Nguyễn Văn An" and str(citizen.birth_date) == "1990-03-15"
    assert citizen.user.has_role(Role.CITIZEN) and not citizen.user.is_staff
    assert client.get(reverse("portal:my")).status_code == 200
    # A second login (new name at the provider) finds the same account by the ID number.
    sso.identity["HoVaTen"] = "Nguyễn Văn Ân"
    assert sso_login(Client()).status_code == 302
    assert User.objects.filter(citizen__id_number="026090001234").count() == 1
    assert Citizen.objects.get().full_name == "Nguyễn Văn Ân"


def test_forged_state_or_reused_code_is_refused(db, sso):
    client = Client()
    start = client.get(reverse("portal:sso-login"))
    back = urlparse(requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"])
    forged = back.query.replace("state=", "state=x")
    assert client.get(f"{back.path}?{forged}").status_code == 400
    assert Citizen.objects.count() == 0 and "_auth_user_id" not in client.session


def test_bad_claims_are_refused(db, sso):
    sso.identity["SoDinhDanh"] = "12345"
    response = sso_login(Client())
    assert response.status_code == 400
    assert Citizen.objects.count() == 0


def test_staff_identity_is_not_taken_over(demo_org, sso):
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    Citizen.objects.create(user=clerk, id_number="026090001234")
    response = sso_login(Client())
    assert response.status_code == 400
    assert not clerk.roles.filter(role=Role.CITIZEN).exists()


def test_not_configured_is_404(db, settings, monkeypatch):
    settings.PORTAL_SSO = None
    monkeypatch.delenv("MOTCUA_SSO_SERVER_URL", raising=False)
    assert Client().get(reverse("portal:sso-login")).status_code == 404
