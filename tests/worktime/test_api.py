"""GET /api/v1/worktime/due through the whole Django stack."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from motcua.worktime import services
from motcua.worktime.models import CalendarException

from .conftest import Org

pytestmark = pytest.mark.django_db
URL = "/api/v1/worktime/due"


def get(client: Client, language: str | None = None, **params):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return client.get(f"{URL}?{urlencode(params)}", **headers)


def test_one_day_from_monday_morning(client: Client, org: Org) -> None:
    response = get(client, agency=org.agency_a.code, start="2026-03-02T09:00", days="1")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "agency": "001.31.31.H62",
        "start": "2026-03-02T09:00:00+07:00",
        "days": "1.0",
        "sessions": 2,
        "due": "2026-03-03T11:30:00+07:00",
        "immediate": False,
        "same_day": False,
    }


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        ("2026-03-02T14:00:00+07:00", "1", "2026-03-03T17:00:00+07:00"),
        ("2026-03-02T07:00:00Z", "1", "2026-03-03T17:00:00+07:00"),  # 14:00 in Hà Nội
        ("2026-03-07T10:00", "1", "2026-03-09T17:00:00+07:00"),  # Saturday
        ("2026-03-02T09:00", "0.5", "2026-03-02T17:00:00+07:00"),
        ("2026-02-12T14:00", "2", "2026-02-23T17:00:00+07:00"),  # over Tết 2026
    ],
)
def test_due_moments(client: Client, org: Org, start: str, days: str, due: str) -> None:
    body = get(client, agency=org.agency_a.code, start=start, days=days).json()
    assert body["due"] == due


def test_unencoded_plus_in_the_offset_is_understood(client: Client, org: Org) -> None:
    response = client.get(f"{URL}?agency={org.agency_a.code}&start=2026-03-02T14:00:00+07:00&days=1")
    assert response.status_code == 200
    assert response.json()["start"] == "2026-03-02T14:00:00+07:00"


def test_immediate_procedure(client: Client, org: Org) -> None:
    body = get(client, agency=org.agency_a.code, start="2026-03-02T09:00", days="0").json()
    assert body["due"] is None and body["immediate"] is True and body["sessions"] == 0 and body["days"] == "0.0"


def test_same_day(client: Client, org: Org) -> None:
    late_on_tet_eve = get(client, agency=org.agency_a.code, start="2026-02-13T15:30", same_day="true").json()
    assert late_on_tet_eve["due"] == "2026-02-23T17:00:00+07:00"
    assert late_on_tet_eve["same_day"] is True and late_on_tet_eve["days"] is None
    later_cutoff = get(client, agency=org.agency_a.code, start="2026-02-13T15:30", same_day="true", cutoff="16:00")
    assert later_cutoff.json()["due"] == "2026-02-13T17:00:00+07:00"


def test_exceptions_of_the_agency_units_are_used(client: Client, org: Org) -> None:
    services.add_exception(org.district_a, "2026-03-09", CalendarException.Kind.DAY_OFF, "Nghỉ")
    assert get(client, agency=org.agency_a.code, start="2026-03-07T10:00", days="1").json()["due"] == (
        "2026-03-10T17:00:00+07:00"
    )
    assert get(client, agency=org.agency_b.code, start="2026-03-07T10:00", days="1").json()["due"] == (
        "2026-03-09T17:00:00+07:00"
    )


def test_unknown_agency_is_404_with_a_readable_sentence(client: Client, org: Org) -> None:
    response = get(client, agency="999.99.99.H99", start="2026-03-02T09:00", days="1")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "999.99.99.H99" in detail
    assert "Không tìm thấy cơ quan" in detail


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ("-1", "không được âm"),
        ("1000", "365"),
        ("0.3", "nửa ngày"),
        ("abc", "abc"),
    ],
)
def test_bad_days_are_422_in_vietnamese(client: Client, org: Org, days: str, words: str) -> None:
    response = get(client, agency=org.agency_a.code, start="2026-03-02T09:00", days=days)
    assert response.status_code == 422
    body = response.json()
    assert words in body["detail"]
    assert body["errors"][0]["field"] == "days"


def test_missing_days(client: Client, org: Org) -> None:
    response = get(client, agency=org.agency_a.code, start="2026-03-02T09:00")
    assert response.status_code == 422
    assert "same_day" in response.json()["detail"]


@pytest.mark.parametrize("start", ["hôm qua", "2026-13-02T09:00", "1800-01-01T09:00"])
def test_bad_start_is_422(client: Client, org: Org, start: str) -> None:
    response = get(client, agency=org.agency_a.code, start=start, days="1")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "start"
    assert "Ngày giờ" in response.json()["detail"] or "ngoài" in response.json()["detail"]


def test_bad_cutoff_is_422(client: Client, org: Org) -> None:
    response = get(client, agency=org.agency_a.code, start="2026-03-02T09:00", same_day="true", cutoff="3pm")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cutoff"


def test_english_when_asked(client: Client, org: Org) -> None:
    response = get(client, "en", agency=org.agency_a.code, start="2026-03-02T09:00", days="-1")
    assert response.json()["detail"] == "The number of days cannot be negative."


def test_public_without_login_and_in_the_openapi(client: Client, org: Org) -> None:
    assert get(client, agency=org.agency_a.code, start="2026-03-02T09:00", days="1").status_code == 200
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/worktime/due" in spec["paths"]
