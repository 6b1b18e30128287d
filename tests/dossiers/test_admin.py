"""The read-only desk view: scoped like the selectors, no add/change/delete."""

import pytest
from django.urls import reverse

from tests.dossiers.conftest import user

pytestmark = pytest.mark.django_db


def test_desk_lists_scoped_dossiers_read_only(receive, clerk_tamhop, client):
    lienbao = receive()
    tamhop = receive(clerk=clerk_tamhop)
    client.force_login(user("quantri.vinhyen"))
    changelist = client.get(reverse("admin:dossiers_dossier_changelist"))
    assert changelist.status_code == 200
    assert lienbao.code in changelist.text and tamhop.code not in changelist.text
    detail = client.get(reverse("admin:dossiers_dossier_change", args=[lienbao.pk]))
    assert detail.status_code == 200
    assert lienbao.code in detail.text and 'name="_save"' not in detail.text
    assert client.get(reverse("admin:dossiers_dossier_change", args=[tamhop.pk])).status_code in (302, 403, 404)
    assert client.get(reverse("admin:dossiers_dossier_add")).status_code == 403
    assert client.post(reverse("admin:dossiers_dossier_delete", args=[lienbao.pk]), {"post": "yes"}).status_code == 403
    assert type(lienbao).objects.filter(pk=lienbao.pk).exists()
