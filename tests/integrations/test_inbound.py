"""Dossiers submitted on the national portal: the authenticated endpoint and the fetch job.

Every bad input is refused with a clear error and leaves nothing behind: no dossier, no event,
no link, no sync item (only the inbound log records the refusal).
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Channel, Dossier, DossierEvent
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.integrations.models import NationalDossierLink, NationalInboundLog, NationalSyncItem, SyncState
from motcua.integrations.national import mapping, services
from motcua.org.models import User
from tests.integrations.conftest import configure

pytestmark = pytest.mark.urls("tests.integrations.urls")
URL = "/api/v1/national/dossiers"
TOKEN = "token-cua-cong-quoc-gia"
LIENBAO = "000.21.31.H62"


def national(**overrides) -> dict:
    payload = {
        "MaHoSo": "G22.99-261128-000123",
        "MaTTHC": "1.001193",
        "ChuHoSo": "Lê Thi\u0300 Mai",  # decomposed, as some phones send it
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "026190005678",
        "SoDienThoai": "0987654321",
        "Email": "mai@example.vn",
        "DiaChi": "Phường Liên Bảo, thành phố Vĩnh Yên",
        "TrichYeuHoSo": "Đăng ký khai sinh cho con",
        "NgayNopHoSo": "20261128201500",
        "MaDonViTiepNhan": LIENBAO,
        "TaiLieuNop": [{"TenTepDinhKem": "Tờ khai đăng ký khai sinh", "DuongDanTaiTepTin": "https://dvc/f/1"}],
        "DuLieuBieuMau": {"ho_ten_tre": "Lê Văn Bình"},
    }
    payload.update(overrides)
    return payload


def post(client, body, token: str | None = TOKEN, raw: bytes | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    return client.post(URL, data=data, content_type="application/json", **headers)


def nothing_created() -> None:
    assert Dossier.objects.count() == 0
    assert DossierEvent.objects.count() == 0
    assert NationalDossierLink.objects.count() == 0
    assert NationalSyncItem.objects.count() == 0


@pytest.fixture
def inbound(db, org, birth, credentials_env):
    configure("http://127.0.0.1:9")  # the endpoint needs no outbound connection
    return birth


def test_a_national_dossier_joins_the_online_queue_with_its_national_code(client, inbound):
    response = post(client, national())
    assert response.status_code == 201, response.content
    body = response.json()
    dossier = Dossier.objects.get()
    assert body == {
        "id": dossier.pk,
        "national_code": "G22.99-261128-000123",
        "status": "submitted_online",
        "receiving_agency": LIENBAO,
        "competent_agency": LIENBAO,
    }
    assert (dossier.status, dossier.channel, dossier.code) == (Status.SUBMITTED_ONLINE, Channel.ONLINE, None)
    assert dossier.applicant_name == "Lê Thì Mai"  # NFC
    assert dossier.applicant_id_number == "026190005678"
    assert dossier.form_data == {"ho_ten_tre": "Lê Văn Bình"}
    assert [d.name for d in dossier.documents.all()] == ["Tờ khai đăng ký khai sinh"]
    assert dossier.submitted_at.isoformat() == "2026-11-28T13:15:00+00:00"
    event = dossier.events.get()
    assert (event.action, event.to_status, event.actor) == ("submitted_online", "submitted_online", None)
    assert event.data == {"source": "national_portal", "national_code": "G22.99-261128-000123", "documents": 1}
    link = dossier.national_link
    assert (link.origin, link.national_code, link.remote_created) == ("national", "G22.99-261128-000123", True)
    assert link.payload["MaHoSo"] == "G22.99-261128-000123"
    # Not sent back: the portal knows it already.
    item = NationalSyncItem.objects.get()
    assert (item.state, item.note) == (SyncState.SKIPPED, "came from the national portal")
    # The Liên Bảo clerk sees it among the online submissions, the Tam Hợp clerk does not.
    lienbao = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    tamhop = User.objects.get(email="motcua.tamhop@vinhphuc.gov.vn")
    queue = dossiers_visible_to(lienbao).filter(status=Status.SUBMITTED_ONLINE, channel=Channel.ONLINE)
    assert list(queue) == [dossier]
    assert not dossiers_visible_to(tamhop).filter(pk=dossier.pk).exists()
    assert NationalInboundLog.objects.get().outcome == "accepted"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "Wrong credentials"),
        ("not-the-token", "Wrong credentials"),
        ("", "Wrong credentials"),
    ],
)
def test_wrong_credentials(client, inbound, token, message, settings):
    settings.LANGUAGE_CODE = "en"
    response = post(client, national(), token=token, **{})
    assert response.status_code == 401
    assert message in response.json()["detail"]
    nothing_created()
    assert NationalInboundLog.objects.count() == 0  # an unauthenticated body is not even logged


def test_no_inbound_token_configured_refuses_everything(client, inbound, monkeypatch):
    monkeypatch.delenv("MOTCUA_NATIONAL_INBOUND_TOKEN")
    response = post(client, national())
    assert response.status_code == 401
    assert "MOTCUA" not in response.json()["detail"]  # no configuration detail leaks out
    nothing_created()


def test_vietnamese_error_messages(client, inbound):
    response = post(client, national(), token="sai", raw=None)
    assert response.json()["detail"].startswith("Sai thông tin xác thực")


def test_malformed_json(client, inbound):
    response = post(client, None, raw=b'{"MaHoSo": "G22", "MaTTHC": ')
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    nothing_created()
    response = post(client, None, raw=b"[1, 2]")
    assert response.status_code == 400
    nothing_created()


def test_unknown_procedure_code(client, inbound):
    response = post(client, national(MaTTHC="1.999999"))
    assert response.status_code == 422
    body = response.json()
    assert "1.999999" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["MaTTHC"]
    nothing_created()
    log = NationalInboundLog.objects.get()
    assert (log.outcome, log.national_code) == ("refused", "G22.99-261128-000123")


def test_a_duplicate_national_dossier(client, inbound):
    assert post(client, national()).status_code == 201
    again = post(client, national(ChuHoSo="Người khác"))
    assert again.status_code == 409
    assert "G22.99-261128-000123" in again.json()["detail"]
    assert Dossier.objects.count() == 1
    assert DossierEvent.objects.count() == 1
    assert Dossier.objects.get().applicant_name == "Lê Thì Mai"
    assert list(NationalInboundLog.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "accepted",
        "duplicate",
    ]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"MaHoSo": "", "MaTTHC": ""}, ["MaHoSo", "MaTTHC"]),
        ({"LoaiDoiTuong": "9", "NgayNopHoSo": "28/11/2026"}, ["LoaiDoiTuong", "NgayNopHoSo"]),
        ({"SoDienThoai": "12345", "MaDoiTuong": "0261"}, ["applicant.id_number", "applicant.phone"]),
        ({"ChuHoSo": "  "}, ["applicant.full_name"]),
        ({"MaDonViTiepNhan": "000.99.99.H62"}, ["MaDonViTiepNhan"]),
        ({"TaiLieuNop": [{"DuongDanTaiTepTin": "x"}]}, ["TaiLieuNop.0.TenTepDinhKem"]),
    ],
)
def test_invalid_dossiers_are_refused_with_each_problem(client, inbound, overrides, fields):
    response = post(client, national(**overrides))
    assert response.status_code == 422, response.content
    assert sorted(e["field"] for e in response.json()["errors"]) == fields
    assert all(e["message"] for e in response.json()["errors"])
    nothing_created()


def test_no_agency_anywhere(client, inbound):
    payload = national()
    del payload["MaDonViTiepNhan"]
    response = post(client, payload)
    assert response.status_code == 422
    nothing_created()
    config = services.get_config()
    config.default_receiving_agency = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn").agency
    config.save()
    assert post(client, payload).status_code == 201


def test_fetching_the_inbox(portal, org, birth):
    # Submitted an hour ago: inside the next fetch's day of overlap, whatever the date.
    submitted = mapping.format_moment(timezone.now() - timedelta(hours=1))
    portal.add_inbox(
        [
            national(MaHoSo="G22-1", NgayNopHoSo=submitted),
            national(MaHoSo="G22-2", MaTTHC="1.999999", NgayNopHoSo=submitted),
            national(MaHoSo="G22-3", ChuHoSo="Trần Văn Tú", NgayNopHoSo=submitted),
        ]
    )
    report = services.fetch_inbox()
    assert (report.fetched, report.accepted, report.refused, report.duplicates) == (3, 2, 1, 0)
    assert "1.999999" in report.messages[0]
    assert sorted(NationalDossierLink.objects.values_list("national_code", flat=True)) == ["G22-1", "G22-3"]
    # Fetched again (the overlap): nothing new, nothing duplicated.
    again = services.fetch_inbox()
    assert (again.accepted, again.duplicates, again.refused) == (0, 2, 1)
    assert Dossier.objects.count() == 2
    logs = NationalInboundLog.objects.filter(channel="fetch")
    assert logs.filter(outcome="accepted").count() == 2


def test_a_withdrawal_of_a_national_dossier_goes_back_under_its_national_code(portal, org, birth):
    portal.add_inbox([national(MaHoSo="G22-7")])
    services.fetch_inbox()
    dossier = Dossier.objects.get()
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    from motcua.dossiers import services as dossier_services

    dossier_services.withdraw(dossier, actor=clerk, reason="Công dân xin rút hồ sơ")
    report = services.run_sender(budget_seconds=5)
    assert report.acknowledged == 1
    assert portal.dossier("G22-7")["TrangThaiHoSo"] == "7"
    assert [p["TrangThai"] for p in portal.progress("G22-7")] == ["7"]
    assert [c["service"] for c in portal.calls() if c["outcome"] == "ok"][-2:] == [
        "DongBoHoSoMC",
        "CapNhatTienDoHoSoMC",
    ]
