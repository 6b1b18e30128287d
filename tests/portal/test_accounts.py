"""Local citizen accounts: sign-up with bad input, e-mail verification before the first login."""

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from motcua.org.models import Role, User

GOOD = {"email": "Chi@Example.vn", "full_name": "Lê Thị Chi", "phone": "0987654321", "password": "dung-mat-khau-2026"}


def test_bad_signups_save_nothing(db):
    client = Client()
    for bad in (
        {**GOOD, "email": "not-an-email"},
        {**GOOD, "full_name": ""},
        {**GOOD, "phone": "12"},
        {**GOOD, "password": "123"},
        {**GOOD, "full_name": "<script>alert(1)</script>", "password": ""},
    ):
        response = client.post(reverse("portal:signup"), bad)
        assert response.status_code == 422
        assert "<script>alert" not in response.content.decode()
    assert User.objects.count() == 0 and mail.outbox == []


def test_signup_verify_then_login(db):
    client = Client()
    response = client.post(reverse("portal:signup"), GOOD)
    assert response.status_code == 200 and len(mail.outbox) == 1
    user = User.objects.get(email="chi@example.vn")
    assert not user.is_active and user.has_role(Role.CITIZEN) and user.citizen.phone == "0987654321"
    login = {"username": "chi@example.vn", "password": GOOD["password"]}
    assert client.post(reverse("portal:login"), login).status_code == 200  # inactive: refused
    link = re.search(r"http://testserver(/verify/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link.replace("/verify/", "/verify/x")).status_code == 400
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 400  # once
    assert client.post(reverse("portal:login"), login)["Location"] == reverse("portal:my")
    again = Client().post(reverse("portal:signup"), GOOD)
    assert again.status_code == 422 and User.objects.count() == 1
