"""The dossier API through real HTTP requests with real tokens: intake, counter outcomes, detail,
search, status changes, scope, and every bad input answered clearly with nothing saved."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone, translation

from motcua.api import services as token_services
from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import IllegalTransition
from motcua.dossiers.models import Dossier, DossierCodeSequence, DossierDocument, DossierEvent
from motcua.org.models import Agency
from motcua.worktime.selectors import calendar_for_agency
from tests.api.conftest import (
    BIRTH,
    BUSINESS,
    EXTRACT,
    LIENBAO,
    PDF,
    TAMHOP,
    applicant,
    b64,
    extract_payload,
    staff,
    stored_files,
)

URL = "/api/v1/dossiers"


CODE_RE = re.compile(r"^(?P<agency>[0-9A-Z.]+)-(?P<day>\d{6})-(?P<number>\d{4,})$")


def parse_moment(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def assert_nothing_saved(media=None) -> None:
    assert Dossier.objects.count() == 0
    assert DossierEvent.objects.count() == 0
    assert DossierDocument.objects.count() == 0
    assert not DossierCodeSequence.objects.filter(last_number__gt=0).exists()
    if media is not None:
        assert stored_files(media) == []


def receive(client, **overrides) -> dict:
    response = client.post_json(URL, extract_payload(**overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def in_process(code: str) -> Dossier:
    """The dossier moved to processing, whether or not a workflow already did it at receipt."""
    dossier = Dossier.objects.get(code=code)
    if dossier.status == "received":
        dossier_services.start_processing(dossier, actor=staff("motcua.lienbao"))
    dossier.refresh_from_db()
    assert dossier.status == "in_process"
    return dossier


def _missing_form_field() -> dict:
    payload = extract_payload()
    del payload["form_data"]["loai_trich_luc"]
    return payload


BAD_INPUTS = {
    "wrong ID number": (
        lambda: extract_payload(applicant=applicant(id_number="12345")),
        "applicant.id_number",
        "12 chữ số",
    ),
    "foreign phone": (
        lambda: extract_payload(applicant=applicant(phone="+1 415 555 0100")),
        "applicant.phone",
        "số điện thoại Việt Nam",
    ),
    "required form field missing": (_missing_form_field, "form_data.loai_trich_luc", ""),
    "required document not ticked": (lambda: extract_payload(documents=[]), "documents", "bắt buộc"),
    "executable renamed .pdf": (
        lambda: extract_payload(
            documents=[
                {"component": 1, "file": {"name": "to-khai.pdf", "content_base64": b64(b"MZ\x90\x00" + b"\x00" * 60)}}
            ]
        ),
        "documents.0.file",
        "PDF, JPEG",
    ),
    "ELF renamed .pdf": (
        lambda: extract_payload(
            documents=[
                {
                    "component": 1,
                    "file": {"name": "scan.pdf", "content_base64": b64(b"\x7fELF\x02\x01\x01" + b"\0" * 57)},
                }
            ]
        ),
        "documents.0.file",
        "PDF, JPEG",
    ),
    "invalid base64": (
        lambda: extract_payload(
            documents=[{"component": 1, "file": {"name": "a.pdf", "content_base64": "%%%not*b64"}}]
        ),
        "documents.0.file.content_base64",
        "base64",
    ),
    "unknown procedure": (lambda: extract_payload(procedure_code="9.999999"), "procedure_code", "9.999999"),
    "not a procedure code": (lambda: extract_payload(procedure_code="khai sinh"), "procedure_code", ""),
    "procedure of another level": (
        lambda: extract_payload(
            procedure_code=BUSINESS,
            form_data={
                "ten_ho_kinh_doanh": "Hộ kinh doanh An",
                "dia_diem": "Liên Bảo",
                "nganh_nghe": "Tạp hóa",
                "von_kinh_doanh": "50000000",
                "so_dinh_danh_chu_ho": "026090001234",
            },
            documents=[{"component": 1}, {"component": 2}],
        ),
        "procedure_code",
        "không",
    ),
    "component the procedure does not have": (
        lambda: extract_payload(documents=[{"component": 1}, {"component": 7}]),
        "documents.1.component",
        "7",
    ),
    "future birth date": (
        lambda: extract_payload(applicant=applicant(date_of_birth="2999-01-01")),
        "applicant.date_of_birth",
        "",
    ),
    "unknown applicant field": (lambda: extract_payload(applicant=applicant(nickname="An")), "applicant.nickname", ""),
}


def snapshot(code: str) -> tuple:
    dossier = Dossier.objects.get(code=code)
    return dossier.status, dossier.paused_at, dossier.due_at, dossier.events.count(), dossier.pauses.count()


@pytest.mark.usefixtures("demo")
class TestIntake:
    """POST /api/v1/dossiers: what is saved, and every bad input refused with nothing saved."""

    def test_receive_gives_code_due_moment_and_records_the_event(self, lienbao):
        response = lienbao.post_json(URL, extract_payload())
        assert response.status_code == 201, response.json()
        body = response.json()

        received_at = parse_moment(body["received_at"])
        assert abs(timezone.now() - received_at) < timedelta(minutes=1)
        assert received_at.utcoffset() == timedelta(hours=7)  # Vietnam time on the wire
        match = CODE_RE.match(body["code"])
        assert match, body["code"]
        assert match["agency"] == LIENBAO
        assert match["day"] == timezone.localtime(received_at).strftime("%y%m%d")
        assert int(match["number"]) == 1

        agency = Agency.objects.get(code=LIENBAO)
        expected_due = calendar_for_agency(agency).due_moment(received_at, Decimal("0.5"))
        assert expected_due is not None and expected_due > received_at
        assert parse_moment(body["due_at"]) == expected_due
        assert body["moments"]["due_at"] == body["due_at"]
        assert body["status"] in {"received", "in_process"}
        assert body["receiving_agency"]["code"] == LIENBAO
        assert body["competent_agency"]["code"] == LIENBAO
        assert body["procedure"]["code"] == EXTRACT
        assert body["applicant"]["full_name"] == "Nguyễn Văn An"
        assert body["applicant"]["date_of_birth"] == "1990-05-17"
        assert body["form_data"]["so_ban"] == 2
        assert body["documents"] == [
            {
                "component": 1,
                "name": "Tờ khai cấp bản sao trích lục hộ tịch theo mẫu",
                "originals": 1,
                "copies": 0,
                "file": None,
            }
        ]
        assert body["events"][0]["action"] == "received"
        assert body["timeliness"] == "within_time"

        dossier = Dossier.objects.get(code=body["code"])
        assert dossier.received_by == staff("motcua.lienbao")
        event = dossier.events.get(action="received")
        assert event.client_address == "127.0.0.1"
        assert event.actor == staff("motcua.lienbao")

        second = receive(lienbao, applicant=applicant(full_name="Trần Thị Bích", id_number="026090009999"))
        assert CODE_RE.match(second["code"])["number"] == "0002"

    def test_immediate_procedure_has_no_due_moment(self, lienbao):
        response = lienbao.post_json(
            URL,
            {
                "procedure_code": BIRTH,
                "applicant": applicant(),
                "form_data": {
                    "ho_ten_tre": "Nguyễn Văn Bình",
                    "ngay_sinh": "2026-11-20",
                    "gioi_tinh": "Nam",
                    "so_dinh_danh_me": "026190005678",
                },
                "documents": [{"component": 1}, {"component": 2}],
            },
        )
        assert response.status_code == 201, response.json()
        assert response.json()["due_at"] is None
        assert Dossier.objects.get(code=response.json()["code"]).due_at is None

    def test_attached_scan_is_stored_under_our_name_and_listed_without_content(self, lienbao, media):
        body = receive(
            lienbao,
            documents=[{"component": 1, "file": {"name": "../../etc/passwd.pdf", "content_base64": b64(PDF)}}],
        )
        assert body["documents"][0]["file"] == {
            "name": "passwd.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
        }
        files = stored_files(media)
        assert len(files) == 1 and files[0].read_bytes() == PDF
        assert "passwd" not in str(files[0]) and "etc" not in files[0].relative_to(media).parts
        detail = lienbao.get(f"{URL}/{body['code']}")
        assert detail.status_code == 200
        assert "content_base64" not in detail.content.decode()
        assert b64(PDF) not in detail.content.decode()

    def test_windows_path_in_file_name_is_stripped(self, lienbao):
        body = receive(
            lienbao,
            documents=[
                {"component": 1, "file": {"name": "C:\\Users\\an\\scan tờ khai.pdf", "content_base64": b64(PDF)}}
            ],
        )
        assert body["documents"][0]["file"]["name"] == "scan tờ khai.pdf"

    def test_html_in_names_is_kept_as_text(self, lienbao):
        html_name = "<img src=x onerror=alert(1)>"
        body = receive(
            lienbao,
            applicant=applicant(full_name=f"{html_name} Nguyễn"),
            documents=[{"component": 1, "file": {"name": f"{html_name}.pdf", "content_base64": b64(PDF)}}],
        )
        detail = lienbao.get(f"{URL}/{body['code']}")
        assert detail["Content-Type"].startswith("application/json")
        data = detail.json()
        assert data["applicant"]["full_name"] == f"{html_name} Nguyễn"
        assert data["documents"][0]["file"]["name"] == f"{html_name}.pdf"
        assert "&lt;" not in detail.content.decode()
        assert Dossier.objects.get(code=body["code"]).applicant_name == f"{html_name} Nguyễn"

    @pytest.mark.parametrize("case", list(BAD_INPUTS))
    def test_bad_input_is_refused_clearly_and_nothing_is_saved(self, lienbao, media, case):
        make, field, words = BAD_INPUTS[case]
        response = lienbao.post_json(URL, make())
        assert response.status_code == 422, response.json()
        body = response.json()
        fields = {e["field"]: e["message"] for e in body["errors"]}
        assert field in fields, body
        assert fields[field] and body["detail"]
        assert words in fields[field]
        assert fields[field] in body["detail"]
        assert_nothing_saved(media)

    def test_file_over_the_limit_is_refused(self, lienbao, media, settings):
        settings.MOTCUA_MAX_FILE_SIZE = 1024
        just_over = PDF + b"0" * (1025 - len(PDF))
        far_over = PDF + b"0" * 10_000
        for content in (just_over, far_over):
            response = lienbao.post_json(
                URL,
                extract_payload(
                    documents=[{"component": 1, "file": {"name": "big.pdf", "content_base64": b64(content)}}]
                ),
            )
            assert response.status_code == 422, response.json()
            (error,) = response.json()["errors"]
            assert error["field"] == "documents.0.file"
            assert "Tệp quá lớn" in error["message"]
        assert_nothing_saved(media)
        exactly = PDF + b"0" * (1024 - len(PDF))
        receive(lienbao, documents=[{"component": 1, "file": {"name": "ok.pdf", "content_base64": b64(exactly)}}])

    def test_a_body_over_the_request_limit_gets_413(self, lienbao, media, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
        payload = extract_payload(
            documents=[{"component": 1, "file": {"name": "a.pdf", "content_base64": b64(PDF + b"0" * 4096)}}]
        )
        response = lienbao.post_json(URL, payload)
        assert response.status_code == 413
        assert response.json()["detail"] and response.json()["errors"] == []
        assert_nothing_saved(media)

    def test_malformed_json_shapes_are_422(self, lienbao):
        response = lienbao.post_json(URL, {"procedure_code": EXTRACT, "applicant": "Nguyễn Văn An"})
        assert response.status_code == 422
        assert any(e["field"].startswith("payload.applicant") for e in response.json()["errors"])
        assert_nothing_saved()


@pytest.mark.usefixtures("demo")
class TestWhoMayReceive:
    """Only a one-stop clerk's token receives; a citizen's token sees no staff dossier."""

    @pytest.mark.parametrize("local", ["chuyenvien.lienbao", "giamsat.lienbao", "quantri.lienbao"])
    def test_only_a_clerk_token_can_receive(self, client_for, media, local):
        response = client_for(local).post_json(URL, extract_payload())
        assert response.status_code == 403
        assert response.json()["detail"] and response.json()["errors"] == []
        assert_nothing_saved(media)

    def test_a_citizen_token_sees_and_changes_no_staff_dossier(self, lienbao):
        from motcua.org.models import User
        from tests.api.conftest import ApiClient

        code = receive(lienbao)["code"]
        _token, plaintext = token_services.issue_token(User.objects.get(email="nguyenvanan@example.vn"), "citizen")
        citizen = ApiClient(plaintext)
        assert citizen.get(f"{URL}/{code}").status_code == 404
        assert citizen.get(URL).json()["count"] == 0
        assert citizen.post_json(f"{URL}/{code}/withdraw", {"reason": "x"}).status_code == 404
        assert citizen.post_json(URL, extract_payload()).status_code == 403
        assert Dossier.objects.count() == 1


@pytest.mark.usefixtures("demo")
class TestCounterOutcomes:
    """The two other outcomes at the counter: guidance and refusal (no code, no clock)."""

    def test_guidance_is_recorded_without_code(self, lienbao):
        response = lienbao.post_json(
            f"{URL}/guidance",
            {
                "procedure_code": EXTRACT,
                "applicant": applicant(id_number=""),
                "missing": ["Tờ khai có chữ ký", "  "],
                "reason": "Tờ khai chưa ký",
            },
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "returned_for_completion"
        assert body["missing"] == ["Tờ khai có chữ ký"] and body["reason"] == "Tờ khai chưa ký"
        assert "code" not in body
        dossier = Dossier.objects.get(pk=body["id"])
        assert dossier.code is None and dossier.due_at is None
        assert dossier.events.get().client_address == "127.0.0.1"

    def test_guidance_needs_what_is_missing(self, lienbao):
        response = lienbao.post_json(f"{URL}/guidance", {"procedure_code": EXTRACT, "applicant": applicant()})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["missing"]
        assert_nothing_saved()

    def test_refusal_is_recorded_and_needs_a_reason(self, lienbao):
        bad = lienbao.post_json(f"{URL}/refusals", {"procedure_code": BUSINESS, "applicant": applicant()})
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["reason"]
        assert_nothing_saved()
        response = lienbao.post_json(
            f"{URL}/refusals",
            {"procedure_code": BUSINESS, "applicant": applicant(), "reason": "Thủ tục thuộc thẩm quyền cấp huyện"},
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "refused" and body["reason"] == "Thủ tục thuộc thẩm quyền cấp huyện"
        assert Dossier.objects.get(pk=body["id"]).code is None


@pytest.mark.usefixtures("demo")
class TestDetailSearchScope:
    """One dossier and the search, scoped to the caller's unit."""

    def test_detail_and_out_of_scope_look_the_same_as_unknown(self, lienbao, tamhop):
        code = receive(lienbao)["code"]
        mine = lienbao.get(f"{URL}/{code}")
        assert mine.status_code == 200 and mine.json()["code"] == code
        assert lienbao.get(f"{URL}/{code.lower()}").status_code == 200

        theirs = tamhop.get(f"{URL}/{code}")
        unknown_code = code[:-4] + "9999"
        unknown = tamhop.get(f"{URL}/{unknown_code}")
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json()["detail"].replace(code, "X") == unknown.json()["detail"].replace(unknown_code, "X")
        assert code in theirs.json()["detail"]

    def test_search_is_scoped_and_filters(self, lienbao, tamhop):
        first = receive(lienbao)["code"]
        second = receive(
            lienbao, applicant=applicant(full_name="Trần Thị Bích", id_number="026090009999", phone="0987654321")
        )["code"]
        tamhop_payload = extract_payload()
        other = receive(tamhop, **{k: v for k, v in tamhop_payload.items() if k != "procedure_code"})["code"]
        assert other.startswith(TAMHOP)

        def codes(client, **params) -> list[str]:
            response = client.get(URL, params)
            assert response.status_code == 200, response.json()
            return [item["code"] for item in response.json()["items"]]

        assert codes(lienbao) == [second, first]
        assert lienbao.get(URL).json()["count"] == 2
        assert codes(tamhop) == [other]
        assert codes(lienbao, q="nguyen van an") == [first]
        assert codes(lienbao, q="TRAN thi") == [second]
        assert codes(lienbao, code=other) == []
        assert codes(lienbao, q=other) == []
        assert codes(lienbao, id_number="026090009999") == [second]
        assert codes(lienbao, phone="+84 987 654 321") == [second]
        assert codes(lienbao, procedure=EXTRACT) == [second, first]
        assert codes(lienbao, procedure=BIRTH) == []
        today = timezone.localdate().isoformat()
        assert codes(lienbao, received_from=today, received_to=today) == [second, first]
        yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
        assert codes(lienbao, received_to=yesterday) == []
        assert codes(lienbao, timeliness="within_time") == [second, first]
        assert codes(lienbao, timeliness="late") == []
        status = Dossier.objects.get(code=first).status
        assert codes(lienbao, status=status) == [second, first]
        assert codes(lienbao, status="withdrawn") == []
        assert codes(lienbao, page_size=1) == [second]
        assert codes(lienbao, page_size=1, page=2) == [first]
        item = lienbao.get(URL, {"code": first}).json()["items"][0]
        assert item["procedure_code"] == EXTRACT and item["applicant_name"] == "Nguyễn Văn An"
        assert item["timeliness"] == "within_time" and item["receiving_agency"] == LIENBAO

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"received_from": "30/02/2026"}, "received_from"),
            ({"received_to": "hôm qua"}, "received_to"),
            ({"status": "lost"}, "status"),
            ({"timeliness": "soon"}, "timeliness"),
        ],
    )
    def test_search_rejects_bad_filters_clearly(self, lienbao, params, field):
        response = lienbao.get(URL, params)
        assert response.status_code == 422
        body = response.json()
        assert [e["field"] for e in body["errors"]] == [field]
        assert body["detail"] == body["errors"][0]["message"]


@pytest.mark.usefixtures("demo")
class TestStatusChanges:
    """Supplement request / receipt and withdrawal: 409, 422, 404 and nothing changed on error."""

    def test_supplement_cycle_and_withdrawal(self, lienbao):
        code = receive(lienbao)["code"]
        in_process(code)
        asked = lienbao.post_json(f"{URL}/{code}/supplement-request", {"reason": "Thiếu bản sao CCCD"})
        assert asked.status_code == 200, asked.json()
        assert asked.json()["status"] == "waiting_for_supplement"
        assert asked.json()["moments"]["paused_at"] is not None
        assert asked.json()["events"][-1]["data"] == {"reason": "Thiếu bản sao CCCD"}

        resumed = lienbao.post_json(f"{URL}/{code}/supplement-received", {})
        assert resumed.status_code == 200, resumed.json()
        assert resumed.json()["status"] == "in_process"
        assert resumed.json()["moments"]["paused_at"] is None

        withdrawn = lienbao.post_json(f"{URL}/{code}/withdraw", {"reason": "Người nộp xin rút"})
        assert withdrawn.status_code == 200, withdrawn.json()
        assert withdrawn.json()["status"] == "withdrawn"
        assert withdrawn.json()["moments"]["finished_at"] is not None
        actions = [e.action for e in Dossier.objects.get(code=code).events.all()]
        assert actions[-3:] == ["supplement_requested", "supplement_received", "withdrawn"]
        through_api = Dossier.objects.get(code=code).events.exclude(action="processing_started")
        assert {e.client_address for e in through_api} == {"127.0.0.1"}

    def test_transition_the_status_does_not_allow_is_409_and_changes_nothing(self, lienbao):
        code = receive(lienbao)["code"]
        in_process(code)
        before = snapshot(code)
        response = lienbao.post_json(f"{URL}/{code}/supplement-received", {})
        assert response.status_code == 409
        with translation.override("vi"):
            expected = str(IllegalTransition("in_process", "in_process"))
        assert response.json()["detail"] == expected
        assert "không thể chuyển sang" in expected
        assert response.json()["errors"] == []
        assert snapshot(code) == before

        lienbao.post_json(f"{URL}/{code}/withdraw", {"reason": "Rút"})
        final = snapshot(code)
        again = lienbao.post_json(f"{URL}/{code}/withdraw", {"reason": "Rút lần hai"})
        assert again.status_code == 409
        assert snapshot(code) == final

    def test_a_reason_is_required_and_nothing_changes_without_it(self, lienbao):
        code = receive(lienbao)["code"]
        in_process(code)
        before = snapshot(code)
        for path in ("supplement-request", "withdraw"):
            response = lienbao.post_json(f"{URL}/{code}/{path}", {"reason": "   "})
            assert response.status_code == 422
            assert [e["field"] for e in response.json()["errors"]] == ["reason"]
            assert snapshot(code) == before

    def test_clerk_of_another_commune_cannot_change_a_dossier(self, lienbao, tamhop):
        code = receive(lienbao)["code"]
        in_process(code)
        before = snapshot(code)
        for path, body in (("supplement-request", {"reason": "x"}), ("withdraw", {"reason": "x"})):
            response = tamhop.post_json(f"{URL}/{code}/{path}", body)
            assert response.status_code == 404
        assert tamhop.post_json(f"{URL}/{code}/supplement-received", {}).status_code == 404
        assert snapshot(code) == before

    def test_unknown_dossier_transition_is_404(self, lienbao):
        response = lienbao.post_json(f"{URL}/000.21.31.H62-260101-0001/withdraw", {"reason": "x"})
        assert response.status_code == 404


# A real server: live_server needs committed data, so this test loads the demo itself, outside any class.
@pytest.mark.django_db(transaction=True)
def test_intake_over_a_live_server(live_server, settings, tmp_path):
    import io

    call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
    _token, plaintext = token_services.issue_token(staff("motcua.lienbao"), "live")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {plaintext}"
    url = f"{live_server.url}{URL}"
    payload = extract_payload(documents=[{"component": 1, "file": {"name": "tờ khai.pdf", "content_base64": b64(PDF)}}])
    created = session.post(url, json=payload, timeout=30)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert CODE_RE.match(code)
    fetched = session.get(f"{url}/{code}", timeout=30)
    assert fetched.status_code == 200
    assert fetched.json()["documents"][0]["file"]["name"] == "tờ khai.pdf"
    listed = session.get(url, params={"q": "nguyen"}, timeout=30)
    assert [item["code"] for item in listed.json()["items"]] == [code]
    anonymous = requests.post(url, json=payload, timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert Dossier.objects.count() == 1
