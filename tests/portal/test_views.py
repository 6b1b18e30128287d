"""Portal and online-queue pages: bad input, scope, CSRF, escaping, the public look-up and its rate limit."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from motcua.dossiers import services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from tests.dossiers.conftest import FORM, LIENBAO, PDF, applicant, at, pdf
from tests.portal.conftest import PASSWORD
from tests.portal.test_services import full_draft, submitted


def logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def test_citizen_logs_in_with_email_and_password(citizen):
    client = Client()
    bad = client.post(reverse("account_login"), {"login": citizen.email, "password": "wrong"})
    assert bad.status_code == 200 and "_auth_user_id" not in client.session
    good = client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    assert good.status_code == 302 and good["Location"] == reverse("portal:my")


def test_home_searches_without_diacritics(client, online_birth):
    page = client.get("/", {"q": "dang ky khai sinh"})
    assert page.status_code == 200
    assert "Đăng ký khai sinh" in page.content.decode()
    assert 'lang="vi"' in page.content.decode()
    none = client.get("/", {"q": "khong co thu tuc nay"})
    assert "Đăng ký khai sinh" not in none.content.decode()


def test_home_lists_the_catalogue_before_any_search(client, online_birth):
    page = client.get("/").content.decode()
    assert "Đăng ký khai sinh" in page and "Lĩnh vực" in page and "Đổi ngôn ngữ" in page


def test_filters_by_agency_and_online_level(client, online_birth):
    assert "Đăng ký khai sinh" in client.get("/", {"agency": LIENBAO, "online": "full"}).content.decode()
    assert "Đăng ký khai sinh" not in client.get("/", {"online": "none"}).content.decode()


def test_procedure_page_and_unknown_code(client, online_birth):
    page = client.get(reverse("portal:procedure", args=[online_birth.code]))
    body = page.content.decode()
    assert page.status_code == 200 and "Giấy chứng sinh" in body and "Lệ phí" in body
    assert client.get(reverse("portal:procedure", args=["9.999999"])).status_code == 404


def test_anonymous_is_sent_to_login_and_staff_is_refused(client, clerk, online_birth):
    url = reverse("portal:start", args=[online_birth.code])
    assert client.get(url)["Location"].startswith(reverse("portal:login"))
    staff = logged_in(clerk)
    assert staff.get(url).status_code == 403
    assert staff.get(reverse("portal:my")).status_code == 403


def test_submit_online_through_the_pages(citizen, online_birth, media):
    client = logged_in(citizen)
    url = reverse("portal:start", args=[online_birth.code])
    assert client.get(url).status_code == 200
    data = {
        "full_name": "<script>alert(1)</script>",
        "id_number": "026090001234",
        "phone": "0912345678",
        "email": "an@example.vn",
        "agency": LIENBAO,
        "f-ho_ten_tre": FORM["ho_ten_tre"],
        "f-ngay_sinh_tre": FORM["ngay_sinh_tre"],
        f"doc_{online_birth.components[0].pk}": pdf(),
        f"doc_{online_birth.components[1].pk}": pdf("giay-chung-sinh.pdf"),
        "action": "check",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    draft = Dossier.objects.get()
    assert response["Location"] == reverse("portal:summary", args=[draft.pk])
    summary = client.get(response["Location"]).content.decode()
    assert "<script>alert(1)</script>" not in summary and "&lt;script&gt;" in summary
    sent = client.post(response["Location"])
    assert sent.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED_ONLINE
    assert client.get(reverse("portal:dossier", args=[draft.pk])).status_code == 200


def test_bad_files_and_fields_give_messages_and_save_nothing(citizen, online_birth, media):
    client = logged_in(citizen)
    url = reverse("portal:start", args=[online_birth.code])
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(
        url,
        {"id_number": "12", "email": "x", "agency": LIENBAO, f"doc_{online_birth.components[0].pk}": fake},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "12 chữ số" in body and "Chỉ chấp nhận tệp PDF" in body
    assert Dossier.objects.count() == 0


def test_incomplete_submission_shows_what_is_missing(citizen, online_birth):
    draft = full_draft(citizen, online_birth, documents=[])
    client = logged_in(citizen)
    response = client.post(reverse("portal:summary", args=[draft.pk]))
    assert response.status_code == 422 and "Tờ khai" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_another_citizens_dossier_is_404_like_a_missing_one(citizen, other_citizen, online_birth):
    mine = full_draft(citizen, online_birth)
    doc = mine.documents.first()
    other = logged_in(other_citizen)
    missing = other.get(reverse("portal:dossier", args=[mine.pk + 1000]))
    for name in ("portal:dossier", "portal:edit", "portal:summary"):
        response = other.get(reverse(name, args=[mine.pk]))
        assert response.status_code == 404 == missing.status_code
    assert other.post(reverse("portal:summary", args=[mine.pk])).status_code == 404
    assert other.get(reverse("portal:document", args=[doc.pk])).status_code == 404
    assert logged_in(citizen).get(reverse("portal:document", args=[doc.pk])).status_code == 200
    mine.refresh_from_db()
    assert mine.status == Status.DRAFT


def test_posts_without_csrf_are_refused(citizen, online_birth):
    draft = full_draft(citizen, online_birth)
    client = logged_in(citizen, enforce_csrf_checks=True)
    assert client.post(reverse("portal:summary", args=[draft.pk])).status_code == 403
    assert (
        Client(enforce_csrf_checks=True).post(reverse("portal:lookup"), {"code": "X", "digits": "1234"}).status_code
        == 403
    )
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_supplement_answer_and_rating_pages(citizen, clerk, online_birth):
    received = services.receive_online(submitted(citizen, online_birth), clerk, now=at(30, 9))
    services.start_processing(received, actor=clerk)
    services.request_supplement(received, actor=clerk, reason="Thiếu bản sao <b>rõ</b>")
    client = logged_in(citizen)
    url = reverse("portal:dossier", args=[received.pk])
    page = client.get(url).content.decode()
    assert "Thiếu bản sao &lt;b&gt;rõ&lt;/b&gt;" in page
    bad = client.post(url, {"action": "supplement", "files": [SimpleUploadedFile("a.png", b"GIF89a", "image/png")]})
    assert bad.status_code == 422
    good = client.post(url, {"action": "supplement", "files": [SimpleUploadedFile("a.pdf", PDF, "application/pdf")]})
    assert good.status_code == 302
    received.refresh_from_db()
    assert received.status == Status.IN_PROCESS
    services.mark_result_ready(received, actor=clerk)
    services.return_result(received, actor=clerk)
    assert client.post(url, {"action": "rate", "score": "9"}).status_code == 422
    assert client.post(url, {"action": "rate", "score": "5", "comment": "Tốt"}).status_code == 302
    assert client.post(url, {"action": "rate", "score": "4"}).status_code == 422


def received_dossier(citizen, clerk, proc):
    return services.receive_online(submitted(citizen, proc), clerk, now=at(30, 9))


def test_public_lookup_shows_status_but_nothing_personal(client, citizen, clerk, online_birth):
    dossier = received_dossier(citizen, clerk, online_birth)
    page = client.post(reverse("portal:lookup"), {"code": dossier.code.lower(), "digits": "5678"})
    body = page.content.decode()
    assert page.status_code == 200 and dossier.code in body
    for personal in ("Nguyễn Văn An", "0912345678", "026090001234", "an@example.vn", "Liên Bảo, Vĩnh Yên"):
        assert personal not in body
    assert client.post(reverse("portal:lookup"), {"code": dossier.code, "digits": "1234"}).status_code == 200


def test_wrong_digits_and_unknown_code_look_the_same(client, citizen, clerk, online_birth):
    dossier = received_dossier(citizen, clerk, online_birth)
    wrong = client.post(reverse("portal:lookup"), {"code": dossier.code, "digits": "0000"})
    unknown = client.post(reverse("portal:lookup"), {"code": dossier.code + "9", "digits": "5678"})
    assert wrong.status_code == unknown.status_code == 404

    def strip(response) -> str:
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return text.replace(dossier.code + "9", "CODE").replace(dossier.code, "CODE")

    assert strip(wrong) == strip(unknown)
    assert client.post(reverse("portal:lookup"), {"code": dossier.code, "digits": "56a8"}).status_code == 422


def test_lookup_is_rate_limited_per_code_and_per_ip(citizen, clerk, online_birth, settings):
    dossier = received_dossier(citizen, clerk, online_birth)
    settings.PORTAL_LOOKUP_LIMIT_PER_CODE = 3
    settings.PORTAL_LOOKUP_LIMIT_PER_IP = 5
    url = reverse("portal:lookup")
    statuses = [
        Client(REMOTE_ADDR=f"10.0.0.{i}").post(url, {"code": dossier.code, "digits": f"{i:04d}"}).status_code
        for i in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    # Even the right digits are refused for that code now.
    assert Client(REMOTE_ADDR="10.0.1.1").post(url, {"code": dossier.code, "digits": "5678"}).status_code == 429
    one_ip = Client(REMOTE_ADDR="10.9.9.9")
    codes = [one_ip.post(url, {"code": f"X{i}", "digits": "1111"}).status_code for i in range(6)]
    assert codes[:5] == [404] * 5 and codes[5] == 429


# --- the clerk's queue of online submissions ------------------------------------------------------


def test_online_queue_is_scoped_and_receives(citizen, clerk, clerk_tamhop, online_birth):
    sent = submitted(citizen, online_birth)
    staff = logged_in(clerk)
    queue = staff.get(reverse("online:queue"))
    assert queue.status_code == 200 and "Nguyễn Văn An" in queue.content.decode()
    other = logged_in(clerk_tamhop)
    assert "Nguyễn Văn An" not in other.get(reverse("online:queue")).content.decode()
    assert other.get(reverse("online:submission", args=[sent.pk])).status_code == 404
    assert logged_in(citizen).get(reverse("online:queue")).status_code == 403

    url = reverse("online:submission", args=[sent.pk])
    assert staff.post(url, {"action": "refuse", "reason": ""}).status_code == 422
    assert staff.post(url, {"action": "complete", "missing": "", "reason": ""}).status_code == 422
    response = staff.post(url, {"action": "receive"})
    sent.refresh_from_db()
    assert response.status_code == 302 and sent.status == Status.RECEIVED and sent.code in response["Location"]
    assert staff.post(url, {"action": "receive"}).status_code == 404


@pytest.mark.parametrize("action, status", [("complete", Status.RETURNED_FOR_COMPLETION), ("refuse", Status.REFUSED)])
def test_online_queue_return_and_refuse(citizen, clerk, online_birth, action, status):
    sent = submitted(citizen, online_birth)
    staff = logged_in(clerk)
    response = staff.post(
        reverse("online:submission", args=[sent.pk]), {"action": action, "missing": "Tờ khai", "reason": "Thiếu"}
    )
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.status == status and sent.code is None


def test_staff_home_moved_to_staff(clerk, client):
    assert client.get("/staff/")["Location"].startswith(reverse("dossiers:login"))
    assert logged_in(clerk).get("/staff/")["Location"] == reverse("dossiers:counter")
    assert applicant()  # the shared helper stays importable for the browser test


def test_result_download_only_for_the_owner(citizen, other_citizen, clerk, online_birth):
    from django.core.files.base import ContentFile

    from motcua.documents.models import IssuedDocument

    dossier = received_dossier(citizen, clerk, online_birth)
    issued = IssuedDocument(title="Giấy khai sinh", dossier=dossier, agency=dossier.competent_agency, size=len(PDF))
    issued.file.save("result.pdf", ContentFile(PDF), save=False)
    issued.save()
    mine = logged_in(citizen)
    assert "Giấy khai sinh" in mine.get(reverse("portal:dossier", args=[dossier.pk])).content.decode()
    download = mine.get(reverse("portal:result", args=[issued.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert logged_in(other_citizen).get(reverse("portal:result", args=[issued.pk])).status_code == 404
