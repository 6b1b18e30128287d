"""The HTTP client against the real simulator: both authentication styles, every kind of failure."""

import time

import pytest
import requests

from motcua.integrations.national.client import (
    AuthError,
    ClientSettings,
    NationalPortalClient,
    Rejected,
    TransportError,
)
from motcua.integrations.national.simulator import NationalPortalSimulator
from tests.integrations.conftest import CREDENTIALS, UNIT


def dossier(code: str = "H62-1", key: str = "k-1", **overrides) -> dict:
    item = {
        "MaHoSo": code,
        "MaTTHC": "1.001193",
        "TenTTHC": "Đăng ký khai sinh",
        "ChuHoSo": "Nguyễn Thị Ánh Tuyết",
        "TrangThaiHoSo": "2",
        "NgayTiepNhan": "20261130090000",
        "NgayHenTra": "20261201113000",
        "IdempotencyKey": key,
    }
    item.update(overrides)
    return item


def session_client(sim: NationalPortalSimulator, **overrides) -> NationalPortalClient:
    values = {
        "base_url": sim.url,
        "unit_code": UNIT,
        "username": CREDENTIALS.username,
        "password": CREDENTIALS.password,
        "read_timeout": 0.5,
    }
    values.update(overrides)
    return NationalPortalClient(ClientSettings(**values))


def oauth_client(sim: NationalPortalSimulator, **overrides) -> NationalPortalClient:
    values = {
        "base_url": sim.url,
        "auth_mode": "oauth2",
        "unit_code": UNIT,
        "client_id": CREDENTIALS.client_id,
        "client_secret": CREDENTIALS.client_secret,
        "read_timeout": 0.5,
    }
    values.update(overrides)
    return NationalPortalClient(ClientSettings(**values))


def logins(sim: NationalPortalSimulator, service: str = "login") -> int:
    return sum(1 for call in sim.calls() if call["service"] == service and call["outcome"] == "ok")


def test_session_login_is_carried_in_the_body_and_reused(simulator):
    client = session_client(simulator)
    client.sync_dossiers([dossier()], updating=False)
    progress = {"MaHoSo": "H62-1", "TrangThai": "2", "ThoiDiemXuLy": "20261130090000", "IdempotencyKey": "k-1"}
    client.push_progress([progress])
    assert simulator.dossier("H62-1")["ChuHoSo"] == "Nguyễn Thị Ánh Tuyết"
    assert len(simulator.progress("H62-1")) == 1
    assert logins(simulator) == 1  # the session is cached, not renewed per call


def test_an_expired_session_is_renewed_once(simulator):
    client = session_client(simulator)
    assert client.find_dossier("H62-404") is None
    simulator.expire_sessions()
    assert client.find_dossier("H62-404") is None
    assert logins(simulator) == 2


def test_wrong_password_is_an_auth_error_with_the_portals_message(simulator):
    client = session_client(simulator, password="sai")
    with pytest.raises(AuthError, match="Sai tên đăng nhập hoặc mật khẩu"):
        client.find_dossier("H62-1")


def test_oauth2_client_credentials_bearer_token(simulator):
    client = oauth_client(simulator)
    client.sync_dossiers([dossier()], updating=False)
    assert client.find_dossier("H62-1")["MaHoSo"] == "H62-1"
    assert logins(simulator, "token") == 1
    simulator.expire_sessions()
    client.sync_dossiers([dossier(TrangThaiHoSo="4", IdempotencyKey="k-2")], updating=True)
    assert logins(simulator, "token") == 2
    assert simulator.dossier("H62-1")["TrangThaiHoSo"] == "4"


def test_oauth2_wrong_secret(simulator):
    with pytest.raises(AuthError, match="invalid_client"):
        oauth_client(simulator, client_secret="sai").find_dossier("H62-1")


def test_an_unknown_static_token_is_refused(simulator):
    client = NationalPortalClient(ClientSettings(base_url=simulator.url, auth_mode="bearer", bearer_token="x"))
    with pytest.raises(AuthError):
        client.find_dossier("H62-1")


def test_wrong_unit_code_is_a_rejection(simulator):
    with pytest.raises(Rejected, match="Mã đơn vị"):
        session_client(simulator, unit_code="000.00.99.H62").find_dossier("H62-1")


def test_portal_down_failing_and_unreachable_are_transport_errors(simulator):
    client = session_client(simulator)
    client.check_credentials()
    simulator.set_faults(down=True)
    with pytest.raises(TransportError):
        client.sync_dossiers([dossier()], updating=False)
    simulator.set_faults(fail_rate=1.0)
    with pytest.raises(TransportError, match="HTTP 500"):
        client.sync_dossiers([dossier()], updating=False)
    assert simulator.applied() == []
    with pytest.raises(TransportError):
        session_client(simulator, base_url="http://127.0.0.1:9").find_dossier("H62-1")


def test_a_timeout_or_a_dropped_reply_may_hide_an_applied_call(simulator):
    client = session_client(simulator)
    client.check_credentials()
    simulator.set_faults(timeout_rate=1.0, timeout_seconds=1.0)
    began = time.monotonic()
    with pytest.raises(TransportError, match=r"no reply within 0\.5 s"):
        client.sync_dossiers([dossier()], updating=False)
    assert time.monotonic() - began < 0.9
    simulator.set_faults(drop_rate=1.0)
    with pytest.raises(TransportError):
        client.sync_dossiers([dossier("H62-2", "k-2")], updating=False)
    # Both were applied by the portal although no reply came back: hence the idempotency keys.
    assert [a["key"] for a in simulator.applied()] == ["k-1", "k-2"]
    simulator.set_faults()
    client.sync_dossiers([dossier()], updating=False)  # the same key again: a duplicate, no harm
    assert [d["key"] for d in simulator.duplicates()] == ["k-1"]
    assert len(simulator.applied()) == 2


def test_rejections_carry_the_portals_message_and_apply_nothing(simulator):
    client = session_client(simulator)
    with pytest.raises(Rejected, match="TrangThaiHoSo “11” không hợp lệ") as caught:
        client.sync_dossiers([dossier("H62-1", "k-1"), dossier("H62-2", "k-2", TrangThaiHoSo="11")], updating=False)
    assert caught.value.error_code == "99"
    assert simulator.applied() == []  # all or nothing
    with pytest.raises(Rejected, match="chưa có trên Cổng"):
        client.sync_dossiers([dossier()], updating=True)
    client.sync_dossiers([dossier()], updating=False)
    with pytest.raises(Rejected, match="đã tồn tại"):
        client.sync_dossiers([dossier(IdempotencyKey="k-9")], updating=False)


def test_reject_rules_and_bad_dates(simulator):
    client = session_client(simulator)
    simulator.set_faults(reject=[{"field": "ChuHoSo", "value": "Lỗi", "contains": True, "message": "Tên không hợp lệ"}])
    with pytest.raises(Rejected, match="Tên không hợp lệ"):
        client.sync_dossiers([dossier(ChuHoSo="Nguyễn Văn Lỗi")], updating=False)
    with pytest.raises(Rejected, match="yyyyMMddHHmmss"):
        client.sync_dossiers([dossier(NgayHenTra="01/12/2026")], updating=False)


def test_catalogue_operations_on_the_share_path(simulator):
    simulator.set_procedures(
        [
            {
                "MATTHC": "1.001193",
                "TENTTHC": "Đăng ký khai sinh",
                "LINHVUCTHUCHIEN": [{"MALINHVUC": "G09-TP01", "TENLINHVUC": "Hộ tịch"}],
            }
        ]
    )
    client = oauth_client(simulator)
    proc = client.get_procedure("1.001193")
    assert (proc.code, proc.name, proc.field_name) == ("1.001193", "Đăng ký khai sinh", "Hộ tịch")
    assert client.get_procedure("1.999999") is None
    assert [p.code for p in client.list_procedures()] == ["1.001193"]


def test_simulator_control_endpoints(simulator):
    reply = requests.post(f"{simulator.url}/_simulator/faults", json={"fail_rate": 0.5}, timeout=2)
    assert reply.json()["faults"]["fail_rate"] == 0.5
    requests.post(f"{simulator.url}/_simulator/reset", json={}, timeout=2)
    state = requests.get(f"{simulator.url}/_simulator/state?detail=1", timeout=2).json()
    assert state["faults"]["fail_rate"] == 0.0
    assert state["applied"] == []
    bad = requests.post(f"{simulator.url}/integration", data=b"{not json", timeout=2)
    assert bad.status_code == 400
    assert "JSON" in bad.json()["message"]
