"""The counter screen, dossier search and pages, slips and attachments, through real HTTP requests
(Django's test client): who may open what, every bad input at the counter (a Vietnamese message next
to its field, and nothing saved), scope between communes, and files served only after a check."""

import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierDocument, DossierEvent
from motcua.worktime.selectors import calendar_for_agency
from tests.dossiers.conftest import (
    FORM,
    LIENBAO,
    PDF,
    PNG,
    applicant,
    make_procedure,
    nothing_saved,
    pdf,
    stored_files,
    user,
)

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "workspace"}
CODE_RE = re.compile(rf"^{re.escape(LIENBAO)}-\d{{6}}-\d{{4,}}$")


def vi(message: str, **params) -> str:
    """The Vietnamese text of an English msgid, checked to be really translated."""
    with translation.override("vi"):
        text = translation.gettext(message)
    assert text != message, f"no Vietnamese translation for {message!r}"
    return text % params if params else text


def text_of(response) -> str:
    return unescape(response.content.decode())


def field_block(html: str, name: str) -> str:
    """The markup of the field (or checklist row) whose input is called ``name``."""
    position = html.index(f'name="{name}"')
    starts = [m.start() for m in re.finditer(r'<div class="field|<tr class="', html) if m.start() < position]
    start = starts[-1]
    end = min(
        [m.start() for m in re.finditer(r'<div class="field|<tr class="|</fieldset>', html) if m.start() > position]
    )
    return unescape(html[start:end])


def assert_error_next_to(response, name: str, message: str) -> None:
    block = field_block(response.content.decode(), name)
    assert "has-error" in block, block
    assert message in block, block


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def form_url(birth):
    return reverse("dossiers:counter-form", args=[birth.code])


@pytest.fixture
def post_data(birth):
    """A complete, valid counter submission for the 1-day birth procedure (fresh files every call)."""

    def _data(outcome: str = "receive", **overrides) -> dict:
        data = {
            "version": str(birth.version.pk),
            "outcome": outcome,
            "applicant-kind": "person",
            "applicant-full_name": "Nguyễn Văn An",
            "applicant-id_number": "026090001234",
            "applicant-date_of_birth": "1990-05-01",
            "applicant-phone": "0912345678",
            "applicant-email": "an@example.vn",
            "applicant-address": "Phường Liên Bảo, Vĩnh Yên",
            "applicant-accepts_sms": "on",
            "form-ho_ten_tre": FORM["ho_ten_tre"],
            "form-ngay_sinh_tre": "2026-11-20",
            "form-ghi_chu": "",
            "doc-0-received": "on",
            "doc-0-originals": "1",
            "doc-0-copies": "0",
            "doc-0-file": pdf("to-khai.pdf"),
            "doc-1-received": "on",
            "doc-1-originals": "1",
            "doc-1-copies": "2",
            "doc-1-file": SimpleUploadedFile("giay-chung-sinh.png", PNG, content_type="image/png"),
            "doc-2-originals": "1",
            "doc-2-copies": "0",
            "missing": "",
            "reason": "",
        }
        for key, value in overrides.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return data

    return _data


# --- who may open the counter ----------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_staff_login(client):
    response = client.get("/counter/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dossiers:login") + "?next=/counter/")
    htmx = client.get("/counter/procedures/?q=khai", **HX)
    assert htmx.status_code == 200 and htmx["HX-Redirect"].startswith(reverse("dossiers:login"))


def test_a_clerk_logs_in_with_e_mail_and_lands_on_the_counter(client, clerk):
    clerk.set_password("motcua-demo-2026")  # with the tests' fast hasher
    clerk.save()
    response = client.post(
        reverse("dossiers:login"), {"username": "motcua.lienbao@vinhphuc.gov.vn", "password": "motcua-demo-2026"}
    )
    assert response.status_code == 302 and response["Location"] == "/counter/"
    page = client.get("/counter/")
    assert page.status_code == 200
    assert 'id="counter-search"' in page.content.decode() and "autofocus" in page.content.decode()


def test_a_wrong_password_gets_a_vietnamese_message(client, org):
    response = client.post(
        reverse("dossiers:login"), {"username": "motcua.lienbao@vinhphuc.gov.vn", "password": "sai-mat-khau"}
    )
    assert response.status_code == 200
    assert "mật khẩu" in text_of(response).lower()


@pytest.mark.parametrize("account", ["chuyenvien.lienbao", "lanhdao.lienbao", "giamsat.lienbao", "quantri.lienbao"])
def test_other_staff_get_a_clear_403_at_the_counter_but_may_search(client, org, account):
    client.force_login(user(account))
    response = client.get("/counter/")
    assert response.status_code == 403
    assert vi("The counter screen is for one-stop clerks of an agency; your account has no such role.") in text_of(
        response
    )
    assert client.get("/dossiers/").status_code == 200


def test_citizens_get_403_everywhere_here(client, org):
    from motcua.org.models import User

    client.force_login(User.objects.get(email="nguyenvanan@example.vn"))
    assert client.get("/counter/").status_code == 403
    response = client.get("/dossiers/")
    assert response.status_code == 403
    assert vi("Dossiers are open to staff with a unit; your account has no staff role with a unit.") in text_of(
        response
    )


def test_a_non_clerk_cannot_post_an_intake(client, org, birth, form_url, post_data, media):
    client.force_login(user("chuyenvien.lienbao"))
    assert client.post(form_url, post_data()).status_code == 403
    nothing_saved(media)


# --- finding the procedure ---------------------------------------------------------------------------


def test_procedures_are_found_without_diacritics_or_by_code_and_only_those_the_desk_receives(clerk_client, birth):
    make_procedure(
        "1.001612", name="Đăng ký thành lập hộ kinh doanh", levels=("district",), agencies=("000.02.31.H62",)
    )
    response = clerk_client.get("/counter/procedures/", {"q": "dang ky khai sinh"}, **HX)
    assert "Đăng ký khai sinh" in text_of(response)
    assert reverse("dossiers:counter-form", args=[birth.code]) in response.content.decode()
    assert "Đăng ký khai sinh" in text_of(clerk_client.get("/counter/procedures/", {"q": "1.001193"}, **HX))
    other = clerk_client.get("/counter/procedures/", {"q": "dang ky"}, **HX)
    assert "hộ kinh doanh" not in text_of(other)  # a district procedure: not for a commune desk
    clerk_client.force_login(user("motcua.vinhyen"))
    district = clerk_client.get("/counter/procedures/", {"q": "dang ky"}, **HX)
    assert "hộ kinh doanh" in text_of(district)


def test_the_form_is_generated_from_the_procedure_schema(clerk_client, birth, form_url):
    response = clerk_client.get(form_url, **HX)
    html = text_of(response)
    assert response.status_code == 200
    for label in ["Họ tên trẻ", "Ngày sinh", "Ghi chú", "Tờ khai", "Giấy chứng sinh", "Văn bản ủy quyền"]:
        assert label in html
    for name in ["applicant-full_name", "applicant-id_number", "form-ho_ten_tre", "doc-1-file", "missing", "reason"]:
        assert f'name="{name}"' in html
    assert "<html" not in html  # an htmx part, not a page
    assert "Alt+1" in html and "Alt+2" in html and "Alt+3" in html
    full = clerk_client.get(f"/counter/?procedure={birth.code}")
    assert "<html" in full.content.decode() and 'name="form-ho_ten_tre"' in full.content.decode()


def test_enter_with_one_match_opens_its_form_and_a_scanned_code_opens_the_dossier(clerk_client, birth, receive):
    response = clerk_client.get("/counter/go/", {"q": "khai sinh"}, **HX)
    assert 'name="form-ho_ten_tre"' in response.content.decode()
    dossier = receive(now=timezone.now())
    scanned = clerk_client.get("/counter/go/", {"q": dossier.code}, **HX)
    assert scanned["HX-Redirect"] == f"/dossiers/{dossier.code}/"
    plain = clerk_client.get("/counter/go/", {"q": dossier.code.lower()})
    assert plain.status_code == 302 and plain["Location"] == f"/dossiers/{dossier.code}/"


def test_unknown_procedure_code_is_a_clear_message_and_saves_nothing(clerk_client, birth, post_data, media):
    url = reverse("dossiers:counter-form", args=["9.999999"])
    message = vi("No published procedure has the code “%(code)s”.", code="9.999999")
    assert message in text_of(clerk_client.get(url, **HX))
    response = clerk_client.post(url, post_data(), **HX)
    assert response.status_code == 404 and message in text_of(response)
    nothing_saved(media)


# --- receive -----------------------------------------------------------------------------------------


def test_receive_gives_a_code_and_the_due_moment_of_the_time_rules(clerk_client, clerk, birth, form_url, post_data):
    response = clerk_client.post(form_url, post_data(), **HX)
    assert response.status_code == 200, text_of(response)[:2000]
    dossier = Dossier.objects.get()
    assert CODE_RE.match(dossier.code)
    assert dossier.status == Status.RECEIVED and dossier.received_by == clerk
    expected = calendar_for_agency(dossier.competent_agency).due_moment(dossier.received_at, Decimal("1"))
    assert dossier.due_at == expected
    html = text_of(response)
    assert dossier.code in html
    assert timezone.localtime(expected).strftime("%d/%m/%Y %H:%M") in html
    assert f"/dossiers/{dossier.code}/slip/?print=1" in html
    assert dossier.form_data["ho_ten_tre"] == FORM["ho_ten_tre"]
    assert dossier.applicant_birth_date == date(1990, 5, 1) and dossier.accepts_sms
    docs = list(dossier.documents.order_by("pk"))
    assert [(d.originals_received, d.copies_received, d.content_type) for d in docs] == [
        (1, 0, "application/pdf"),
        (1, 2, "image/png"),
    ]
    assert DossierEvent.objects.filter(dossier=dossier, action="received").count() == 1


def test_the_clerk_chooses_a_counter_and_it_goes_on_every_dossier_received(
    clerk_client, clerk, clerk_tamhop, form_url, post_data
):
    from motcua.org.models import Counter

    mine, _ = Counter.objects.get_or_create(agency=clerk.agency, number=7, defaults={"name": "Quầy số 7"})
    theirs, _ = Counter.objects.get_or_create(agency=clerk_tamhop.agency, number=7, defaults={"name": "Quầy số 7"})
    closed = Counter.objects.create(agency=clerk.agency, number=8, name="Quầy số 8", is_active=False)
    seat_url = reverse("dossiers:counter-seat")
    page = text_of(clerk_client.get(reverse("dossiers:counter")))
    assert 'id="counter-seat"' in page and "Quầy số 7" in page and "Quầy số 8" not in page

    # Another agency's counter, a closed one, garbage: refused with a message, the seat unchanged.
    for bad in (theirs.pk, closed.pk, "abc"):
        refused = clerk_client.post(seat_url, {"counter": bad}, follow=True)
        assert vi("This counter is not one of your agency's open counters.") in text_of(refused)
    clerk_client.post(form_url, post_data(), **HX)
    assert Dossier.objects.get().counter is None

    clerk_client.post(seat_url, {"counter": mine.pk})
    clerk_client.post(form_url, post_data(**{"applicant-id_number": "026090001235"}), **HX)
    assert Dossier.objects.get(applicant_id_number="026090001235").counter == mine
    mine.is_active = False  # closed during the day: the next dossier is received without a counter
    mine.save()
    clerk_client.post(form_url, post_data(**{"applicant-id_number": "026090001236"}), **HX)
    assert Dossier.objects.get(applicant_id_number="026090001236").counter is None


def test_without_htmx_the_form_posts_and_redirects_to_the_dossier(clerk_client, form_url, post_data):
    response = clerk_client.post(form_url, post_data())
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dossiers/{dossier.code}/"


def test_an_immediate_procedure_skips_the_appointment(clerk_client, org):
    proc = make_procedure("1.000894", time_kind=ProcedureVersion.TimeKind.IMMEDIATE, days="0")
    data = {
        "version": proc.version.pk,
        "outcome": "receive",
        "applicant-kind": "person",
        "applicant-full_name": "Trần Thị Bình",
        "applicant-id_number": "026190001111",
        "form-ho_ten_tre": "Trần Văn Cường",
        "form-ngay_sinh_tre": "2026-11-20",
        "doc-0-received": "on",
        "doc-0-originals": "1",
        "doc-1-received": "on",
        "doc-1-originals": "1",
    }
    response = clerk_client.post(reverse("dossiers:counter-form", args=[proc.code]), data, **HX)
    dossier = Dossier.objects.get()
    assert dossier.due_at is None and CODE_RE.match(dossier.code)
    assert vi("Immediate result: no appointment.") in text_of(response)
    slip = text_of(clerk_client.get(f"/dossiers/{dossier.code}/slip/"))
    assert vi("immediate result, no appointment") in slip


# --- bad input at the counter: a message next to the field, nothing saved ----------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"applicant-id_number": "02609000123"},
            "applicant-id_number",
            ("The CCCD number must have exactly 12 digits.",),
        ),
        (
            {"applicant-id_number": ""},
            "applicant-id_number",
            ("Enter the 12-digit personal identification number (CCCD).",),
        ),
        (
            {"applicant-phone": "+33 6 12 34 56 78"},
            "applicant-phone",
            ("Enter a Vietnamese phone number such as 0912345678, +84912345678 or 02113862xxx.",),
        ),
        ({"applicant-email": "an@"}, "applicant-email", ("Enter a valid e-mail address.",)),
        ({"applicant-full_name": "  "}, "applicant-full_name", ("Enter the applicant's full name.",)),
        (
            {"applicant-date_of_birth": "2999-01-01"},
            "applicant-date_of_birth",
            ("The date of birth cannot be in the future.",),
        ),
        ({"form-ho_ten_tre": ""}, "form-ho_ten_tre", None),
        ({"form-ngay_sinh_tre": "ngày mai"}, "form-ngay_sinh_tre", None),
        (
            {"doc-0-file": SimpleUploadedFile("scan.pdf", EXE, content_type="application/pdf")},
            "doc-0-file",
            ("Only PDF, JPEG and PNG files are accepted; this file is none of them.",),
        ),
        (
            {"doc-1-copies": "abc"},
            "doc-1-file",
            ("Counts of originals and copies are whole numbers from 0 to %(max)s.", {"max": 99}),
        ),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(
    clerk_client, form_url, post_data, media, overrides, field, message
):
    response = clerk_client.post(form_url, post_data(**overrides), **HX)
    assert response.status_code == 422
    if message is None:
        block = field_block(response.content.decode(), field)
        assert "has-error" in block and 'class="error"' in block
    else:
        assert_error_next_to(response, field, vi(message[0], **(message[1] if len(message) > 1 else {})))
    assert vi("Nothing was saved. Correct the fields marked in red; the chosen files must be chosen again.") in (
        text_of(response)
    )
    nothing_saved(media)


def test_a_required_document_not_ticked_is_refused(clerk_client, form_url, post_data, media):
    response = clerk_client.post(form_url, post_data(**{"doc-1-received": None, "doc-1-file": None}), **HX)
    assert response.status_code == 422
    assert vi("The mandatory document “%(name)s” has not been received.", name="Giấy chứng sinh") in text_of(response)
    nothing_saved(media)


def test_an_over_limit_file_is_refused(clerk_client, form_url, post_data, media, settings):
    settings.MOTCUA_MAX_FILE_SIZE = 1024
    big = pdf("lon.pdf", PDF + b"0" * 2048)
    response = clerk_client.post(form_url, post_data(**{"doc-0-file": big}), **HX)
    assert response.status_code == 422
    assert_error_next_to(
        response,
        "doc-0-file",
        vi("The file is too large: %(size)s MB, at most %(max)s MB per file.", size=0.0, max=0.0),
    )
    nothing_saved(media)


def test_what_the_clerk_typed_is_kept_on_error(clerk_client, form_url, post_data):
    response = clerk_client.post(form_url, post_data(**{"applicant-phone": "123"}), **HX)
    html = response.content.decode()
    assert 'value="Nguyễn Văn An"' in html and 'value="026090001234"' in html
    assert f'value="{FORM["ho_ten_tre"]}"' in html and 'value="2026-11-20"' in html


def test_html_in_a_name_is_shown_escaped(clerk_client, form_url, post_data):
    name = "<script>alert('x')</script> Lê Thị Hoa"
    failed = clerk_client.post(form_url, post_data(**{"applicant-full_name": name, "applicant-phone": "1"}), **HX)
    assert "<script>alert" not in failed.content.decode()
    assert "&lt;script&gt;alert" in failed.content.decode()
    clerk_client.post(form_url, post_data(**{"applicant-full_name": name}), **HX)
    dossier = Dossier.objects.get()
    for url in [
        f"/dossiers/{dossier.code}/",
        f"/dossiers/{dossier.code}/slip/",
        "/dossiers/?q=le+thi+hoa",
    ]:
        html = clerk_client.get(url).content.decode()
        assert "<script>alert" not in html and "&lt;script&gt;alert(" in html, url


def test_a_path_in_a_file_name_never_becomes_a_path(clerk_client, form_url, post_data, media, tmp_path):
    upload = pdf("../../../etc/cron.d/evil.pdf")
    response = clerk_client.post(form_url, post_data(**{"doc-0-file": upload}), **HX)
    assert response.status_code == 200
    document = DossierDocument.objects.filter(content_type="application/pdf").get()
    assert "/" not in document.original_filename and ".." not in document.original_filename
    assert document.file.name.startswith(f"dossiers/{document.dossier_id}/") and ".." not in document.file.name
    assert all(path.resolve().is_relative_to(media.resolve()) for path in stored_files(media))
    assert not (tmp_path / "etc").exists()


def test_an_unknown_outcome_or_a_stale_form_saves_nothing(clerk_client, form_url, post_data, media):
    response = clerk_client.post(form_url, post_data(outcome="approve"), **HX)
    assert response.status_code == 422
    assert vi("Choose one of the three outcomes: receive, guidance or refusal.") in text_of(response)
    stale = clerk_client.post(form_url, post_data(version="999999"), **HX)
    assert stale.status_code == 422
    assert vi("This procedure has been updated since the form was opened: check the form again.") in text_of(stale)
    nothing_saved(media)


def test_a_procedure_the_desk_does_not_receive_is_refused_with_the_services_message(clerk_client, org, media):
    proc = make_procedure(
        "2.001417", name="Cấp Phiếu lý lịch tư pháp", levels=("province",), agencies=("000.00.14.H62",)
    )
    data = {
        "version": proc.version.pk,
        "outcome": "receive",
        "applicant-full_name": "Ngô Văn Sơn",
        "applicant-id_number": "026090009999",
        "form-ho_ten_tre": "x",
        "form-ngay_sinh_tre": "2026-11-20",
        "doc-0-received": "on",
        "doc-1-received": "on",
    }
    response = clerk_client.post(reverse("dossiers:counter-form", args=[proc.code]), data, **HX)
    assert response.status_code == 422
    assert vi("This procedure is not carried out by your agency or the agencies your desk receives for.") in (
        text_of(response)
    )
    nothing_saved(media)


def test_the_province_centre_chooses_the_competent_commune(client, birth, org):
    client.force_login(user("motcua.tinh"))
    url = reverse("dossiers:counter-form", args=[birth.code])
    form = client.get(url, **HX).content.decode()
    assert 'name="competent_agency"' in form and LIENBAO in form
    data = {
        "version": birth.version.pk,
        "outcome": "receive",
        "applicant-full_name": "Phạm Thị Lan",
        "applicant-id_number": "026190002222",
        "form-ho_ten_tre": "Phạm Minh Đức",
        "form-ngay_sinh_tre": "2026-11-20",
        "doc-0-received": "on",
        "doc-0-originals": "1",
        "doc-1-received": "on",
        "doc-1-originals": "1",
    }
    missing = client.post(url, data, **HX)
    assert missing.status_code == 422
    assert vi("Several agencies carry out this procedure here: choose the competent one.") in text_of(missing)
    assert not Dossier.objects.exists()
    client.post(url, {**data, "competent_agency": LIENBAO}, **HX)
    dossier = Dossier.objects.get()
    assert dossier.code.startswith("000.00.24.H62-") and dossier.competent_agency.code == LIENBAO


# --- guidance and refusal ----------------------------------------------------------------------------


def test_guidance_lists_what_is_missing_and_why_without_a_code_or_clock(clerk_client, form_url, post_data, media):
    data = post_data(
        "guidance",
        **{
            "doc-1-received": None,
            "doc-1-file": None,
            "missing": "Bản sao CCCD của người đi khai",
            "reason": "Thiếu giấy",
        },
    )
    response = clerk_client.post(form_url, data, **HX)
    assert response.status_code == 200, text_of(response)[:2000]
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RETURNED_FOR_COMPLETION
    assert dossier.code is None and dossier.due_at is None and dossier.received_at is None
    assert not dossier.documents.exists()
    assert stored_files(media) == []  # no scans are kept for a dossier that was not received
    event = dossier.events.get()
    assert event.data == {"missing": ["Giấy chứng sinh", "Bản sao CCCD của người đi khai"], "reason": "Thiếu giấy"}
    assert f"/dossiers/id/{dossier.pk}/slip/?print=1" in response.content.decode()
    slip = text_of(clerk_client.get(f"/dossiers/id/{dossier.pk}/slip/"))
    assert "Giấy chứng sinh" in slip and "Bản sao CCCD của người đi khai" in slip and "Thiếu giấy" in slip
    assert vi("Request to complete the dossier") in slip


def test_guidance_needs_something_to_complete(clerk_client, form_url, post_data, media):
    response = clerk_client.post(form_url, post_data("guidance"), **HX)
    assert response.status_code == 422
    assert_error_next_to(response, "missing", vi("List what the applicant must add or correct."))
    nothing_saved(media)


def test_guidance_still_checks_the_applicant(clerk_client, form_url, post_data, media):
    response = clerk_client.post(form_url, post_data("guidance", missing="Tờ khai", **{"applicant-phone": "12"}), **HX)
    assert response.status_code == 422
    assert_error_next_to(
        response,
        "applicant-phone",
        vi("Enter a Vietnamese phone number such as 0912345678, +84912345678 or 02113862xxx."),
    )
    nothing_saved(media)


def test_refusal_records_the_reason_and_prints_it(clerk_client, form_url, post_data):
    reason = "Thủ tục không thuộc thẩm quyền của UBND phường"
    response = clerk_client.post(form_url, post_data("refuse", reason=reason), **HX)
    assert response.status_code == 200
    dossier = Dossier.objects.get()
    assert dossier.status == Status.REFUSED and dossier.code is None
    assert dossier.events.get().data == {"reason": reason}
    slip = text_of(clerk_client.get(f"/dossiers/id/{dossier.pk}/slip/"))
    assert reason in slip and vi("Refusal to receive the dossier") in slip


def test_refusal_without_a_reason_saves_nothing(clerk_client, form_url, post_data, media):
    response = clerk_client.post(form_url, post_data("refuse", reason="   "), **HX)
    assert response.status_code == 422
    assert_error_next_to(response, "reason", vi("Give the reason for refusing the dossier."))
    nothing_saved(media)


# --- slips -------------------------------------------------------------------------------------------


def test_the_receipt_slip_is_an_a4_page_with_the_motto_code_due_and_qr(clerk_client, form_url, post_data):
    clerk_client.post(form_url, post_data(), **HX)
    dossier = Dossier.objects.get()
    response = clerk_client.get(f"/dossiers/{dossier.code}/slip/")
    html = response.content.decode()
    text = unescape(html)
    assert response.status_code == 200
    assert "@page { size: A4; margin: 20mm 15mm 20mm 30mm; }" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "ỦY BAN NHÂN DÂN PHƯỜNG LIÊN BẢO" in text and "Liên Bảo, ngày" in text
    assert vi("Receipt and appointment slip") in text
    assert dossier.code in text and "Nguyễn Văn An" in text and "Giấy chứng sinh" in text
    due = timezone.localtime(dossier.due_at)
    assert (
        vi("%(h)s h %(i)s, on %(day)s")
        % {"h": due.strftime("%H"), "i": due.strftime("%M"), "day": due.strftime("%d/%m/%Y")}
        in text
    )
    assert re.search(r"<svg[^>]*class=\"segno\"", html)
    assert "print.js" not in html
    assert "print.js" in clerk_client.get(f"/dossiers/{dossier.code}/slip/?print=1").content.decode()


# --- search and dossier page -------------------------------------------------------------------------


def test_search_by_name_without_diacritics_and_by_every_filter(clerk_client, receive, birth):
    now = timezone.now()
    first = receive(
        now=now, applicant=applicant(full_name="Lường Thị Hoà", id_number="026190003333", phone="0987654321")
    )
    second = receive(now=now, applicant=applicant(full_name="Lường Văn Đức"))
    services.refuse(
        clerk=first.received_by,
        procedure_code=birth.code,
        applicant=applicant(full_name="Lường Minh Tâm"),
        reason="Sai thẩm quyền",
    )
    page = text_of(clerk_client.get("/dossiers/", {"q": "luong"}))
    for name in ["Lường Thị Hoà", "Lường Văn Đức", "Lường Minh Tâm"]:
        assert name in page

    def codes(**filters) -> set[str]:
        html = clerk_client.get("/dossiers/", filters, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-results")
        assert "<html" not in html.content.decode()
        return set(re.findall(rf"{re.escape(LIENBAO)}-\d{{6}}-\d{{4}}", html.content.decode()))

    assert codes(q="luong thi hoa") == {first.code}
    assert codes(code=second.code.lower()) == {second.code}
    assert codes(id_number="0261 9000 3333") == {first.code}
    assert codes(phone="+84987654321") == {first.code}
    assert codes(procedure=birth.code, status="received") == {first.code, second.code}
    today = timezone.localdate(now)
    assert codes(received_from=today.isoformat(), received_to=today.isoformat()) == {first.code, second.code}
    assert codes(received_to=(today - timedelta(days=1)).isoformat()) == set()
    assert codes(timeliness="within_time") == {first.code, second.code}
    assert codes(timeliness="overdue") == set()
    refused = text_of(clerk_client.get("/dossiers/", {"status": "refused"}))
    assert "Lường Minh Tâm" in refused and "Lường Thị Hoà" not in refused


def test_bad_search_dates_are_shown_next_to_the_field(clerk_client, receive):
    response = clerk_client.get("/dossiers/", {"received_from": "2026-12-31", "received_to": "2026-01-01"})
    assert_error_next_to(response, "received_to", vi("The end date is before the start date."))
    assert vi("Correct the filters marked in red.") in text_of(response)


def test_the_dossier_page_shows_data_documents_holder_deadline_and_timeline(clerk_client, clerk, form_url, post_data):
    clerk_client.post(form_url, post_data(), **HX)
    dossier = Dossier.objects.get()
    services.start_processing(dossier, actor=clerk)
    html = text_of(clerk_client.get(f"/dossiers/{dossier.code}/"))
    assert dossier.code in html and "Nguyễn Văn An" in html and "026090001234" in html
    assert "Họ tên trẻ" in html and FORM["ho_ten_tre"] in html and "20/11/2026" in html
    assert "to-khai.pdf" in html and "giay-chung-sinh.png" in html
    assert timezone.localtime(dossier.due_at).strftime("%d/%m/%Y %H:%M") in html
    assert "Ủy ban nhân dân phường Liên Bảo" in html
    assert vi("received") in html and vi("processing started") in html and vi("in process") in html
    assert vi("within time") in html and clerk.full_name in html and vi("One-stop clerk") in html
    document = dossier.documents.order_by("pk").first()
    assert reverse("dossiers:document", args=[document.pk]) in html
    # A record without a code is addressed by its id; a dossier with a code is redirected to it.
    assert clerk_client.get(f"/dossiers/id/{dossier.pk}/")["Location"] == f"/dossiers/{dossier.code}/"


# --- scope between communes --------------------------------------------------------------------------


@pytest.fixture
def tamhop_dossier(clerk_tamhop, birth):
    return services.receive_at_counter(
        clerk=clerk_tamhop,
        procedure_code=birth.code,
        applicant=applicant(full_name="Đặng Thị Hồng", id_number="026190005678", phone="0387654321"),
        form_data=FORM,
        documents=birth.documents(f0=pdf("tam-hop.pdf")),
    )


def test_a_lien_bao_clerk_cannot_read_find_or_change_a_tam_hop_dossier(clerk_client, tamhop_dossier, clerk_tamhop):
    code = tamhop_dossier.code
    document = tamhop_dossier.documents.exclude(file="").get()
    for url in [
        f"/dossiers/{code}/",
        f"/dossiers/id/{tamhop_dossier.pk}/",
        f"/dossiers/{code}/slip/",
        f"/dossiers/id/{tamhop_dossier.pk}/slip/",
        reverse("dossiers:document", args=[document.pk]),
    ]:
        assert clerk_client.get(url).status_code == 404, url
    for filters in [{"q": "dang thi hong"}, {"code": code}, {"id_number": "026190005678"}, {"phone": "0387654321"}]:
        response = clerk_client.get("/dossiers/", filters)
        assert response.context["page"].paginator.count == 0
        assert f"/dossiers/{code}/" not in response.content.decode()
    assert clerk_client.get("/counter/go/", {"q": code}, **HX).status_code == 404
    with pytest.raises(PermissionDenied):
        services.start_processing(tamhop_dossier, actor=user("motcua.lienbao"))
    tamhop_dossier.refresh_from_db()
    assert tamhop_dossier.status == Status.RECEIVED
    # Its own commune sees it.
    clerk_client.force_login(clerk_tamhop)
    assert clerk_client.get(f"/dossiers/{code}/").status_code == 200
    assert code in clerk_client.get("/dossiers/", {"q": "dang thi hong"}).content.decode()


# --- attachments -------------------------------------------------------------------------------------


def test_attachments_download_only_after_a_permission_check(client, clerk, tamhop_dossier, clerk_tamhop, settings):
    document = tamhop_dossier.documents.exclude(file="").get()
    url = reverse("dossiers:document", args=[document.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/staff/login/" in anonymous["Location"]
    client.force_login(clerk_tamhop)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"].startswith("attachment;") and "tam-hop.pdf" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    # The district above sees it, a sibling district does not; the media URL serves nothing.
    client.force_login(user("giamsat.binhxuyen"))
    assert client.get(url).status_code == 200
    client.force_login(user("giamsat.vinhyen"))
    assert client.get(url).status_code == 404
    settings.DEBUG = True
    assert client.get(f"/{settings.MEDIA_URL.strip('/')}/{document.file.name}").status_code == 404
    assert client.get(reverse("dossiers:document", args=[999999])).status_code == 404


def test_media_urls_are_not_routed(client, clerk_client, form_url, post_data):
    from django.urls import Resolver404, resolve

    clerk_client.post(form_url, post_data(), **HX)
    name = DossierDocument.objects.exclude(file="").first().file.name
    with pytest.raises(Resolver404):
        resolve(f"/media/{name}")


def test_the_dossier_page_shows_the_national_sync_state(clerk_client, form_url, post_data):
    from motcua.integrations.models import NationalDossierLink

    clerk_client.post(form_url, post_data(), **HX)
    dossier = Dossier.objects.get()
    assert 'id="national-sync"' not in clerk_client.get(f"/dossiers/{dossier.code}/").content.decode()
    NationalDossierLink.objects.create(dossier=dossier, sync_state="failed", last_error="MaTTHC <không hợp lệ>")
    html = clerk_client.get(f"/dossiers/{dossier.code}/").content.decode()
    assert 'id="national-sync"' in html and "MaTTHC &lt;không hợp lệ&gt;" in html


def test_the_slip_template_renders_to_one_a4_pdf_page_with_weasyprint(clerk_client, form_url, post_data, tmp_path):
    """The slip is laid out without a script, so the documents app can turn the same HTML into a PDF."""
    import shutil
    import subprocess

    import weasyprint

    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: run `make browser` (installs poppler-utils).")
    clerk_client.post(form_url, post_data(), **HX)
    dossier = Dossier.objects.get()
    html = clerk_client.get(f"/dossiers/{dossier.code}/slip/").content.decode()
    document = weasyprint.HTML(string=html, base_url="http://127.0.0.1/").render()
    assert len(document.pages) == 1
    page = document.pages[0]
    assert (round(page.width * 25.4 / 96), round(page.height * 25.4 / 96)) == (210, 297)  # A4, in mm
    pdf = tmp_path / "slip.pdf"
    document.write_pdf(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(text.split())  # the line breaks depend on the system fonts the page falls back to
    assert dossier.code in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Nguyễn Văn An" in text
