"""Bad input is refused with a Vietnamese message and a 4xx, never a 500 (F8/F11 of the December 2026 review).

NUL bytes and lone surrogates reached PostgreSQL (DataError, UnicodeEncodeError), 9999-12-31 + one day
overflowed, "²".isdigit() let int("²") fail, and CCCDs in Arabic-Indic or full-width digits, negative
or 10**30 form numbers, a date of birth in year 1 and a 100 000-character address were accepted.
"""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from motcua import text
from motcua.api import services as token_services
from motcua.catalog.models import FormField, ProcedureVersion
from motcua.dossiers.models import Dossier
from tests.dossiers.conftest import FORM, applicant, user
from tests.dossiers.test_views import post_data  # noqa: F401  (the counter form's valid submission)

# --- the pure helper -------------------------------------------------------------------------------


def test_clean_normalises_and_refuses():
    assert text.clean("  Ho\u0300a   Bình ") == "Hòa Bình"
    assert text.clean("dòng 1\r\ndòng 2\n", multiline=True) == "dòng 1\ndòng 2"
    for bad, reason in [("a\x00b", text.CONTROL), ("\x1b[31m", text.CONTROL), ("\ud800", text.SURROGATE)]:
        with pytest.raises(text.BadText) as refused:
            text.clean(bad)
        assert refused.value.reason == reason
    with pytest.raises(text.BadText) as refused:
        text.clean("x" * 501, max_length=500)
    assert (refused.value.reason, refused.value.limit) == (text.TOO_LONG, 500)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("12", 12), (" 7 ", 7), ("-1", -1), (3, 3), ("²", None), ("٣", None), ("３", None), ("1e3", None)],
        *[("9" * 19, None), (True, None), ("", None), (None, None)],
    ],
)
def test_ascii_int(value, expected):
    assert text.ascii_int(value) == expected


def test_ascii_int_bounds():
    assert text.ascii_int("0", minimum=1) is None and text.ascii_int("5", maximum=4) is None
    assert text.ascii_int("4", minimum=1, maximum=4) == 4


def test_check_tree_without_recursion():
    deep: object = "x"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(text.BadText) as refused:
        text.check_tree(deep, max_depth=10)
    assert refused.value.reason == text.TOO_DEEP
    with pytest.raises(text.BadText) as refused:
        text.check_tree({"a": {"b": "x\x00"}})
    assert (refused.value.reason, refused.value.path) == (text.CONTROL, "a.b")
    with pytest.raises(text.BadText):
        text.check_tree({"a": "x" * 21}, max_string=20)
    text.check_tree({"a": [1, 2.5, None, True, "bình thường"]})
    assert text.scrub({"k\x00": ["a\x00", "\ud800", 1]}) == {"k\ufffd": ["a\ufffd", "\ufffd", 1]}


# --- the dossier services --------------------------------------------------------------------------


def _errors(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


@pytest.fixture
def numbered(birth):
    """The birth procedure with a whole-number field (added while a draft, as the catalogue would)."""
    versions = ProcedureVersion.objects.filter(pk=birth.version.pk)
    versions.update(status=ProcedureVersion.Status.DRAFT)
    FormField.objects.create(version=birth.version, name="so_ban", label="Số bản", type="integer", order=4)
    versions.update(status=ProcedureVersion.Status.PUBLISHED)
    return birth


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"address": "Phường\x00 Liên Bảo"}, "applicant.address"),
        ({"address": "x" * 501}, "applicant.address"),
        ({"full_name": "Nguyễn \ud800An"}, "applicant.full_name"),
        ({"full_name": "Nguyễn\x1b An"}, "applicant.full_name"),
        ({"id_number": "٠٢٦٠٩٠٠٠١٢٣٤"}, "applicant.id_number"),
        ({"id_number": "０２６０９０００１２３４"}, "applicant.id_number"),
        ({"phone": "09١٢٣٤٥٦٧٨"}, "applicant.phone"),
        ({"date_of_birth": "0001-01-01"}, "applicant.date_of_birth"),
        ({"date_of_birth": "9999-12-31"}, "applicant.date_of_birth"),
        ({"email": "an\x00@example.vn"}, "applicant.email"),
    ],
)
def test_applicant_input_is_refused(receive, changes, field):
    errors = _errors(lambda: receive(applicant=applicant(**changes)))
    assert field in errors and all(errors[field]), errors
    assert Dossier.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("so_ban", ["-1", str(10**30), "²", "٣", "1.5", 10**30])
def test_form_whole_numbers_are_bounded_ascii(receive, numbered, so_ban):
    errors = _errors(lambda: receive(form_data={**FORM, "so_ban": so_ban}))
    assert "form_data.so_ban" in errors
    assert Dossier.objects.count() == 0


@pytest.mark.django_db
def test_form_numbers_dates_and_text(receive, numbered):
    assert receive(form_data={**FORM, "so_ban": "3"}).form_data["so_ban"] == 3
    assert "form_data.ngay_sinh_tre" in _errors(lambda: receive(form_data={**FORM, "ngay_sinh_tre": "0001-01-01"}))
    assert "form_data.ghi_chu" in _errors(lambda: receive(form_data={**FORM, "ghi_chu": "a\x07b"}))
    deep: object = "x"
    for _ in range(5000):
        deep = {"x": deep}
    assert any(k.startswith("form_data") for k in _errors(lambda: receive(form_data={**FORM, "ghi_chu": deep})))
    assert any(k.startswith("form_data") for k in _errors(lambda: receive(form_data={**FORM, "ghi_chu": "x" * 10**6})))


@pytest.mark.django_db
def test_reasons_are_checked(clerk, birth):
    from motcua.dossiers import services

    common = {"clerk": clerk, "procedure_code": birth.code, "applicant": applicant()}
    assert "reason" in _errors(lambda: services.refuse(**common, reason="Sai\x00 thẩm quyền"))
    assert "missing.0" in _errors(lambda: services.return_for_completion(**common, missing=["Tờ\x00 khai"]))
    assert Dossier.objects.count() == 0


# --- through the API and the staff pages -----------------------------------------------------------


def _api() -> Client:
    _token, plaintext = token_services.issue_token(user("motcua.lienbao"), "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="vi")


@pytest.mark.django_db
def test_the_api_intake_answers_422(birth):
    body = {
        "procedure_code": birth.code,
        "applicant": applicant(address="Liên\x00 Bảo"),
        "form_data": FORM,
        "documents": [{"component": c.order, "originals": 1} for c in birth.components[:2]],
    }
    api = _api()
    answer = api.post("/api/v1/dossiers", body, "application/json")
    assert answer.status_code == 422, answer.content
    raw = json.dumps({**body, "applicant": applicant()}, ensure_ascii=False).replace("Nguyễn", "\\ud800")
    answer = api.post("/api/v1/dossiers", raw.encode(), "application/json")
    assert answer.status_code == 422, answer.content
    assert Dossier.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [{"q": "an\x00"}, {"procedure": "1.001193\x00"}, {"received_to": "9999-12-31"}, {"received_from": "0001-01-01"}],
)
def test_the_api_search_answers_4xx(org, params):
    answer = _api().get("/api/v1/dossiers", params)
    assert 400 <= answer.status_code < 500, answer.content


@pytest.fixture
def clerk_browser(clerk) -> Client:
    browser = Client()
    browser.force_login(clerk)
    return browser


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params", [{"q": "an\x00"}, {"code": "\x01"}, {"received_to": "9999-12-31"}, {"received_from": "0001-01-01"}]
)
def test_the_search_page_answers_400_with_the_message(clerk_browser, params):
    answer = clerk_browser.get("/dossiers/", params)
    assert answer.status_code == 400
    assert "has-error" in answer.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "params"),
    [
        ("get", "/dossiers/tracking-book/", {"counter": "²"}),
        ("get", "/dossiers/tracking-book/", {"to": "9999-12-31", "from": "0001-01-01"}),
        ("get", "/dossiers/tracking-book/", {"counter": "9" * 40}),
        ("get", "/reports/", {"unit": "²"}),
        ("get", "/reports/", {"unit": "9" * 40}),
        ("get", "/reports/", {"agency": "000\x00"}),
        ("get", "/reports/", {"procedure": "1.001193\x00", "field": "\x00"}),
        ("get", "/reports/", {"period": "month-9999-12"}),
        ("get", "/reports/dossiers/", {"period": "\x00", "measure": "\x00"}),
        ("get", "/dossiers/tracking-book/", {"from": "2026-01-01\x00"}),
        ("post", "/counter/seat/", {"counter": "²"}),
        ("get", "/dossiers/", {"page": "9" * 40}),
        ("get", "/dossiers/", {"page": "²"}),
        ("get", "/inbox/", {"page": "9" * 40}),
    ],
)
def test_query_strings_never_answer_500(clerk_browser, method, url, params):
    answer = getattr(clerk_browser, method)(url, params)
    assert answer.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"applicant-address": "Liên\x00 Bảo"},
        {"applicant-full_name": "Nguyễn\x1b Văn An"},
        {"applicant-id_number": "０２６０９０００１２３４"},
        {"applicant-date_of_birth": "0001-01-01"},
        {"form-ho_ten_tre": "Bình\x00"},
        {"doc-0-originals": "²"},
    ],
)
def test_the_counter_form_answers_422(clerk_browser, birth, post_data, changes):  # noqa: F811
    url = reverse("dossiers:counter-form", args=[birth.code])
    answer = clerk_browser.post(url, post_data(**changes))
    assert answer.status_code == 422
    assert Dossier.objects.count() == 0


@pytest.mark.django_db
def test_the_public_lookup_with_a_nul(org):
    answer = Client().post("/lookup/", {"code": "000.21.31.H62-261130-0001\x00", "digits": "1234"})
    assert answer.status_code == 422
