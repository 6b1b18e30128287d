"""The report pages through HTTP: access, scope, bad input, the public page without personal data."""

import re

import pytest
from django.test import Client

from motcua.org.demo import DEMO_PASSWORD
from motcua.org.models import AdministrativeUnit
from tests.reports.conftest import BRANCH_BX, BRANCH_VY, LIENBAO, TAMHOP, expected_columns

pytestmark = pytest.mark.urls("tests.reports.urls")


def client_for(email_local: str) -> Client:
    client = Client()
    assert client.login(username=f"{email_local}@vinhphuc.gov.vn", password=DEMO_PASSWORD)
    return client


def tile(html: str, measure: str) -> int:
    match = re.search(rf'measure={measure}">\s*<span class="value">(\d+)</span>', html)
    assert match, measure
    return int(match.group(1))


def test_anonymous_staff_pages_redirect_to_login(history):
    for url in ("/reports/", "/reports/ii06a/", "/reports/late/", "/reports/steps/", "/reports/dossiers/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_citizen_gets_a_clear_refusal(history):
    client = Client()
    assert client.login(username="nguyenvanan@example.vn", password=DEMO_PASSWORD)
    response = client.get("/reports/")
    assert response.status_code == 403
    assert "Báo cáo chỉ dành cho cán bộ" in response.content.decode()


def test_dashboard_tiles_match_the_hand_count_and_link_to_the_dossiers(history):
    client = client_for("giamsat.tinh")
    html = client.get("/reports/?period=month-2026-11").content.decode()
    everyone = [LIENBAO, TAMHOP, BRANCH_VY, BRANCH_BX]
    total = {n: sum(expected_columns(code, 11)[n] for code in everyone) for n in range(3, 17)}
    assert tile(html, "received") == total[4] + total[5]
    assert tile(html, "carried_over") == total[6]
    assert tile(html, "resolved_late") == total[10]
    assert tile(html, "overdue") == total[13]
    assert tile(html, "refused") == total[16]
    assert "<svg" in html and "Tỷ lệ đúng hạn" in html
    listing = client.get(
        f"/reports/dossiers/?unit={AdministrativeUnit.objects.get(name='Tỉnh Vĩnh Phúc').pk}"
        "&period=month-2026-11&measure=overdue"
    )
    assert listing.status_code == 200
    assert history.dossiers["A9"].code in listing.content.decode()
    assert history.dossiers["A8"].code not in listing.content.decode()


def test_district_leader_sees_only_the_district(history):
    client = client_for("lanhdao.vinhyen")
    html = client.get("/reports/?period=month-2026-11").content.decode()
    expected = expected_columns(LIENBAO, 11)[4] + expected_columns(LIENBAO, 11)[5] + expected_columns(BRANCH_VY, 11)[5]
    assert tile(html, "received") == expected
    assert "Xã Tam Hợp" not in html and "Ủy ban nhân dân xã Tam Hợp" not in html
    binhxuyen = AdministrativeUnit.objects.get(name="Huyện Bình Xuyên")
    assert client.get(f"/reports/?unit={binhxuyen.pk}").status_code == 403
    assert client.get(f"/reports/ii06a/?agency={TAMHOP}").status_code == 403
    listing = client.get("/reports/dossiers/?period=month-2026-11&measure=received").content.decode()
    assert history.dossiers["B3"].code not in listing and history.dossiers["A9"].code in listing


def test_bad_parameters_answer_400_with_a_vietnamese_message(history):
    client = client_for("giamsat.tinh")
    for query, message in (
        ("period=month-2026-13", "Chọn kỳ báo cáo"),
        ("period=weekly", "Chọn kỳ báo cáo"),
        ("unit=abc", "Không có đơn vị hành chính này"),
        ("agency=999.99.99.H62", "“999.99.99.H62”"),
        ("field=NOPE", "Không có lĩnh vực nào mang mã “NOPE”"),
    ):
        response = client.get(f"/reports/ii06a/?{query}")
        assert response.status_code == 400, query
        assert message in response.content.decode(), query
    response = client.get("/reports/dossiers/?period=month-2026-11&measure=everything")
    assert response.status_code == 400 and "Chỉ số không hợp lệ" in response.content.decode()


def test_ii06a_page_shows_the_branch_under_both_lines(history):
    html = client_for("giamsat.tinh").get("/reports/ii06a/?period=month-2026-10").content.decode()
    rows = re.findall(r'<td class="depth-\d">Chi nhánh Văn phòng Đăng ký đất đai thành phố Vĩnh Yên', html)
    assert len(rows) == 2
    assert "Tổng cộng (mỗi hồ sơ chỉ tính một lần)" in html


def test_public_page_needs_no_login_and_shows_no_personal_data(history):
    response = Client().get("/statistics/?period=month-2026-10")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tỉnh Vĩnh Phúc" in html and "Thành phố Vĩnh Yên" in html and "Huyện Bình Xuyên" in html
    for dossier in history.dossiers.values():
        assert dossier.code not in html
        assert dossier.applicant_name not in html
        assert dossier.applicant_id_number not in html
    assert "Nguyễn Văn Thử" not in html and "0912345678" not in html
    # October: received 7 in the province (A5 A6 A7 B1 B2 C1 C2), resolved 5.
    assert re.search(r'<span class="value">7</span><span class="label">Tiếp nhận trong kỳ', html)
    assert re.search(r'<span class="value">5</span><span class="label">Đã giải quyết', html)
    bad = Client().get("/statistics/?period=month-2026-99")
    assert bad.status_code == 400 and "Chọn kỳ báo cáo" in bad.content.decode()


def test_late_report_lists_who_held_the_dossier_and_the_days_over(history):
    html = client_for("giamsat.tinh").get("/reports/late/?period=month-2026-11").content.decode()
    d = history.dossiers
    assert d["A9"].code in html and d["B3"].code in html
    assert d["A8"].code not in html and d["C3"].code not in html


def test_ii06a_cells_link_to_their_dossiers(history):
    client = client_for("giamsat.tinh")
    html = client.get("/reports/ii06a/?period=month-2026-11").content.decode()
    links = re.findall(r'href="(/reports/dossiers/\?[^"]*agency=000\.21\.31\.H62[^"]*measure=overdue)">(\d+)<', html)
    assert links and all(count == "1" for _url, count in links)
    listing = client.get(links[0][0].replace("&amp;", "&")).content.decode()
    assert history.dossiers["A9"].code in listing and history.dossiers["A8"].code not in listing
