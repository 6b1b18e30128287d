"""The desk pages of trust material, signing certificates and issued documents."""

import pytest
from django.test import Client
from django.urls import reverse

from motcua.documents import pki, services
from motcua.documents.models import SigningCertificate, TrustedRoot
from tests.documents.conftest import other_pki
from tests.dossiers.conftest import user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.documents.urls")]


def login(email_local: str) -> Client:
    client = Client()
    client.force_login(user(email_local))
    return client


@pytest.mark.parametrize(
    "name",
    ["templateoverride", "trustedroot", "revocationlist", "signingcertificate", "issueddocument"],
)
def test_every_list_and_add_page_opens(demo_pki, receipt, name):
    desk = login("admin")
    assert desk.get(reverse(f"admin:documents_{name}_changelist")).status_code == 200
    add = desk.get(reverse(f"admin:documents_{name}_add"))
    assert add.status_code == (403 if name == "issueddocument" else 200)


def test_a_trusted_root_is_added_from_its_pem_and_a_leaf_is_refused(demo_pki):
    desk = login("admin")
    root, leaf = other_pki("Root CA của tỉnh bạn")
    bad = desk.post(
        reverse("admin:documents_trustedroot_add"), {"name": "", "certificate_pem": leaf.pem, "is_active": "on"}
    )
    assert bad.status_code == 200 and "không phải của tổ chức cung cấp dịch vụ chứng thực" in bad.content.decode()
    junk = desk.post(
        reverse("admin:documents_trustedroot_add"), {"name": "", "certificate_pem": "abc", "is_active": "on"}
    )
    assert "không phải chứng thư số dạng PEM hoặc DER" in junk.content.decode()
    assert TrustedRoot.objects.count() == 1
    good = desk.post(
        reverse("admin:documents_trustedroot_add"), {"name": "", "certificate_pem": root.pem, "is_active": "on"}
    )
    assert good.status_code == 302
    added = TrustedRoot.objects.get(fingerprint=pki.fingerprint(root.certificate))
    assert added.name == "Root CA của tỉnh bạn"
    assert login("quantri.vinhyen").get(reverse("admin:documents_trustedroot_add")).status_code == 403


def test_registering_a_certificate_checks_the_key_file(demo_pki, pki_files):
    desk = login("admin")
    leader = user("lanhdao.lienbao")
    _root, leaf = other_pki()
    form = {
        "user": leader.pk,
        "label": "",
        "kind": "personal",
        "mode": "pkcs12",
        "certificate_pem": leaf.pem,
        "key_file": "users/lanhdao.lienbao.p12",  # holds another certificate
        "secret_ref": "file:passphrase",
        "token_label": "",
        "remote_user_id": "",
    }
    response = desk.post(reverse("admin:documents_signingcertificate_add"), form)
    assert "Tệp PKCS#12 chứa một chứng thư số khác." in response.content.decode()
    registered = SigningCertificate.objects.get(user=leader)
    form["certificate_pem"] = registered.certificate_pem
    response = desk.post(reverse("admin:documents_signingcertificate_add"), form)
    assert "Chứng thư số này đã được đăng ký." in response.content.decode()
    (pki_files / "users" / "stranger.p12").write_bytes(
        pki.pkcs12_bytes(leaf, "s", (pki_files / "passphrase").read_bytes())
    )
    form.update(certificate_pem=leaf.pem, key_file="users/stranger.p12", label="Chứng thư thứ hai")
    response = desk.post(reverse("admin:documents_signingcertificate_add"), form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert SigningCertificate.objects.filter(user=leader).count() == 2
    (pki_files / "users" / "stranger.p12").unlink()


def test_revoking_in_the_desk(demo_pki):
    certificate = SigningCertificate.objects.get(user__email="lanhdao.lienbao@vinhphuc.gov.vn")
    url = reverse("admin:documents_signingcertificate_revoke_detail", args=[certificate.pk])
    assert login("quantri.binhxuyen").post(url).status_code == 404  # not in their scope
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    desk = login("quantri.vinhyen")
    assert desk.get(url).status_code == 200
    desk.post(url)
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None and certificate.revocation_reason == "Thu hồi trên trang quản trị"


def test_issued_documents_are_downloaded_only_in_scope(demo_pki, receipt):
    services.sign_document(receipt, actor=user("lanhdao.vinhyen"))
    url = reverse("admin:documents_issueddocument_download_detail", args=[receipt.pk])
    response = login("giamsat.lienbao").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert login("giamsat.binhxuyen").get(url).status_code == 404
    verify = login("giamsat.lienbao").get(reverse("admin:documents_issueddocument_verify_detail", args=[receipt.pk]))
    assert verify.status_code == 302 and verify["Location"] == f"/verify/{receipt.token}/"
