"""National inbound dossiers with absurd input (F8/F11 of the December 2026 review): a 4xx, a log row, nothing else.

A NUL in ChuHoSo answered 500 without even the inbound log row; form data 5 000 levels deep was a
RecursionError; a 1 MB form-data string and a submission in 9999 were accepted.
"""

import json

import pytest

from motcua.integrations.models import NationalInboundLog
from tests.integrations.test_inbound import URL, inbound, national, nothing_created, post  # noqa: F401

pytestmark = pytest.mark.urls("tests.integrations.urls")


def _deep(levels: int) -> dict:
    data: dict = {"x": 1}
    for _ in range(levels):
        data = {"x": data}
    return data


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ChuHoSo": "Lê Thị\x00 Mai"}, "ChuHoSo"),
        ({"DiaChi": "Phường\x00 Liên Bảo"}, "DiaChi"),
        ({"DuLieuBieuMau": {"ho_ten_tre": "x" * 1_000_001}}, "DuLieuBieuMau"),
        ({"DuLieuBieuMau": {"ho_ten_tre": "x" * 100_000}}, "form_data"),
        ({"NgayNopHoSo": "99991231000000"}, "NgayNopHoSo"),
    ],
)
def test_refused_with_a_log_row(client, inbound, overrides, field):  # noqa: F811
    response = post(client, national(**overrides))
    assert response.status_code == 422, response.content
    assert any(field in (e.get("field") or "") for e in response.json()["errors"]), response.json()
    nothing_created()
    log = NationalInboundLog.objects.get()
    assert log.outcome == NationalInboundLog.Outcome.REFUSED and log.national_code == "G22.99-261128-000123"


def test_form_data_5000_levels_deep(client, inbound):  # noqa: F811
    raw = json.dumps(national(DuLieuBieuMau=_deep(5000))).encode()
    response = post(client, None, raw=raw)
    assert response.status_code in (400, 422), response.content
    nothing_created()
    if response.status_code == 422:  # parsed: refused by its shape, and logged without the payload
        assert NationalInboundLog.objects.get().payload["not_stored"] == "too_deep"


def test_a_lone_surrogate(client, inbound):  # noqa: F811
    raw = json.dumps(national(), ensure_ascii=False).replace("Lê Thi", "L\\ud800 Thi").encode()
    response = post(client, None, raw=raw)
    assert response.status_code == 422, response.content
    nothing_created()
    assert "\ufffd" in NationalInboundLog.objects.get().payload["ChuHoSo"]
