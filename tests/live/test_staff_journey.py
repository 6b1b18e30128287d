"""Every staff HTML form that changes state, posted over a live server on PostgreSQL as a browser would.

Liên Bảo ward's one-stop clerk logs in, chooses a counter, receives dossiers of 2.000635 at the counter
(and records guidance and a refusal), issues the slip PDF; the specialist, the leader and the document
clerk move the dossier through its workflow from the dossier page's actions form (supplement asked and
received, a reassignment, the draft attached); the clerk hands the result over; fees are requested,
cancelled and collected at the counter on the dossier page; a leader asks for a report export; the
clerk issues and revokes an API token of their own, changes their password and logs out. After each
answer the database is read back (tests/live/conftest.py).
"""

import re

from django.utils import translation

from motcua.api import services as token_services
from motcua.api.models import ApiToken
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.integrations.payments.models import FeeRequest, Receipt
from motcua.org.demo import DEMO_DOMAIN, DEMO_PASSWORD
from motcua.org.models import Counter
from motcua.reports.models import ReportExport
from motcua.workflow.models import StepRun
from tests.dossiers.conftest import PDF
from tests.live.conftest import LIVE, RECEIVED_WITH_ONE_SCAN, Api, body_text, staff

pytestmark = LIVE

LIENBAO = "000.21.31.H62"
PROCEDURE = "2.000635"
HX = {"HX-Request": "true", "HX-Target": "actions-body"}


def counter_data(outcome: str = "receive", **overrides) -> dict:
    """The counter form of 2.000635 as the screen posts it (one mandatory document)."""
    version = Dossier._meta.get_field("procedure_version").related_model.objects.get(
        procedure__code=PROCEDURE, status="published"
    )
    data = {
        "version": str(version.pk),
        "outcome": outcome,
        "applicant-kind": "person",
        "applicant-full_name": "Nguyễn Văn An",
        "applicant-id_number": "026090001234",
        "applicant-date_of_birth": "1990-05-17",
        "applicant-phone": "0912345678",
        "applicant-email": "an@example.vn",
        "applicant-address": "Phường Liên Bảo, Vĩnh Yên",
        "form-ho_ten": "Nguyễn Văn An",
        "form-so_dinh_danh": "026090001234",
        "form-loai_trich_luc": "Khai sinh",
        "form-so_ban": "1",
        "doc-0-received": "on",
        "doc-0-originals": "1",
        "doc-0-copies": "0",
        "missing": "",
        "reason": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def scan(name: str = "to-khai.pdf") -> tuple:
    return (name, PDF, "application/pdf")


def text(response) -> str:
    return body_text(response)


def test_every_staff_form_answers_what_it_committed(site):
    check = site.checker()

    # --- staff log-in: a wrong password is refused on the form, the right one lets in -------------------
    anonymous = site.browser()
    anonymous.get("/staff/login/")
    wrong = anonymous.form("/staff/login/", {"username": f"motcua.lienbao@{DEMO_DOMAIN}", "password": "sai-mat-khau"})
    check.unchanged(wrong, 200)
    assert "sessionid" not in anonymous.cookies
    clerk = site.staff_login("motcua.lienbao")
    assert staff("motcua.lienbao").last_login is not None
    check.mark()

    # --- the counter seat -------------------------------------------------------------------------------
    seat = Counter.objects.filter(agency__code=LIENBAO, is_active=True).order_by("number").first()
    other = Counter.objects.exclude(agency__code=LIENBAO).first()
    refused = clerk.form("/counter/seat/", {"counter": str(other.pk)})
    assert refused.status_code == 302
    assert "Quầy này không phải là quầy đang mở của cơ quan bạn." in text(clerk.follow(refused))
    chosen = clerk.form("/counter/seat/", {"counter": str(seat.pk)})
    with translation.override("vi"):
        seated = f"Bạn đang tiếp nhận tại {seat}"
    assert chosen.status_code == 302 and seated in text(clerk.follow(chosen))
    check.unchanged(chosen, 302, message="")  # the seat lives in the session: no row changes

    # --- counter intake: bad input refused next to its field, then receive / guidance / refuse -----------
    url = f"/counter/procedures/{PROCEDURE}/"
    check.unchanged(clerk.form(url, counter_data(**{"applicant-full_name": ""}), files={"doc-0-file": scan()}), 422)
    check.unchanged(clerk.form(url, counter_data(**{"applicant-id_number": "０２６０９０００１２３４"})), 422)
    check.unchanged(clerk.form(url, counter_data("refuse")), 422)  # a refusal needs its reason
    check.unchanged(clerk.form(url, counter_data("nonsense")), 422)
    answer = clerk.form(url, counter_data(), files={"doc-0-file": scan()})
    check.changed(
        answer,
        302,
        RECEIVED_WITH_ONE_SCAN,
    )
    dossier = Dossier.objects.latest("pk")
    assert answer.headers["Location"].endswith(f"/dossiers/{dossier.code}/")
    assert dossier.status == Status.IN_PROCESS and dossier.counter_id == seat.pk
    page = clerk.get(answer.headers["Location"])
    assert page.status_code == 200 and dossier.code in page.text
    answer = clerk.form(url, counter_data("guidance", missing="Bản sao giấy khai sinh", reason="Thiếu giấy tờ"))
    check.changed(answer, 302, {"dossiers": 1, "events": 1, "new_events": {"returned_for_completion": 1}})
    guided = Dossier.objects.latest("pk")
    assert guided.code is None and guided.status == Status.RETURNED_FOR_COMPLETION
    answer = clerk.form(url, counter_data("refuse", reason="Không thuộc thẩm quyền"))
    check.changed(answer, 302, {"dossiers": 1, "events": 1, "new_events": {"refused": 1}})
    assert Dossier.objects.latest("pk").status == Status.REFUSED

    # --- the slip PDF is issued once and served again from the stored copy ------------------------------
    answer = clerk.get(f"/dossiers/{dossier.code}/slip.pdf")
    check.changed(answer, 200, {"issued": 1, "files": 1})
    assert answer.content.startswith(b"%PDF")
    again = clerk.get(f"/dossiers/{dossier.code}/slip.pdf")
    check.changed(again, 200, {})
    answer = clerk.get(f"/dossiers/id/{guided.pk}/slip.pdf")
    check.changed(answer, 200, {"issued": 1, "files": 1})

    # --- the workflow from the dossier page's actions form ------------------------------------------------
    act = f"/inbox/dossiers/{dossier.code}/act/"
    specialist = site.staff_login("chuyenvien.lienbao")
    leader = site.staff_login("lanhdao.lienbao")
    outsider = site.staff_login("chuyenvien.tamhop")
    check.mark()
    check.unchanged(outsider.form(act, {"action": "trinh"}, headers=HX), 404, message="")
    check.unchanged(leader.form(act, {"action": "trinh", "comment": "x"}, headers=HX), 403)
    step = StepRun.objects.get(dossier=dossier, finished_at__isnull=True)
    if step.assignee_id is None:
        answer = specialist.form(act, {"action": f"claim@{step.pk}"}, headers=HX)
        check.changed(answer, 200, {"events": 1, "new_events": {"step_claimed": 1}, "open_steps": True})
    check.unchanged(specialist.form(act, {"action": "bo-sung", "comment": ""}, headers=HX), 422)
    answer = specialist.form(act, {"action": "bo-sung", "comment": "Thiếu bản sao giấy khai sinh"}, headers=HX)
    got = check.changed(answer, 200, {"events": 1, "new_events": {"supplement_requested": 1}, "pauses": 1})
    assert got.get("status") == {dossier.pk: (Status.IN_PROCESS, Status.WAITING_FOR_SUPPLEMENT)}, got
    check.unchanged(specialist.form(act, {"action": "bo-sung", "comment": "Lần nữa"}, headers=HX), 409)
    # The clerk's "supplement received" button (F3: 500 after commit on PostgreSQL).
    answer = clerk.form(act, {"action": "supplement_received"}, headers=HX)
    got = check.changed(answer, 200, {"events": 1, "new_events": {"supplement_received": 1}, "open_steps": True})
    assert got.get("status") == {dossier.pk: (Status.WAITING_FOR_SUPPLEMENT, Status.IN_PROCESS)}, got
    check.unchanged(clerk.form(act, {"action": "supplement_received"}, headers=HX), 409)
    # The draft is required to submit to the leader; attached, the step moves on.
    check.unchanged(specialist.form(act, {"action": "trinh", "comment": "Trình"}, headers=HX), 422)
    answer = specialist.form(
        act,
        {"action": "trinh", "comment": "Trình ký", "attachment_kind": "draft"},
        files={"attachments": scan("du-thao.pdf")},
        headers=HX,
    )
    check.changed(
        answer, 200, {"events": 1, "new_events": {"step_forwarded": 1}, "steps": 1, "attachments": 1, "files": 1}
    )
    check.unchanged(specialist.form(act, {"action": "trinh", "comment": "Lần nữa"}, headers=HX), 409)

    # Reassign the leader's step: a bad choice is refused, back to the queue is recorded.
    leader_step = StepRun.objects.get(dossier=dossier, finished_at__isnull=True)
    reassign = f"/inbox/steps/{leader_step.pk}/reassign/"
    check.unchanged(leader.form(reassign, {"to_user": "999999"}, headers=HX), 422)
    check.unchanged(specialist.form(reassign, {"to_user": ""}, headers=HX), 403)
    answer = leader.form(reassign, {"to_user": str(staff("lanhdao.lienbao").pk), "reason": "Tôi ký"}, headers=HX)
    check.changed(answer, 200, {"events": 1, "new_events": {"step_reassigned": 1}, "open_steps": True})

    answer = leader.form(act, {"action": "phe-duyet", "comment": "Đồng ý"}, headers=HX)
    check.changed(answer, 200, {"events": 1, "new_events": {"step_approved": 1}, "steps": 1})
    document_clerk = site.staff_login("vanthu.lienbao")
    answer = document_clerk.form(act, {"action": "vao-so"}, headers=HX)
    got = check.changed(answer, 200, {"events": 2, "new_events": {"step_forwarded": 1, "result_ready": 1}, "steps": 1})
    assert got.get("status") == {dossier.pk: (Status.IN_PROCESS, Status.RESULT_READY)}, got

    # --- hand-over at the counter's results list ------------------------------------------------------------
    assert dossier.code in clerk.get("/counter/results/").text
    answer = clerk.form(f"/counter/results/{dossier.code}/hand-over/")
    got = check.changed(answer, 302, {"events": 1, "new_events": {"result_returned": 1}})
    assert got.get("status") == {dossier.pk: (Status.RESULT_READY, Status.RETURNED)}, got
    assert "đã trả kết quả" in text(clerk.follow(answer))
    check.unchanged_flash(clerk, clerk.form(f"/counter/results/{dossier.code}/hand-over/"))

    # --- fees on the dossier page: request, refused twice, cancel, request again, collect at the counter ---
    # The same form submitted twice (a double click, a resend): one dossier (an idempotency key per form).
    form = clerk.get(url)
    intake_key = re.search(r'name="intake_key" value="([^"]*)"', form.text)
    assert intake_key and intake_key.group(1), "the counter form carries no idempotency key"
    data = counter_data(intake_key=intake_key.group(1))
    check.mark()
    answer = clerk.form(url, data, files={"doc-0-file": scan()})
    check.changed(
        answer,
        302,
        RECEIVED_WITH_ONE_SCAN,
    )
    second = Dossier.objects.latest("pk")
    resent = clerk.form(url, data, files={"doc-0-file": scan()})
    check.changed(resent, 302, {})
    assert resent.headers["Location"] == answer.headers["Location"]
    check.mark()
    request_fee = f"/payments/staff/dossiers/{second.pk}/fee/"
    check.unchanged(outsider.form(request_fee), 404, message="")
    answer = clerk.form(request_fee)
    got = check.changed(answer, 302, {"fees": 1, "events": 1, "new_events": {"fee_requested": 1}})
    assert got.get("status") == {second.pk: (Status.IN_PROCESS, Status.WAITING_FOR_PAYMENT)}, got
    assert "nộp phí" in text(clerk.follow(answer)).lower()
    check.unchanged_flash(clerk, clerk.form(request_fee))
    fee = FeeRequest.objects.get(dossier=second)
    cancel = f"/payments/staff/fees/{fee.pk}/cancel/"
    check.unchanged_flash(clerk, clerk.form(cancel, {"reason": ""}))
    answer = clerk.form(cancel, {"reason": "Yêu cầu nhầm"})
    got = check.changed(answer, 302, {"events": 1, "new_events": {"fee_cancelled": 1}})
    assert got.get("fee_status") == {fee.pk: ("requested", "cancelled")}, got
    assert got.get("status") == {second.pk: (Status.WAITING_FOR_PAYMENT, Status.IN_PROCESS)}, got
    answer = clerk.form(request_fee)
    check.changed(answer, 302, {"fees": 1, "events": 1, "new_events": {"fee_requested": 1}})
    fee = FeeRequest.objects.filter(dossier=second).latest("pk")
    collect = f"/payments/staff/fees/{fee.pk}/counter/"
    check.unchanged_flash(clerk, clerk.form(collect, {"method": "bitcoin"}))
    check.unchanged(outsider.form(collect, {"method": "cash"}), 404, message="")
    answer = clerk.form(collect, {"method": "cash"})
    got = check.changed(answer, 302, {"payments": 1, "receipts": 1, "events": 1, "new_events": {"fee_paid": 1}})
    assert got.get("status") == {second.pk: (Status.WAITING_FOR_PAYMENT, Status.IN_PROCESS)}, got
    receipt = Receipt.objects.get(fee_request=fee)
    assert receipt.status == Receipt.Status.ISSUED and receipt.display_number in text(clerk.follow(answer))
    check.unchanged_flash(clerk, clerk.form(collect, {"method": "cash"}))

    # --- a report export, asked by a leader ------------------------------------------------------------------
    check.mark()
    answer = leader.form("/reports/exports/", {"kind": "khong-co"})
    check.unchanged(answer, (400, 422))
    answer = leader.form("/reports/exports/", {"kind": ReportExport.Kind.LATE_XLSX})
    check.changed(answer, 302, {"exports": 1})
    export = ReportExport.objects.get()
    assert answer.headers["Location"].endswith(f"/reports/exports/{export.pk}/")
    assert export.requested_by == staff("lanhdao.lienbao") and export.kind == ReportExport.Kind.LATE_XLSX
    assert clerk.get(f"/reports/exports/{export.pk}/").status_code in (403, 404)
    # Not made yet (no worker runs here) and the leader has no certificate: signing is refused.
    check.unchanged(leader.form(f"/reports/exports/{export.pk}/sign/"), (400, 409, 422))
    check.unchanged(clerk.form(f"/reports/exports/{export.pk}/sign/"), (403, 404), message="")

    # --- the tracking book and the reports download, read-only: nothing changes ---------------------------
    book = clerk.get("/dossiers/tracking-book/?format=xlsx")
    check.changed(book, 200, {})
    assert "spreadsheet" in book.headers["Content-Type"]

    # --- my API tokens: issued for oneself (the secret shown once), revoked; another's cannot be touched ----
    mine = ApiToken.objects.filter(user=staff("motcua.lienbao"))
    count = mine.count()
    assert clerk.get("/staff/api-tokens/").status_code == 200
    check.unchanged(clerk.form("/staff/api-tokens/", {"action": "issue", "name": "  ", "days": "90"}), 422)
    check.unchanged(clerk.form("/staff/api-tokens/", {"action": "issue", "name": "Quầy 1", "days": "9999"}), 422)
    assert mine.count() == count
    issued = clerk.form("/staff/api-tokens/", {"action": "issue", "name": "Máy quét quầy 1", "days": "30"})
    assert issued.status_code == 200 and mine.count() == count + 1
    plaintext = re.search(r"mc_[A-Za-z0-9_-]{20,}", issued.text).group(0)
    token = mine.get(prefix=plaintext[: len(mine.latest("created_at").prefix)])
    assert token.name == "Máy quét quầy 1" and token.revoked_at is None
    own_api = Api(site.url, plaintext)
    assert own_api.read("/dossiers").status_code == 200
    theirs, _secret = token_services.issue_token(staff("lanhdao.lienbao"), "của lãnh đạo")
    assert clerk.form("/staff/api-tokens/", {"action": "revoke", "token": str(theirs.pk)}).status_code == 302
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert clerk.form("/staff/api-tokens/", {"action": "revoke", "token": str(token.pk)}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and own_api.read("/dossiers").status_code == 401
    check.mark()

    # --- the clerk changes their password ---------------------------------------------------------------------
    change = "/staff/password/"
    clerk.get(change)
    new = "Mot-cua-moi-2027!"
    answer = clerk.form(change, {"old_password": "sai", "new_password1": new, "new_password2": new})
    check.unchanged(answer, 200)
    assert staff("motcua.lienbao").check_password(DEMO_PASSWORD)
    answer = clerk.form(change, {"old_password": DEMO_PASSWORD, "new_password1": new, "new_password2": new})
    assert answer.status_code == 302, answer.status_code
    assert staff("motcua.lienbao").check_password(new)
    check.changed(answer, 302, {})
    assert clerk.get("/counter/", allow_redirects=False).status_code == 200  # still logged in after the change
    assert clerk.form("/staff/logout/").status_code == 302
    assert clerk.get("/counter/", allow_redirects=False).status_code == 302  # to the log-in page
    site.staff_login("motcua.lienbao", new)
    check.done()
