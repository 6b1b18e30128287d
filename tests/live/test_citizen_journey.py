"""Every citizen form that changes state, over a live server on PostgreSQL, and the clerk's online queue.

A citizen signs up (bad input refused, then the e-mail link), logs in, saves a draft of 2.000635 with an
upload, checks and sends it; the clerk receives it from the online queue (two more submissions are
sent back for completion and refused); the citizen answers a supplement request, pays the fee through
the gateway simulator (its page, its server-to-server notice, our return page), and rates the service
once the result is handed over. After each answer the database is read back (tests/live/conftest.py).
The officers' moves in between go through the API, which test_api_journey.py covers.
"""

import re

from allauth.account.models import EmailAddress
from django.core import mail

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.integrations.payments.models import FeeRequest, Payment, Receipt
from motcua.org.models import User
from tests.api.conftest import PDF, b64
from tests.live.conftest import LIVE, TIMEOUT, at_once, body_text

pytestmark = LIVE

LIENBAO = "000.21.31.H62"
PROCEDURE = "2.000635"
EMAIL = "chi@example.vn"
PASSWORD = "dung-mat-khau-2026"


def draft_data(**overrides) -> dict:
    data = {
        "full_name": "Lê Thị Chi",
        "id_number": "026190001111",
        "date_of_birth": "17/05/1990",
        "phone": "0912345678",
        "email": EMAIL,
        "address": "Phường Liên Bảo, Vĩnh Yên",
        "agency": LIENBAO,
        "f-ho_ten": "Lê Thị Chi",
        "f-so_dinh_danh": "026190001111",
        "f-loai_trich_luc": "Khai sinh",
        "f-so_ban": "1",
        "action": "save",
    }
    data.update(overrides)
    return data


def upload_field() -> str:
    from motcua.catalog.models import Procedure

    component = Procedure.objects.get(code=PROCEDURE).current_version.components.get()
    return f"doc_{component.pk}"


def scan(name: str = "to-khai.pdf") -> tuple:
    return (name, PDF, "application/pdf")


def test_every_citizen_form_answers_what_it_committed(site):
    check = site.checker()

    # --- sign-up: refused with its message and nothing saved, then created and verified by the link ------
    visitor = site.browser()
    visitor.get("/accounts/signup/")
    users = User.objects.count()
    short = visitor.form("/accounts/signup/", {"email": EMAIL, "full_name": "Lê Thị Chi", "password1": "123"})
    check.unchanged(short, 200)
    assert 'id="signup-errors"' in short.text and User.objects.count() == users and mail.outbox == []
    answer = visitor.form("/accounts/signup/", {"email": EMAIL, "full_name": "Lê Thị Chi", "password1": PASSWORD})
    assert answer.status_code == 302, (answer.status_code, body_text(answer)[:1000])
    user = User.objects.get(email=EMAIL)
    assert User.objects.count() == users + 1 and user.citizen.full_name == "Lê Thị Chi"
    assert not EmailAddress.objects.get(user=user).verified and len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    assert visitor.get(link).status_code == 200 and not EmailAddress.objects.get(user=user).verified
    confirmed = visitor.form(link)
    assert confirmed.status_code == 302 and EmailAddress.objects.get(user=user).verified
    citizen = site.citizen_login(EMAIL, PASSWORD)
    wrong = site.browser()
    wrong.get("/accounts/login/")
    refused = wrong.form("/accounts/login/", {"login": EMAIL, "password": "sai-mat-khau-99"})
    assert refused.status_code == 200 and "sessionid" not in wrong.cookies
    check.mark()

    # --- a draft with an upload: bad input refused, saved, checked, sent -------------------------------------
    start = f"/procedures/{PROCEDURE}/apply/"
    assert citizen.get(start).status_code == 200
    files = {upload_field(): scan()}
    check.unchanged(citizen.form(start, draft_data(phone="12ab"), files=files), 422)
    # A draft checks formats only; the procedure's own form is checked when sent.
    answer = citizen.form(start, draft_data(**{"f-so_ban": "²"}))
    check.changed(answer, 302, {"dossiers": 1})
    odd = Dossier.objects.latest("pk")
    check.unchanged(citizen.form(f"/my/{odd.pk}/check/"), 422)
    answer = citizen.form(start, draft_data(), files=files)
    check.changed(answer, 302, {"dossiers": 1, "documents": 1, "files": 1})
    draft = Dossier.objects.latest("pk")
    assert draft.status == Status.DRAFT and draft.code is None
    assert answer.headers["Location"].endswith(f"/my/{draft.pk}/edit/?saved=1")
    edit = f"/my/{draft.pk}/edit/"
    check.unchanged(citizen.form(edit, draft_data(email="khong-phai-email")), 422)
    answer = citizen.form(edit, draft_data(action="check", address="Số 1 Nguyễn Tất Thành, Liên Bảo"))
    check.changed(answer, 302, {})
    assert answer.headers["Location"].endswith(f"/my/{draft.pk}/check/")
    draft.refresh_from_db()
    assert draft.applicant_address == "Số 1 Nguyễn Tất Thành, Liên Bảo" and draft.documents.count() == 1
    answer = citizen.form(f"/my/{draft.pk}/check/")
    got = check.changed(answer, 302, {"events": 1, "new_events": {"submitted_online": 1}})
    assert got.get("status") == {draft.pk: (Status.DRAFT, Status.SUBMITTED_ONLINE)}, got
    check.unchanged(citizen.form(f"/my/{draft.pk}/check/"), 302, message="")  # sent: back to the dossier page

    # Two more submissions, for the queue's other outcomes.
    sent = []
    for _ in range(2):
        answer = citizen.form(start, draft_data(action="check"), files={upload_field(): scan()})
        pk = int(re.search(r"/my/(\d+)/check/", answer.headers["Location"]).group(1))
        assert citizen.form(f"/my/{pk}/check/").status_code == 302
        sent.append(Dossier.objects.get(pk=pk))

    # --- the clerk's online queue: receive, ask to complete, refuse -------------------------------------------
    clerk = site.staff_login("motcua.lienbao")
    outsider = site.staff_login("motcua.tamhop")
    assert clerk.get("/online/").status_code == 200
    # The citizen's unsent draft is theirs alone: not in the staff search, its page answers 404.
    assert clerk.get(f"/dossiers/id/{odd.pk}/", allow_redirects=False).status_code == 404
    found = site.api("motcua.lienbao").read("/dossiers", params={"q": "Lê Thị Chi"})
    assert found.status_code == 200, found.text[:500]
    assert Status.DRAFT not in {item["status"] for item in found.json()["items"]}
    listing = clerk.get("/dossiers/", params={"q": "Lê Thị Chi"})
    assert listing.status_code == 200 and f"/dossiers/id/{odd.pk}/" not in listing.text
    check.mark()
    check.unchanged(outsider.form(f"/online/{draft.pk}/", {"action": "receive"}), 404, message="")
    check.unchanged(clerk.form(f"/online/{draft.pk}/", {"action": "nonsense"}), 422)
    check.unchanged(clerk.form(f"/online/{sent[1].pk}/", {"action": "refuse", "reason": ""}), 422)
    # Two clerks of the ward press "receive" at the same moment: one receives it, the other is refused.
    colleague = site.staff_login("motcua.lienbao")
    check.mark()
    both = at_once(
        lambda: clerk.form(f"/online/{draft.pk}/", {"action": "receive"}),
        lambda: colleague.form(f"/online/{draft.pk}/", {"action": "receive"}),
    )
    assert sorted(a.status_code for a in both)[0] == 302, [(a.status_code, body_text(a)[:300]) for a in both]
    answer = next(a for a in both if a.status_code == 302)
    late = next(a for a in both if a is not answer)
    assert late.status_code in (404, 409, 422), (late.status_code, body_text(late)[:500])
    got = check.changed(
        answer,
        302,
        {
            "events": 3,
            "new_events": {"received": 1, "processing_started": 1, "step_started": 1},
            "runs": 1,
            "steps": 1,
        },
    )
    dossier = Dossier.objects.get(pk=draft.pk)
    assert dossier.code and answer.headers["Location"].endswith(f"/dossiers/{dossier.code}/")
    assert got.get("status") == {dossier.pk: (Status.SUBMITTED_ONLINE, Status.IN_PROCESS)}, got
    check.unchanged(clerk.form(f"/online/{draft.pk}/", {"action": "receive"}), 404, message="")
    answer = clerk.form(
        f"/online/{sent[0].pk}/", {"action": "complete", "missing": "Tờ khai có chữ ký", "reason": "Ký tờ khai"}
    )
    got = check.changed(answer, 302, {"events": 1, "new_events": {"returned_for_completion": 1}})
    assert got.get("status") == {sent[0].pk: (Status.SUBMITTED_ONLINE, Status.RETURNED_FOR_COMPLETION)}, got
    answer = clerk.form(f"/online/{sent[1].pk}/", {"action": "refuse", "reason": "Không thuộc thẩm quyền"})
    got = check.changed(answer, 302, {"events": 1, "new_events": {"refused": 1}})
    assert got.get("status") == {sent[1].pk: (Status.SUBMITTED_ONLINE, Status.REFUSED)}, got

    # --- the supplement answer ------------------------------------------------------------------------------
    specialist = site.api("chuyenvien.lienbao")
    transitions = f"/dossiers/{dossier.code}/transitions"
    assert specialist.send_json(transitions, {"action": "claim"}).status_code in (200, 409)
    asked = specialist.send_json(transitions, {"action": "bo-sung", "comment": "Bổ sung bản sao giấy khai sinh"})
    assert asked.status_code == 200, asked.text
    my_page = f"/my/{dossier.pk}/"
    check.mark()
    check.unchanged(citizen.form(my_page, {"action": "supplement"}), 422)  # nothing attached
    check.unchanged(
        citizen.form(my_page, {"action": "supplement"}, files={"files": ("x.pdf", b"<html>", "application/pdf")}), 422
    )
    answer = citizen.form(my_page, {"action": "supplement"}, files={"files": scan("bo-sung.pdf")})
    got = check.changed(
        answer,
        302,
        {"events": 1, "new_events": {"supplement_received": 1}, "documents": 1, "files": 1, "open_steps": True},
    )
    assert got.get("status") == {dossier.pk: (Status.WAITING_FOR_SUPPLEMENT, Status.IN_PROCESS)}, got
    check.unchanged(
        citizen.form(my_page, {"action": "supplement"}, files={"files": scan("lan-nua.pdf")}), (403, 409, 422)
    )

    # --- the fee: asked by the clerk, paid by the citizen through the gateway -----------------------------------
    asked = site.api("motcua.lienbao").send_json(f"/payments/dossiers/{dossier.pk}/fee")
    assert asked.status_code == 201, asked.text
    fee = FeeRequest.objects.get(pk=asked.json()["id"])
    pay = f"/payments/fees/{fee.pk}/"
    assert citizen.get(pay).status_code == 200
    assert site.staff_login("motcua.tamhop").get(pay).status_code == 404
    check.mark()
    answer = citizen.form(pay)
    check.changed(answer, 302, {"payments": 1})
    payment = Payment.objects.get(fee_request=fee)
    gateway_page = answer.headers["Location"]
    assert gateway_page.startswith(site.gateway.base_url)
    page = citizen.get(gateway_page)
    assert page.status_code == 200 and payment.txn_ref in page.text
    # The citizen pays on the gateway's page; the gateway tells our server (IPN) and sends the citizen back.
    done = citizen.post(
        f"{site.gateway.base_url}/complete",
        data={"ref": payment.txn_ref, "action": "pay"},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    got = check.changed(done, 302, {"notices": 1, "receipts": 1, "events": 1, "new_events": {"fee_paid": 1}})
    assert got.get("status") == {dossier.pk: (Status.WAITING_FOR_PAYMENT, Status.IN_PROCESS)}, got
    receipt = Receipt.objects.get(fee_request=fee)
    back = citizen.get(done.headers["Location"])
    check.changed(back, 200, {})  # the return page only shows what the notice decided
    assert receipt.display_number in body_text(back) or "đã thanh toán" in body_text(back)
    check.unchanged(citizen.form(pay), 422)  # nothing left to pay: no new attempt
    assert citizen.get(f"/payments/receipts/{receipt.pk}.pdf").content.startswith(b"%PDF")

    # --- the result, handed over, then rated once ------------------------------------------------------------
    draft_pdf = {"name": "ban-sao.pdf", "content_base64": b64(PDF), "kind": "draft"}
    for local, body in (
        ("chuyenvien.lienbao", {"action": "trinh", "comment": "Trình", "attachments": [draft_pdf]}),
        ("lanhdao.lienbao", {"action": "phe-duyet"}),
        ("vanthu.lienbao", {"action": "vao-so"}),
        ("motcua.lienbao", {"action": "hand_over"}),
    ):
        moved = site.api(local).send_json(transitions, body)
        assert moved.status_code == 200, (local, moved.text)
    check.mark()
    check.unchanged(citizen.form(my_page, {"action": "rate", "score": "9"}), 422)
    check.unchanged(citizen.form(my_page, {"action": "nonsense"}), 422)
    answer = citizen.form(my_page, {"action": "rate", "score": "5", "comment": "Nhanh, chu đáo"})
    check.changed(answer, 302, {"ratings": 1})
    dossier.refresh_from_db()
    assert dossier.rating.score == 5 and dossier.rating.comment == "Nhanh, chu đáo"
    check.unchanged(citizen.form(my_page, {"action": "rate", "score": "1"}), 422)

    # --- log out, forget the password, set a new one by the link, log in with it --------------------------
    assert citizen.form("/accounts/logout/").status_code == 302
    assert citizen.get("/my/", allow_redirects=False).status_code == 302
    mail.outbox.clear()
    stranger = site.browser()
    stranger.get("/accounts/password/reset/")
    unknown = stranger.form("/accounts/password/reset/", {"email": "khong-co@example.vn"})
    assert unknown.status_code == 302 and mail.outbox == []
    sent = stranger.form("/accounts/password/reset/", {"email": EMAIL})
    assert sent.status_code == 302 and len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form = stranger.get(link)
    action = form.url
    new = "mat-khau-moi-2027"
    mismatch = stranger.form(action, {"password1": new, "password2": "khac-han-2027"})
    assert mismatch.status_code == 200 and "Hai lần nhập mật khẩu phải giống nhau." in body_text(mismatch)
    assert User.objects.get(email=EMAIL).check_password(PASSWORD)
    done = stranger.form(action, {"password1": new, "password2": new})
    assert done.status_code == 302 and User.objects.get(email=EMAIL).check_password(new)
    site.citizen_login(EMAIL, new)
    check.done()
