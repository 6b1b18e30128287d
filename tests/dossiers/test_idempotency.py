"""A counter intake carries an idempotency key: a repeated submit never receives a second dossier.

The counter form gets a hidden key when it is shown; the API takes an ``Idempotency-Key`` header. A
repeat by the same clerk with the same key answers the first dossier (same code, no new event, no
number consumed), also when both arrive at once on PostgreSQL (a unique constraint decides:
tests/dossiers/test_idempotency_concurrency.py).
"""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from motcua.api import services as token_services
from motcua.dossiers import services
from motcua.dossiers.models import Dossier, DossierCodeSequence, DossierEvent
from tests.dossiers.conftest import FORM, MONDAY, applicant, user
from tests.dossiers.test_views import post_data  # noqa: F401  (the counter form's valid submission)

KEY = "5f0c2b9e-6a1d-4c1e-9a7e-2b8f4f0d9c31"


def _totals() -> tuple[int, int, int]:
    numbers = sum(DossierCodeSequence.objects.values_list("last_number", flat=True))
    return Dossier.objects.count(), DossierEvent.objects.count(), numbers


@pytest.mark.django_db
def test_a_repeat_answers_the_first_dossier(receive, clerk_tamhop, birth):
    first = receive(idempotency_key=KEY)
    assert first.replayed is False and first.intake_key == KEY
    before = _totals()
    again = receive(idempotency_key=KEY, applicant=applicant(full_name="Ai Khác"))
    assert (again.pk, again.code, again.replayed) == (first.pk, first.code, True)
    assert _totals() == before
    # Another clerk's key is theirs; no key means no deduplication.
    assert receive(idempotency_key="other").pk != first.pk
    assert receive().pk != receive().pk
    tamhop = services.receive_at_counter(
        clerk=clerk_tamhop,
        procedure_code=birth.code,
        applicant=applicant(),
        form_data=dict(FORM),
        documents=birth.documents(),
        now=MONDAY,
        idempotency_key=KEY,
    )
    assert tamhop.pk != first.pk


@pytest.mark.django_db
def test_guidance_and_refusal_records_too(clerk, birth):
    kwargs = {"clerk": clerk, "procedure_code": birth.code, "applicant": applicant(), "idempotency_key": KEY}
    refused = services.refuse(**kwargs, reason="Sai thẩm quyền")
    before = _totals()
    assert services.refuse(**kwargs, reason="Sai thẩm quyền").pk == refused.pk
    assert _totals() == before


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x" * 101, "có dấu", "a b", "\x00"])
def test_a_bad_key_is_refused(receive, key):
    with pytest.raises(ValidationError) as refused:
        receive(idempotency_key=key)
    assert "idempotency_key" in refused.value.message_dict
    assert Dossier.objects.count() == 0


@pytest.mark.django_db
def test_the_counter_form_carries_a_key_and_a_double_submit_receives_once(client, clerk, birth, post_data):  # noqa: F811
    client.force_login(clerk)
    url = reverse("dossiers:counter-form", args=[birth.code])
    shown = client.get(url).content.decode()
    key = re.search(r'name="intake_key" value="([^"]+)"', shown)[1]
    assert key != re.search(r'name="intake_key" value="([^"]+)"', client.get(url).content.decode())[1]
    first = client.post(url, post_data(intake_key=key))
    assert first.status_code == 302
    dossier = Dossier.objects.get()
    second = client.post(url, post_data(intake_key=key))
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert Dossier.objects.count() == 1 and dossier.events.count() == 1
    # A refused submit keeps its key in the form shown again (nothing was saved with it).
    refused = client.post(url, post_data(intake_key="k-2", **{"applicant-full_name": ""}))
    assert refused.status_code == 422 and 'name="intake_key" value="k-2"' in refused.content.decode()


@pytest.mark.django_db
def test_the_api_takes_an_idempotency_key(birth, clerk):
    _token, plaintext = token_services.issue_token(user("motcua.lienbao"), "tests")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="vi")
    body = {
        "procedure_code": birth.code,
        "applicant": applicant(),
        "form_data": FORM,
        "documents": [{"component": c.order, "originals": 1} for c in birth.components[:2]],
    }
    first = api.post("/api/v1/dossiers", body, "application/json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert first.status_code == 201, first.content
    again = api.post("/api/v1/dossiers", body, "application/json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert again.status_code == 201 and again.json()["code"] == first.json()["code"]
    assert Dossier.objects.count() == 1
    bad = api.post("/api/v1/dossiers", body, "application/json", HTTP_IDEMPOTENCY_KEY="x" * 101)
    # Refused by the OpenAPI schema (the header's name) or by the service (its argument's).
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] in ("Idempotency-Key", "idempotency_key")
    assert Dossier.objects.count() == 1


@pytest.mark.django_db
def test_the_unique_constraint_decides_a_race(receive, monkeypatch):
    """The look-up of the second request ran before the first committed: its insert fails, and it answers
    the first dossier (what two concurrent requests do on PostgreSQL; the threads: test_idempotency_concurrency)."""
    first = receive(idempotency_key=KEY)
    before = _totals()
    looked_up = []
    real = services._received_with

    def late(clerk, key):
        looked_up.append(key)
        return None if len(looked_up) == 1 else real(clerk, key)

    monkeypatch.setattr(services, "_received_with", late)
    again = receive(idempotency_key=KEY)
    assert len(looked_up) == 2 and (again.pk, again.replayed) == (first.pk, True)
    assert _totals() == before
