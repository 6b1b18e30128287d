"""The README's demo citizens log in with the demo password at once (review F19: they used to get only a
confirmation link, their addresses being unverified)."""

import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from motcua.org.demo import DEMO_CITIZENS, DEMO_PASSWORD


@pytest.mark.django_db
def test_demo_citizens_log_in_with_the_readme_password(settings):
    call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
    for email, _name in DEMO_CITIZENS:
        client = Client()
        answer = client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert answer.status_code == 302, answer.content.decode()[:500]
        assert "confirm" not in answer["Location"]
        assert client.get("/my/").status_code == 200
    assert not mail.outbox
