"""Desk pages for the online targets and the indicator formulas, and their services' checks."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from motcua.org.demo import DEMO_PASSWORD
from motcua.org.models import Agency
from motcua.reports import selectors, services
from motcua.reports.models import IndicatorSetting, OnlineTarget
from motcua.reports.periods import Period
from tests.reports.conftest import BRANCH_VY, LIENBAO, TAMHOP, user


def client_for(email_local: str) -> Client:
    client = Client()
    assert client.login(username=f"{email_local}@vinhphuc.gov.vn", password=DEMO_PASSWORD)
    return client


def test_system_admin_chooses_a_formula_in_the_desk_and_the_dashboard_uses_it(history):
    client = client_for("admin")
    response = client.post(
        "/admin/reports/indicatorsetting/add/",
        {"indicator": "online", "formula": "online:all_received", "confirmed": "", "source": "QĐ 766 (chưa đối chiếu)"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert IndicatorSetting.objects.get().variant == "all_received"
    assert selectors.indicator_choices() == {"online": "all_received"}
    # A formula of another indicator is refused with a message, nothing saved.
    response = client.post(
        "/admin/reports/indicatorsetting/add/", {"indicator": "on_time", "formula": "online:online_capable"}
    )
    assert response.status_code == 200 and "Chọn một công thức của chỉ số đã chọn" in response.content.decode()
    assert IndicatorSetting.objects.count() == 1


def test_only_a_system_admin_changes_formulas(history):
    with pytest.raises(PermissionDenied):
        services.set_indicator_formula(actor=user("quantri.vinhyen"), indicator="online", variant="all_received")
    with pytest.raises(ValidationError):
        services.set_indicator_formula(actor=user("admin"), indicator="online", variant="nope")
    with pytest.raises(ValidationError):
        services.set_indicator_formula(actor=user("admin"), indicator="nope", variant="nope")
    assert not IndicatorSetting.objects.exists()
    assert client_for("quantri.vinhyen").get("/admin/reports/indicatorsetting/add/").status_code == 403


def test_online_targets_are_scoped_and_shown_against_the_rate(history):
    unit_admin = user("quantri.vinhyen")
    target = services.set_online_target(
        actor=unit_admin, agency=Agency.objects.get(code=LIENBAO), year=2026, percent="40"
    )
    assert target.percent == 40
    with pytest.raises(PermissionDenied):
        services.set_online_target(actor=unit_admin, agency=Agency.objects.get(code=TAMHOP), year=2026, percent=40)
    for percent, year in (("abc", 2026), ("101", 2026), ("-1", 2026), ("50", 1999), ("50", "x")):
        with pytest.raises(ValidationError):
            services.set_online_target(
                actor=unit_admin, agency=Agency.objects.get(code=BRANCH_VY), year=year, percent=percent
            )
    assert OnlineTarget.objects.count() == 1
    html = client_for("lanhdao.vinhyen").get("/reports/?period=month-2026-10").content.decode()
    # Liên Bảo, October: 1 of 3 received online = 33.33 %, below its 40 % target.
    assert '<td class="n below">33,33 %</td>' in html and "40,00 %" in html
    assert selectors.online_targets([Agency.objects.get(code=LIENBAO).pk], Period("month", 2026, 10).year)


pytestmark = pytest.mark.urls("tests.reports.urls")
