"""Bad parameters are refused by the API layer with a 422 in the one error shape, in Vietnamese — never a 500
(review F8: NUL bytes, huge page numbers, year 9999, "²" in a number; each gave 500 on PostgreSQL)."""

import json

import pytest
from django.test import Client

from tests.api.conftest import ApiClient

URL = "/api/v1/dossiers"


def refused(response, field: str) -> dict:
    assert response.status_code == 422, response.content
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field], body
    assert body["detail"] and body["errors"][0]["message"] in body["detail"]
    return body


@pytest.mark.usefixtures("demo")
class TestQueryParameters:
    @pytest.mark.parametrize("name", ["q", "procedure", "code", "phone", "id_number"])
    def test_a_nul_byte_in_a_dossier_filter(self, lienbao, name):
        body = refused(lienbao.get(f"{URL}?{name}=ab%00c"), name)
        assert "ký tự" in body["detail"] or "không phải" in body["detail"], body

    @pytest.mark.parametrize("name", ["q", "level", "agency", "field"])
    def test_a_nul_byte_in_a_catalogue_filter(self, name):
        refused(Client(HTTP_ACCEPT_LANGUAGE="vi").get(f"/api/v1/procedures?{name}=x%00"), name)

    @pytest.mark.parametrize("path", [URL, "/api/v1/procedures", "/api/v1/inbox"])
    def test_a_huge_page(self, lienbao, path):
        body = refused(lienbao.get(f"{path}?page=4341213773453333009015758668169216"), "page")
        assert body["errors"][0]["message"] == "Hãy nhập một số không lớn hơn 10000."

    @pytest.mark.parametrize("page", ["²", "١", "1.5"])
    def test_a_page_that_is_not_ascii_digits(self, lienbao, page):
        body = refused(lienbao.get(URL, {"page": page}), "page")
        assert "số nguyên" in body["detail"]

    def test_a_page_after_the_last_is_empty(self, lienbao):
        response = lienbao.get(URL, {"page": 10_000, "page_size": 100})
        assert response.status_code == 200 and response.json()["items"] == []

    @pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30", "31/02/2026"])
    def test_a_day_outside_the_calendar(self, lienbao, day):
        body = refused(lienbao.get(URL, {"received_to": day}), "received_to")
        assert "1900–2199" in body["detail"]

    def test_an_unknown_status_names_the_allowed_ones(self, lienbao):
        body = refused(lienbao.get(URL, {"status": ["in_process", "lost"]}), "status")
        assert "in_process" in body["detail"] and "Hãy dùng một trong các giá trị" in body["detail"]

    def test_a_malformed_dossier_code_in_the_path(self, lienbao):
        for path in (f"{URL}/a%00b", f"{URL}/a%00b/steps", f"{URL}/%E2%80%AEx"):
            refused(lienbao.get(path), "code")

    def test_in_english_when_asked(self, lienbao):
        english = ApiClient(lienbao.token, HTTP_ACCEPT_LANGUAGE="en")
        body = refused(english.get(URL, {"page": 0}), "page")
        assert body["detail"] == "Enter a number of at least 1."


@pytest.mark.usefixtures("demo")
class TestBodies:
    def test_a_lone_surrogate_in_a_transition(self, lienbao):
        raw = '{"action": "claim", "comment": "\\ud800"}'
        response = lienbao.post(f"{URL}/000.21.31.H62-260101-0001/transitions", raw, content_type="application/json")
        body = refused(response, "payload.comment")
        assert "Unicode" in body["detail"]

    def test_a_body_that_is_not_json_is_400_in_vietnamese(self, lienbao):
        response = lienbao.post(f"{URL}/guidance", "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"detail": "Nội dung yêu cầu không phải JSON hợp lệ.", "errors": []}

    def test_an_apology_in_year_9999(self, lienbao):
        payload = {"reason": "Chậm", "new_due_at": "9999-12-31T17:00:00+07:00"}
        response = lienbao.post(f"{URL}/000.21.31.H62-260101-0001/apology", json.dumps(payload), "application/json")
        refused(response, "payload.new_due_at")


@pytest.mark.usefixtures("demo")
def test_moments_before_1906_are_written_in_rfc_3339():
    """Vietnam time was +07:06:30 before 1906; "+07:06:30" is not an RFC 3339 offset (schemathesis found it)."""
    response = Client().get(
        "/api/v1/worktime/due", {"agency": "000.21.31.H62", "start": "1903-11-30", "same_day": "true"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["start"] == "1903-11-29T16:53:30Z" and body["due"].endswith("Z")
    later = Client().get("/api/v1/worktime/due", {"agency": "000.21.31.H62", "start": "2026-03-02T09:00", "days": "1"})
    assert later.json()["start"] == "2026-03-02T09:00:00+07:00"
