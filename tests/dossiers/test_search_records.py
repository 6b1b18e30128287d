"""What the dossier searches list (F4 of the December 2026 review).

The API's search answers dossiers named by their code: a guidance or refusal record (no code, by
design) made it answer 500. The staff page lists those records (it opens them by id), and neither
lists a citizen's unsent draft.
"""

import pytest
from django.test import Client

from motcua.api import services as token_services
from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.selectors import dossiers_visible_to, search_dossiers
from tests.dossiers.conftest import FORM, LIENBAO, MONDAY, applicant, user
from tests.portal.conftest import make_citizen

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(clerk, birth, receive):
    dossier = receive(applicant=applicant(full_name="Hoàng Văn Tìm"))
    guided = services.return_for_completion(
        clerk=clerk,
        procedure_code=birth.code,
        applicant=applicant(full_name="Hoàng Văn Tìm Hướng"),
        missing=["Tờ khai"],
        now=MONDAY,
    )
    refused = services.refuse(
        clerk=clerk, procedure_code=birth.code, applicant=applicant(full_name="Hoàng Thị Tìm"), reason="Sai thẩm quyền"
    )
    ProcedureVersion.objects.filter(pk=birth.version.pk).update(online_level=ProcedureVersion.OnlineLevel.FULL)
    citizen = make_citizen("tim@example.vn", "Hoàng Nháp Tìm")
    draft = services.save_draft(
        citizen,
        procedure_code=birth.code,
        agency=LIENBAO,
        applicant=applicant(full_name="Hoàng Nháp Tìm"),
        form_data=FORM,
        now=MONDAY,
    )
    assert draft.status == Status.DRAFT and guided.code is None and refused.code is None
    return {"dossier": dossier, "guided": guided, "refused": refused, "draft": draft}


def _api(local: str) -> Client:
    _token, plaintext = token_services.issue_token(user(local), "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="vi")


def test_the_api_search_lists_dossiers_only(records):
    api = _api("motcua.lienbao")
    for params in ({}, {"q": "hoang tim"}, {"status": "refused"}, {"status": "returned_for_completion"}):
        response = api.get("/api/v1/dossiers", params)
        assert response.status_code == 200, (params, response.content)
        codes = [item["code"] for item in response.json()["items"]]
        assert all(codes), codes
        assert codes == ([] if "status" in params else [records["dossier"].code])


def test_no_office_sees_a_citizens_unsent_draft(records, clerk):
    draft = records["draft"]
    for local in ("motcua.lienbao", "admin"):
        assert not dossiers_visible_to(user(local)).filter(pk=draft.pk).exists()
    assert draft.pk not in {d.pk for d in search_dossiers(clerk, q="hoang")}
    browser = Client()
    browser.force_login(clerk)
    page = browser.get("/dossiers/", {"q": "hoang"})
    assert page.status_code == 200
    text = page.content.decode()
    # The counter's records stay on the staff page; the draft does not.
    assert "Hoàng Văn Tìm" in text and "Hoàng Thị Tìm" in text and "Hoàng Nháp Tìm" not in text
    assert browser.get(f"/dossiers/id/{draft.pk}/").status_code == 404
    assert browser.get(f"/dossiers/id/{records['refused'].pk}/").status_code == 200
