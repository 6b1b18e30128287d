"""Every state-changing endpoint of the API (``/api/v1/openapi.json``) over a live server on PostgreSQL.

One journey of the demo procedure 2.000635 (copy of a civil-status extract, half a working day, 8 000 đ)
at Liên Bảo ward, through its demo workflow (specialist → leader → document clerk → one-stop desk), plus
the counter records without a code, a fee paid through the gateway's notice and its receipt cancelled,
a withdrawal and a dossier from the national portal. After every answer the database is read back: a
success holds exactly what the answer says, a refusal (4xx, Vietnamese message) holds nothing new.
"""

import base64
import json
import uuid
from datetime import timedelta

import requests

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.integrations.payments import services as payment_services
from motcua.integrations.payments.gateway import signed
from motcua.integrations.payments.models import FeeRequest, Receipt
from motcua.workflow.models import Apology, StepRun
from tests.api.conftest import PDF, b64, extract_payload
from tests.live.conftest import (
    LIVE,
    NATIONAL_TOKEN,
    PAYMENT_SECRET,
    RECEIVED_WITH_ONE_SCAN,
    TIMEOUT,
    at_once,
    staff,
)

pytestmark = LIVE

LIENBAO = "000.21.31.H62"


def attached(name: str = "to-khai.pdf") -> list[dict]:
    return [{"component": 1, "originals": 1, "copies": 0, "file": {"name": name, "content_base64": b64(PDF)}}]


def same_as_database(answer: dict) -> Dossier:
    """The dossier the answer describes, read back: same code, status, due moment and timeline."""
    dossier = Dossier.objects.get(code=answer["code"])
    assert answer["status"] == dossier.status
    assert len(answer["events"]) == dossier.events.count()
    due = answer["due_at"]
    assert (due is None) == (dossier.due_at is None)
    return dossier


def test_every_api_state_change_answers_what_it_committed(site):
    check = site.checker()
    clerk, specialist, leader = site.api("motcua.lienbao"), site.api("chuyenvien.lienbao"), site.api("lanhdao.lienbao")
    document_clerk, other_commune, monitor = (
        site.api("vanthu.lienbao"),
        site.api("motcua.tamhop"),
        site.api("giamsat.tinh"),
    )

    # --- POST /dossiers: refused without a token, with bad input, then received ---------------------------
    check.mark()
    check.unchanged(site.api(None).send_json("/dossiers", extract_payload()), 401)
    bad = extract_payload(applicant={"full_name": "", "id_number": "12ab"})
    check.unchanged(clerk.send_json("/dossiers", bad), 422)
    check.unchanged(monitor.send_json("/dossiers", extract_payload(documents=attached())), 403)
    answer = clerk.send_json("/dossiers", extract_payload(documents=attached()))
    check.changed(
        answer,
        201,
        RECEIVED_WITH_ONE_SCAN,
    )
    dossier = same_as_database(answer.json())
    code = dossier.code
    assert dossier.status == Status.IN_PROCESS and dossier.documents.get().file

    # --- POST /dossiers/guidance and /dossiers/refusals: records without a code ------------------------------
    guidance = {"procedure_code": "2.000635", "applicant": {"full_name": "Trần Thị Bích"}, "missing": ["Tờ khai"]}
    check.unchanged(clerk.send_json("/dossiers/guidance", {**guidance, "missing": [], "reason": ""}), 422)
    answer = clerk.send_json("/dossiers/guidance", {**guidance, "reason": "Thiếu tờ khai"})
    check.changed(answer, 201, {"dossiers": 1, "events": 1, "new_events": {"returned_for_completion": 1}})
    record = Dossier.objects.get(pk=answer.json()["id"])
    assert record.code is None and record.status == answer.json()["status"] == Status.RETURNED_FOR_COMPLETION
    refusal = {"procedure_code": "2.000635", "applicant": {"full_name": "Trần Thị Bích"}}
    check.unchanged(clerk.send_json("/dossiers/refusals", {**refusal, "reason": "  "}), 422)
    answer = clerk.send_json("/dossiers/refusals", {**refusal, "reason": "Không thuộc thẩm quyền"})
    check.changed(answer, 201, {"dossiers": 1, "events": 1, "new_events": {"refused": 1}})
    assert Dossier.objects.get(pk=answer.json()["id"]).status == answer.json()["status"] == Status.REFUSED
    # The search still answers with those records in scope (F4).
    listed = clerk.read("/dossiers")
    assert listed.status_code == 200, listed.text[:2000]

    # --- POST /dossiers/{code}/transitions: claim, refusals, then the workflow -----------------------------
    url = f"/dossiers/{code}/transitions"
    check.unchanged(specialist.send_json(url, {"action": "khong-co"}), 422)
    check.unchanged(leader.send_json(url, {"action": "trinh", "comment": "x"}), 403)
    check.unchanged(other_commune.send_json(url, {"action": "claim"}), 404)
    step = StepRun.objects.get(dossier=dossier, finished_at__isnull=True)
    if step.assignee_id is None:
        answer = specialist.send_json(url, {"action": "claim"})
        check.changed(answer, 200, {"events": 1, "new_events": {"step_claimed": 1}, "open_steps": True})
        step.refresh_from_db()
        assert answer.json()["step"]["assignee"]["id"] == step.assignee_id == staff("chuyenvien.lienbao").pk

    # --- supplement request / received through the dossier API (F3: 500 after commit on PostgreSQL) -------
    check.unchanged(specialist.send_json(f"/dossiers/{code}/supplement-request", {"reason": ""}), 422)
    answer = specialist.send_json(f"/dossiers/{code}/supplement-request", {"reason": "Thiếu bản sao giấy khai sinh"})
    check.changed(
        answer,
        200,
        {
            "events": 1,
            "new_events": {"supplement_requested": 1},
            "pauses": 1,
            "open_steps": True,
            "status": {dossier.pk: (Status.IN_PROCESS, Status.WAITING_FOR_SUPPLEMENT)},
        },
    )
    assert answer.json()["status"] == Status.WAITING_FOR_SUPPLEMENT
    same_as_database(answer.json())
    check.unchanged(specialist.send_json(f"/dossiers/{code}/supplement-request", {"reason": "Lần nữa"}), 409)
    check.unchanged(specialist.send_json(url, {"action": "trinh", "comment": "x"}), 409)
    answer = clerk.send_json(f"/dossiers/{code}/supplement-received")
    check.changed(
        answer,
        200,
        {
            "events": 1,
            "new_events": {"supplement_received": 1},
            "open_steps": True,
            "status": {dossier.pk: (Status.WAITING_FOR_SUPPLEMENT, Status.IN_PROCESS)},
        },
    )
    assert answer.json()["status"] == Status.IN_PROCESS
    same_as_database(answer.json())
    check.unchanged(clerk.send_json(f"/dossiers/{code}/supplement-received"), 409)

    # --- POST /dossiers/{code}/apology: the competent agency's leader, a new appointment after the due ----
    dossier.refresh_from_db()
    apology_url = f"/dossiers/{code}/apology"
    later = (dossier.due_at + timedelta(days=3)).isoformat()
    check.unchanged(leader.send_json(apology_url, {"reason": "Chậm", "new_due_at": dossier.due_at.isoformat()}), 422)
    check.unchanged(specialist.send_json(apology_url, {"reason": "Chậm", "new_due_at": later}), 403)
    answer = leader.send_json(apology_url, {"reason": "Chờ xác minh với nơi đăng ký", "new_due_at": later})
    check.changed(answer, 201, {"events": 1, "new_events": {"apology_recorded": 1}, "apologies": 1})
    row = Apology.objects.get(dossier=dossier)
    assert answer.json()["reason"] == row.reason == "Chờ xác minh với nơi đăng ký"
    dossier.refresh_from_db()
    assert answer.json()["due_at"] is not None and dossier.due_at == row.due_at  # the official due is kept

    # --- the workflow to the end: submit with the draft, approve, register, hand over ------------------------
    check.unchanged(specialist.send_json(url, {"action": "trinh", "comment": "Trình"}), 422)  # the draft is required
    draft = {"name": "ban-sao.pdf", "content_base64": base64.b64encode(PDF).decode(), "kind": "draft"}
    answer = specialist.send_json(url, {"action": "trinh", "comment": "Trình ký", "attachments": [draft]})
    check.changed(
        answer, 200, {"events": 1, "new_events": {"step_forwarded": 1}, "steps": 1, "attachments": 1, "files": 1}
    )
    assert answer.json()["step"]["key"] == "phe-duyet"
    check.unchanged(specialist.send_json(url, {"action": "trinh", "comment": "Lần nữa"}), 409)
    # The leader returns it once (a reason is required), the specialist submits it again.
    check.unchanged(leader.send_json(url, {"action": "tra-lai", "comment": ""}), 422)
    answer = leader.send_json(url, {"action": "tra-lai", "comment": "Sửa lại số bản"})
    check.changed(answer, 200, {"events": 1, "new_events": {"step_returned": 1}, "steps": 1})
    assert answer.json()["step"]["key"] == "tham-dinh"
    answer = specialist.send_json(url, {"action": "trinh", "comment": "Đã sửa", "attachments": [draft]})
    check.changed(
        answer, 200, {"events": 1, "new_events": {"step_forwarded": 1}, "steps": 1, "attachments": 1, "files": 1}
    )
    answer = leader.send_json(url, {"action": "phe-duyet", "comment": "Đồng ý"})
    check.changed(answer, 200, {"events": 1, "new_events": {"step_approved": 1}, "steps": 1})
    answer = document_clerk.send_json(url, {"action": "vao-so"})
    got = check.changed(answer, 200, {"events": 2, "new_events": {"step_forwarded": 1, "result_ready": 1}, "steps": 1})
    assert got["status"] == {dossier.pk: (Status.IN_PROCESS, Status.RESULT_READY)}
    assert answer.json()["dossier"]["status"] == Status.RESULT_READY
    # A double click on "hand over": one is recorded, the other is told someone did it first (409, not 500).
    twin = site.api("motcua.lienbao")
    answers = at_once(
        lambda: clerk.send_json(url, {"action": "hand_over"}), lambda: twin.send_json(url, {"action": "hand_over"})
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [(a.status_code, a.text[:300]) for a in answers]
    done = next(a for a in answers if a.status_code == 200)
    got = check.changed(done, 200, {"events": 1, "new_events": {"result_returned": 1}})
    assert got["status"] == {dossier.pk: (Status.RESULT_READY, Status.RETURNED)}
    check.unchanged(next(a for a in answers if a.status_code == 409), 409)
    check.unchanged(clerk.send_json(url, {"action": "hand_over"}), 409)

    # --- a second dossier: the fee, paid through the gateway's notice, and its receipt cancelled -----------
    # Received with an idempotency key: a repeat answers the same dossier and receives nothing new.
    check.mark()
    key = {"Idempotency-Key": f"live-{uuid.uuid4()}"}
    first = clerk.send_json("/dossiers", extract_payload(documents=attached()), headers=key)
    check.changed(
        first,
        201,
        RECEIVED_WITH_ONE_SCAN,
    )
    replay = clerk.send_json("/dossiers", extract_payload(documents=attached()), headers=key)
    check.changed(replay, 201, {})
    assert replay.json()["code"] == first.json()["code"]
    # Two submits with one key at the same moment (a retry racing the first): one dossier.
    key = {"Idempotency-Key": f"live-{uuid.uuid4()}"}
    racing = at_once(
        lambda: clerk.send_json("/dossiers", extract_payload(documents=attached()), headers=key),
        lambda: twin.send_json("/dossiers", extract_payload(documents=attached()), headers=key),
    )
    assert [a.status_code for a in racing] == [201, 201], [(a.status_code, a.text[:300]) for a in racing]
    assert racing[0].json()["code"] == racing[1].json()["code"]
    got = check.changed(
        racing[0],
        201,
        RECEIVED_WITH_ONE_SCAN,
    )
    second = same_as_database(first.json())
    fee_url = f"/payments/dossiers/{second.pk}/fee"
    check.unchanged(other_commune.send_json(fee_url), 404)
    check.unchanged(monitor.send_json(fee_url), 403)
    answer = clerk.send_json(fee_url)
    got = check.changed(answer, 201, {"fees": 1, "events": 1, "new_events": {"fee_requested": 1}})
    fee = FeeRequest.objects.get(pk=answer.json()["id"])
    assert answer.json()["amount"] == int(fee.amount) == 8000 and answer.json()["status"] == fee.status
    assert got["status"] == {second.pk: (Status.IN_PROCESS, Status.WAITING_FOR_PAYMENT)}
    check.unchanged(clerk.send_json(fee_url), 409)

    payment, _url = payment_services.start_payment(fee, return_url=f"{site.url}/payments/return/", ipn_url="")
    check.mark()
    notice = {
        "merchant_code": "MOTCUA",
        "merchant_trans_id": payment.txn_ref,
        "net_cost": int(payment.amount),
        "trans_id": f"GW-{payment.pk}",
        "response_code": "00",
        "method": "QR",
        "seq": 2,
    }
    forged = signed(notice, "change-me")
    answer = requests.post(f"{site.url}/payments/ipn/", data=forged, timeout=TIMEOUT)
    got = check.changed(answer, 400, {"notices": 1})  # a wrong checksum is logged, nothing paid
    assert answer.json()["RspCode"] == "97"
    answer = requests.post(f"{site.url}/payments/ipn/", data=signed(notice, PAYMENT_SECRET), timeout=TIMEOUT)
    got = check.changed(answer, 200, {"notices": 1, "receipts": 1, "events": 1, "new_events": {"fee_paid": 1}})
    assert answer.json()["RspCode"] == "00"
    assert got["status"] == {second.pk: (Status.WAITING_FOR_PAYMENT, Status.IN_PROCESS)}
    answer = requests.post(f"{site.url}/payments/ipn/", data=signed(notice, PAYMENT_SECRET), timeout=TIMEOUT)
    check.changed(answer, 200, {"notices": 1})  # a repeated notice is stored, paid once
    receipt = Receipt.objects.get(fee_request=fee)

    cancel_url = f"/payments/receipts/{receipt.pk}/cancel"
    check.unchanged(other_commune.send_json(cancel_url, {"reason": "Sai"}), 404)
    check.unchanged(clerk.send_json(cancel_url, {"reason": " "}), 422)
    answer = clerk.send_json(cancel_url, {"reason": "Ghi sai số tiền"})
    got = check.changed(
        answer,
        200,
        {"events": 1, "new_events": {"receipt_cancelled": 1}, "receipt_status": {receipt.pk: ("issued", "cancelled")}},
    )
    receipt.refresh_from_db()
    assert answer.json()["status"] == receipt.status == Receipt.Status.CANCELLED
    assert answer.json()["number"] == receipt.display_number and receipt.cancel_reason == "Ghi sai số tiền"
    check.unchanged(clerk.send_json(cancel_url, {"reason": "Lần nữa"}), (409, 422))

    # --- POST /dossiers/{code}/withdraw -----------------------------------------------------------------------
    withdraw_url = f"/dossiers/{second.code}/withdraw"
    check.unchanged(other_commune.send_json(withdraw_url, {"reason": "Rút"}), 404)
    check.unchanged(monitor.send_json(withdraw_url, {"reason": "Rút"}), 403)
    answer = clerk.send_json(withdraw_url, {"reason": "Người nộp rút hồ sơ"})
    got = check.changed(answer, 200, {"events": 1, "new_events": {"withdrawn": 1}, "open_steps": True})
    assert got["status"] == {second.pk: (Status.IN_PROCESS, Status.WITHDRAWN)}
    same_as_database(answer.json())
    check.unchanged(clerk.send_json(withdraw_url, {"reason": "Lần nữa"}), 409)

    # --- POST /national/dossiers: the national portal's push ---------------------------------------------------
    from tests.integrations.conftest import configure

    configure("http://127.0.0.1:9")
    check.mark()
    national = {
        "MaHoSo": "G22.99-261128-000777",
        "MaTTHC": "1.001193",
        "ChuHoSo": "Lê Thị Mai",
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "026190005678",
        "SoDienThoai": "0987654321",
        "NgayNopHoSo": "20261128201500",
        "MaDonViTiepNhan": LIENBAO,
    }
    push = f"{site.url}/api/v1/national/dossiers"
    auth = {"Authorization": f"Bearer {NATIONAL_TOKEN}", "Accept-Language": "vi"}
    answer = requests.post(push, json=national, headers={**auth, "Authorization": "Bearer sai"}, timeout=TIMEOUT)
    check.unchanged(answer, 401)
    answer = requests.post(
        push, data=b"{not json", headers={**auth, "Content-Type": "application/json"}, timeout=TIMEOUT
    )
    check.unchanged(answer, 400)
    answer = requests.post(push, json={**national, "MaTTHC": "9.999999"}, headers=auth, timeout=TIMEOUT)
    check.unchanged(answer, 422)
    answer = requests.post(push, json=national, headers=auth, timeout=TIMEOUT)
    got = check.changed(
        answer, 201, {"dossiers": 1, "events": 1, "new_events": {"submitted_online": 1}, "national_links": 1}
    )
    arrived = Dossier.objects.get(pk=answer.json()["id"])
    assert arrived.status == answer.json()["status"] == Status.SUBMITTED_ONLINE
    answer = requests.post(
        push, data=json.dumps(national), headers={**auth, "Content-Type": "application/json"}, timeout=TIMEOUT
    )
    check.unchanged(answer, 409)

    # --- a consultation: the opinion asked of another commune ("answer", F3's third path) ------------------
    consultation_workflow()
    answer = clerk.send_json("/dossiers", certification_payload())
    assert answer.status_code == 201, answer.text
    third = same_as_database(answer.json())
    url = f"/dossiers/{third.code}/transitions"
    specialist.send_json(url, {"action": "claim"})
    check.mark()
    answer = specialist.send_json(url, {"action": "hoi-y-kien", "comment": "Xin ý kiến phường Tích Sơn"})
    got = check.changed(
        answer, 200, {"events": 2, "new_events": {"step_forwarded": 1, "consultation_requested": 1}, "steps": 2}
    )
    assert len(answer.json()["opinions"]) == 1 and answer.json()["opinions"][0]["agency"]["code"] == TICH_SON
    consulted = site.api("chuyenvien.tichson")
    check.unchanged(consulted.send_json(url, {"action": "answer", "comment": ""}), 422)
    check.unchanged(other_commune.send_json(url, {"action": "answer", "comment": "Ý kiến"}), 404)
    check.unchanged(specialist.send_json(url, {"action": "xong"}), 409)  # the opinion is still awaited
    answer = consulted.send_json(url, {"action": "answer", "comment": "Đồng ý, không có vướng mắc"})
    check.changed(answer, 200, {"events": 1, "new_events": {"consultation_answered": 1}, "open_steps": True})
    assert answer.json()["opinions"] == []
    check.unchanged(consulted.send_json(url, {"action": "answer", "comment": "Lần nữa"}), (403, 409))
    answer = specialist.send_json(url, {"action": "xong", "comment": "Đủ ý kiến"})
    got = check.changed(answer, 200, {"events": 2, "new_events": {"step_forwarded": 1, "result_ready": 1}, "steps": 1})
    assert got.get("status") == {third.pk: (Status.IN_PROCESS, Status.RESULT_READY)}, got

    # --- a refusal during processing: the leader rejects (a reason is required) --------------------------
    answer = clerk.send_json("/dossiers", extract_payload(documents=attached()))
    assert answer.status_code == 201, answer.text
    fourth = same_as_database(answer.json())
    url = f"/dossiers/{fourth.code}/transitions"
    specialist.send_json(url, {"action": "claim"})
    assert specialist.send_json(url, {"action": "trinh", "comment": "Trình", "attachments": [draft]}).status_code == 200
    check.mark()
    check.unchanged(leader.send_json(url, {"action": "tu-choi", "comment": " "}), 422)
    answer = leader.send_json(url, {"action": "tu-choi", "comment": "Không có dữ liệu hộ tịch gốc"})
    got = check.changed(answer, 200, {"events": 2, "new_events": {"step_rejected": 1, "result_ready": 1}, "steps": 1})
    assert got.get("status") == {fourth.pk: (Status.IN_PROCESS, Status.RESULT_READY)}, got
    assert answer.json()["step"]["kind"] == "refusal"
    check.done()


TICH_SON = "000.22.31.H62"
CERTIFICATION = "2.000815"


def consultation_workflow() -> None:
    """Replace the demo workflow of the same-day certification (2 sessions) with one that consults another
    commune: the specialist asks, Tích Sơn's specialist answers, the step goes on to the result."""
    from motcua.catalog.models import Procedure
    from motcua.workflow import services as workflow_services

    version = Procedure.objects.get(code=CERTIFICATION).current_version
    task = {"kind": "task", "holder": "competent", "role": "specialist"}
    workflow_services.replace_definition(
        version,
        None,
        {
            "name": "Chứng thực có lấy ý kiến (kiểm thử)",
            "steps": [
                {"key": "tiep", "name": "Thụ lý", "budget_sessions": 1, "start": True, **task},
                {
                    "key": "y-kien",
                    "name": "Lấy ý kiến",
                    "budget_sessions": 1,
                    **task,
                    "kind": "consultation",
                    "quorum": 0,
                    "consult": [{"holder": "fixed", "agency": TICH_SON, "role": "specialist"}],
                },
                {"key": "tra", "name": "Trả kết quả", "kind": "result", "holder": "receiving", "role": "clerk"},
                {"key": "tu-choi", "name": "Từ chối", "kind": "refusal", "holder": "receiving", "role": "clerk"},
            ],
            "transitions": [
                {
                    "key": "hoi-y-kien",
                    "from": "tiep",
                    "to": "y-kien",
                    "action": "forward",
                    "label": "Xin ý kiến",
                    "role": "specialist",
                },
                {
                    "key": "xong",
                    "from": "y-kien",
                    "to": "tra",
                    "action": "forward",
                    "label": "Xong",
                    "role": "specialist",
                },
                {
                    "key": "khong",
                    "from": "y-kien",
                    "to": "tu-choi",
                    "action": "reject",
                    "label": "Từ chối",
                    "role": "specialist",
                    "requires_reason": True,
                },
            ],
        },
    )


def certification_payload() -> dict:
    from motcua.catalog.models import Procedure

    first = Procedure.objects.get(code=CERTIFICATION).current_version.components.order_by("order").first()
    return extract_payload(
        procedure_code=CERTIFICATION,
        form_data={"ho_ten": "Nguyễn Văn An", "so_dinh_danh": "026090001234", "so_ban_sao": 2, "so_trang": 3},
        documents=[{"component": first.order, "originals": 1, "copies": 0}],
    )
