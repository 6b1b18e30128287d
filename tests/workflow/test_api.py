"""The workflow API with real bearer tokens: inbox, transitions (200/403/404/409/422), the control sheet."""

import base64
from datetime import datetime

import pytest
from django.test import Client

from motcua.api import services as token_services
from motcua.workflow import services
from motcua.workflow.models import StepAttachment, StepRun
from tests.workflow.conftest import LIENBAO, PDF, VINHYEN_BRANCH, VN, at, counts, current, staff

pytestmark = pytest.mark.django_db
#: A Monday long past and one far ahead of the real clock, so filters on "now" are certain.
PAST = datetime(2025, 6, 2, 9, 0, tzinfo=VN)
FUTURE = datetime(2030, 6, 3, 9, 0, tzinfo=VN)


class Api(Client):
    def __init__(self, user=None, language: str = "vi") -> None:
        extra = {"HTTP_ACCEPT_LANGUAGE": language}
        if user is not None:
            _token, plaintext = token_services.issue_token(user, "tests")
            extra["HTTP_AUTHORIZATION"] = f"Bearer {plaintext}"
        super().__init__(**extra)

    def act(self, code: str, **body):
        return self.post(f"/api/v1/dossiers/{code}/transitions", body, content_type="application/json")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def error_shape(response) -> dict:
    body = response.json()
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    return body


def test_authentication_is_required(workflow):
    response = Client().get("/api/v1/inbox")
    assert response.status_code == 401
    error_shape(response)
    assert Client().post("/api/v1/dossiers/X/transitions", {}, content_type="application/json").status_code == 401


def test_inbox_with_filters(workflow, receive, commune):
    old, new = receive(now=PAST), receive(now=FUTURE)
    api = Api(commune)
    body = api.get("/api/v1/inbox").json()
    assert body["count"] == 2
    first = body["items"][0]
    assert first["dossier"]["code"] == old.code and first["urgency"] == "overdue"
    assert first["step"] | {"id": 0} == {
        "id": 0,
        "sequence": 1,
        "key": "xa",
        "name": "UBND xã xác nhận",
        "kind": "task",
        "agency": {"code": LIENBAO, "name": "Ủy ban nhân dân phường Liên Bảo"},
        "department": None,
        "role": "specialist",
        "role_label": "Chuyên viên",
        "assignee": None,
        "started_at": "2025-06-02T09:00:00+07:00",
        "budget_sessions": 2,
        "due_at": "2025-06-03T11:30:00+07:00",  # 2 sessions after Monday 09:00
        "paused": False,
    }
    assert first["dossier"]["status"] == "in_process" and first["dossier"]["due_at"] == "2025-06-09T11:30:00+07:00"
    assert [a["key"] for a in first["actions"]] == ["claim", "len-huyen"]
    assert body["items"][1]["urgency"] == "within_time"
    overdue = api.get("/api/v1/inbox", {"filter": "overdue"}).json()
    assert [i["dossier"]["code"] for i in overdue["items"]] == [old.code]
    assert api.get("/api/v1/inbox", {"filter": "due_soon"}).json()["count"] == 0
    assert [i["dossier"]["code"] for i in api.get("/api/v1/inbox", {"page": 2, "page_size": 1}).json()["items"]] == [
        new.code
    ]
    bad = api.get("/api/v1/inbox", {"filter": "later"})
    assert bad.status_code == 422 and error_shape(bad)["errors"][0]["field"] == "filter"
    assert Api(staff("chuyenvien.tinh")).get("/api/v1/inbox").json() == {"count": 0, "items": []}


def test_a_transition_answers_the_new_step(workflow, receive, commune, media):
    dossier = receive(now=PAST)  # acted on now, long after the step's due moment: late
    response = Api(commune).act(
        dossier.code,
        action="len-huyen",
        comment="Đã xác nhận hiện trạng",
        attachments=[{"name": "bien-ban.pdf", "content_base64": b64(PDF), "kind": "draft"}],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dossier"]["status"] == "in_process"
    assert body["finished"]["key"] == "xa" and body["finished"]["assignee"]["id"] == commune.pk
    step = body["step"]
    assert (step["key"], step["agency"]["code"], step["assignee"]) == ("chi-nhanh", VINHYEN_BRANCH, None)
    # The branch's 4 sessions count from now (the real clock): its step is within time.
    assert step["due_at"] > step["started_at"] and body["opinions"] == [] and body["actions"] == []
    assert StepAttachment.objects.get().original_filename == "bien-ban.pdf"
    sheet = Api(commune).get(f"/api/v1/dossiers/{dossier.code}/steps").json()
    assert [(r["key"], r["timeliness"], r["comment"]) for r in sheet["steps"]] == [
        ("xa", "late", "Đã xác nhận hiện trạng"),
        ("chi-nhanh", "within_time", ""),
    ]
    assert sheet["steps"][0]["attachments"][0] | {"id": 0} == {
        "id": 0,
        "name": "bien-ban.pdf",
        "kind": "draft",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    assert [r["timeliness_label"] for r in sheet["steps"]] == ["Trễ hạn", "Trong hạn"] and sheet["outcome"] == ""


def test_refusals_have_their_status_and_change_nothing(workflow, receive, commune, branch, clerk):
    dossier = receive(now=FUTURE)
    first_step = current(dossier)
    before = counts()

    forbidden = Api(clerk).act(dossier.code, action="len-huyen")
    assert forbidden.status_code == 403
    assert "UBND xã xác nhận" in error_shape(forbidden)["detail"]

    missing = Api(commune).act("000.21.31.H62-301231-9999", action="len-huyen")
    assert missing.status_code == 404
    hidden = Api(staff("motcua.tamhop")).act(dossier.code, action="len-huyen")
    assert hidden.status_code == 404
    assert Api(staff("motcua.tamhop")).get(f"/api/v1/dossiers/{dossier.code}/steps").status_code == 404

    unknown = Api(commune).act(dossier.code, action="bay-len")
    assert unknown.status_code == 422 and error_shape(unknown)["errors"][0]["field"] == "action"
    no_action = Api(commune).act(dossier.code, comment="x")
    assert no_action.status_code == 422
    bad_file = Api(commune).act(
        dossier.code, action="len-huyen", attachments=[{"name": "a.exe", "content_base64": b64(b"MZ\x90")}]
    )
    assert bad_file.status_code == 422 and error_shape(bad_file)["errors"][0]["field"] == "attachments.0"
    assert counts() == before

    assert Api(commune).act(dossier.code, action="len-huyen", step_run=first_step.pk).status_code == 200
    before = counts()
    no_reason = Api(branch).act(dossier.code, action="tra-xa")
    assert no_reason.status_code == 422
    assert error_shape(no_reason)["errors"] == [{"field": "comment", "message": "Hãy nêu lý do “Trả lại xã”."}]
    stale = Api(commune).act(dossier.code, action="len-huyen", step_run=first_step.pk)
    assert stale.status_code == 409
    assert commune.full_name in error_shape(stale)["detail"]
    assert counts() == before


def test_english_on_request(workflow, receive, clerk):
    dossier = receive(now=FUTURE)
    response = Api(clerk, language="en").act(dossier.code, action="len-huyen")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Step “UBND xã xác nhận” is handled by")


@pytest.mark.usefixtures("paper_signatures")  # not about signing: see test_result_signing.py
def test_hand_over_through_the_api(workflow, receive, commune, branch, office, leader, clerk):
    dossier = receive(now=PAST)
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    services.act(dossier, user=branch, action="trinh-tinh", now=at(1, 9))
    services.act(dossier, user=office, action="trinh-ld", attachments=[{"content": PDF}], now=at(1, 10))
    response = Api(leader).act(dossier.code, action="duyet")
    assert response.status_code == 200
    assert response.json()["dossier"]["status"] == "result_ready" and response.json()["step"]["kind"] == "result"
    inbox = Api(clerk).get("/api/v1/inbox").json()
    assert [(i["dossier"]["code"], i["urgency"]) for i in inbox["items"]] == [(dossier.code, "no_deadline")]
    handed = Api(clerk).act(dossier.code, action="hand_over")
    assert handed.status_code == 200 and handed.json()["dossier"]["status"] == "returned"
    assert handed.json()["step"] is None
    sheet = Api(clerk).get(f"/api/v1/dossiers/{dossier.code}/steps").json()
    assert sheet["outcome"] == "result" and len(sheet["steps"]) == 5
    assert StepRun.objects.filter(dossier=dossier, finished_at__isnull=True).count() == 0
