"""Every report figure against the hand count of the known history (tests/reports/conftest.py)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import translation

from motcua.org.models import Agency
from motcua.reports import selectors
from motcua.reports.figures import DATA_COLUMNS, rate
from motcua.reports.models import DossierBooking
from motcua.reports.periods import Period
from tests.reports.conftest import (
    BRANCH_BX,
    BRANCH_VY,
    EXPECTED,
    LAND_OFFICE,
    LIENBAO,
    TAMHOP,
    expected_columns,
    summary_rows,
    user,
)

MONTHS = (9, 10, 11)


def month(m: int) -> Period:
    return Period("month", 2026, m)


def admin_scope(**params):
    return selectors.resolve_scope(user("admin"), params)


def columns(figures) -> dict[int, int]:
    return {n: figures.column(n) for n in DATA_COLUMNS}


def summed(codes: list[str], m: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for code in codes:
        for n, value in expected_columns(code, m).items():
            out[n] = out.get(n, 0) + value
    return out


@pytest.mark.parametrize("code", [LIENBAO, TAMHOP, BRANCH_VY, BRANCH_BX])
@pytest.mark.parametrize("m", MONTHS)
def test_each_agency_and_month_matches_the_hand_count(history, code, m):
    figures = selectors.figures(admin_scope(agency=code), month(m))
    assert columns(figures) == expected_columns(code, m)
    assert figures.balanced


@translation.override("en")
def test_province_form_lists_the_dual_agency_under_both_lines_and_counts_it_once(history):
    scope = admin_scope()
    for m in MONTHS:
        rows = selectors.form_rows(scope, month(m))
        grand = rows[-1]
        assert grand.kind == "grand_total"
        assert columns(grand.figures) == summed([LIENBAO, TAMHOP, BRANCH_VY, BRANCH_BX], m)
        branch_rows = [r for r in rows if r.kind == "agency" and r.agency_code == BRANCH_VY]
        assert len(branch_rows) == 2, "the Vĩnh Yên branch appears under the province's office and under Vĩnh Yên"
        assert all(columns(r.figures) == expected_columns(BRANCH_VY, m) for r in branch_rows)
        groups = {r.label: r for r in rows if r.kind == "group_total"}
        assert columns(groups["Sub-total Tỉnh Vĩnh Phúc"].figures) == summed([BRANCH_VY, BRANCH_BX], m)
        assert columns(groups["Sub-total Thành phố Vĩnh Yên"].figures) == summed([LIENBAO, BRANCH_VY], m)
        assert columns(groups["Sub-total Huyện Bình Xuyên"].figures) == summed([TAMHOP, BRANCH_BX], m)
        line = next(r for r in rows if r.kind == "line_total" and "Văn phòng Đăng ký đất đai" in r.label)
        assert columns(line.figures) == summed([BRANCH_VY, BRANCH_BX], m)
    # The sub-totals overlap by the branches, the total does not.
    rows = selectors.form_rows(scope, month(10))
    sub_received = sum(r.figures.received_total for r in rows if r.kind == "group_total")
    assert sub_received == rows[-1].figures.received_total + expected_columns(BRANCH_VY, 10)[3]


def test_department_line_counts_its_branches(history):
    land_office = Agency.objects.get(code=LAND_OFFICE)
    figures = selectors.figures(admin_scope(agency=land_office.code), month(11))
    assert columns(figures) == summed([BRANCH_VY, BRANCH_BX], 11)


def test_quarter_nine_months_and_year_add_up_from_the_months(history):
    q4 = selectors.figures(admin_scope(), Period("quarter", 2026, 4))
    nine = selectors.figures(admin_scope(), Period("nine", 2026))
    year = selectors.figures(admin_scope(), Period("year", 2026))
    everyone = [LIENBAO, TAMHOP, BRANCH_VY, BRANCH_BX]
    oct_, nov = summed(everyone, 10), summed(everyone, 11)
    assert q4.received_in_period == oct_[4] + oct_[5] + nov[4] + nov[5]
    assert q4.carried_over == oct_[6]
    assert q4.resolved == oct_[7] + nov[7]
    assert (q4.in_progress, q4.overdue) == (nov[11], nov[13])  # December is empty: the state at the end of November
    sep = summed(everyone, 9)
    assert nine.carried_over == 0
    assert nine.resolved == sep[7]
    assert (nine.in_progress, nine.overdue) == (sep[11], sep[13])
    assert year.resolved == sep[7] + oct_[7] + nov[7]
    assert year.balanced and q4.balanced and nine.balanced


def test_trend_gives_the_same_figures_as_each_month(history):
    scope = admin_scope()
    series = selectors.trend(scope, [month(m) for m in (8, 9, 10, 11, 12)])
    for period, figures in series:
        assert columns(figures) == columns(selectors.figures(scope, period))
    assert columns(series[1][1]) == summed([LIENBAO, TAMHOP, BRANCH_VY, BRANCH_BX], 9)


def test_field_and_procedure_narrow_the_scope(history):
    land = selectors.figures(admin_scope(field="DAT_DAI"), month(10))
    assert columns(land) == summed([BRANCH_VY, BRANCH_BX], 10)
    civil = selectors.figures(admin_scope(procedure="1.001193.000.00.00.H62"), month(10))
    assert columns(civil) == summed([LIENBAO, TAMHOP], 10)


def test_indicators_use_the_flows(history):
    october = selectors.figures(admin_scope(), month(10))
    on_time = rate(october, "on_time")
    # Resolved in October: A4 late, A5 early, B1 on time, C1 early, C2 late → 3 of 5.
    assert (on_time.numerator, on_time.denominator, str(on_time.value)) == (3, 5, "60.00")
    online = rate(october, "online")
    # Received in October: A5 online (partial procedure), A6, A7, B1, B2 in person; C1 and C2 (full online), C2 online.
    assert (online.numerator, online.denominator) == (2, 7)
    assert rate(october, "online", "all_received").denominator == 7
    digitised = rate(october, "digitised_dossiers")
    assert (digitised.numerator, digitised.denominator) == (1, 7)  # only A5 came with its scan
    fee = rate(october, "online_payment")
    assert (fee.numerator, fee.denominator, fee.value) == (0, 0, None)  # no fee paid in October: no figure
    with_fee = rate(october, "online_payment", "with_fee")
    assert (with_fee.numerator, with_fee.denominator) == (0, 2)  # C1, C2 have a fee
    satisfaction = rate(october, "satisfaction")
    assert (satisfaction.denominator, satisfaction.value) == (0, None)  # no rating in October: no figure, not 0 %
    september = selectors.figures(admin_scope(), month(9))
    assert rate(september, "digitised_dossiers").numerator == 2


def test_rebuild_gives_the_same_rows_as_the_incremental_path(history):
    def snapshot():
        return summary_rows(), dict(DossierBooking.objects.values_list("dossier_id", "contribution"))

    before = snapshot()
    assert before[0], "the incremental path has written rows"
    reports = [columns(selectors.figures(admin_scope(), month(m))) for m in MONTHS]
    call_command("rebuild_report_summaries", verbosity=0)
    after = snapshot()
    assert after == before
    assert [columns(selectors.figures(admin_scope(), month(m))) for m in MONTHS] == reports


def test_district_leader_sees_only_the_district(history):
    leader = user("lanhdao.vinhyen")
    scope = selectors.resolve_scope(leader, {})
    assert scope.unit.name == "Thành phố Vĩnh Yên"
    for m in MONTHS:
        assert columns(selectors.figures(scope, month(m))) == summed([LIENBAO, BRANCH_VY], m)
    rows = selectors.form_rows(scope, month(11))
    codes = {r.agency_code for r in rows if r.kind == "agency"}
    assert TAMHOP not in codes and BRANCH_BX not in codes and BRANCH_VY in codes
    with pytest.raises(PermissionDenied):
        selectors.resolve_scope(leader, {"unit": str(Agency.objects.get(code=TAMHOP).unit.parent_id)})
    with pytest.raises(PermissionDenied):
        selectors.resolve_scope(leader, {"agency": BRANCH_BX})
    listed = selectors.dossiers_behind(leader, scope, month(11), "received")
    assert {d.competent_agency.code for d in listed} == {LIENBAO, BRANCH_VY}
    assert {d.code for d in listed} == {history.dossiers[k].code for k in ("A8", "A9", "C3")}


def test_bad_scope_parameters_are_refused_with_a_message(history):
    admin = user("admin")
    for params, field in (
        ({"unit": "999999"}, "unit"),
        ({"unit": "abc"}, "unit"),
        ({"agency": "999.99.99.H62"}, "agency"),
        ({"field": "NOPE"}, "field"),
        ({"procedure": "9.999999"}, "procedure"),
    ):
        with pytest.raises(ValidationError) as caught:
            selectors.resolve_scope(admin, params)
        assert field in caught.value.message_dict
    with pytest.raises(ValidationError):
        selectors.resolve_period({"period": "month-2026-13"})
    with pytest.raises(PermissionDenied):
        selectors.resolve_scope(user("nguyenvanan", domain="example.vn"), {})


MEASURE_COLUMN = {
    "received_online": 4,
    "received_direct": 5,
    "carried_over": 6,
    "resolved": 7,
    "resolved_early": 8,
    "resolved_on_time": 9,
    "resolved_late": 10,
    "in_progress": 11,
    "within_time": 12,
    "overdue": 13,
    "withdrawn": 14,
    "stopped": 15,
    "refused": 16,
}


@pytest.mark.parametrize("m", MONTHS)
def test_the_dossiers_behind_each_number_are_as_many_as_the_number(history, m):
    admin = user("admin")
    scope = admin_scope()
    figures = selectors.figures(scope, month(m))
    for measure, number in MEASURE_COLUMN.items():
        listed = selectors.dossiers_behind(admin, scope, month(m), measure)
        assert listed.count() == figures.column(number), measure
    assert selectors.dossiers_behind(admin, scope, month(m), "received").count() == figures.received_in_period


def test_the_overdue_dossiers_are_the_right_ones(history):
    admin = user("admin")
    scope = admin_scope()
    d = history.dossiers
    assert [x.code for x in selectors.dossiers_behind(admin, scope, month(9), "overdue")] == [d["A4"].code]
    assert [x.code for x in selectors.dossiers_behind(admin, scope, month(10), "within_time")] == [d["A7"].code]
    assert [x.code for x in selectors.dossiers_behind(admin, scope, month(11), "overdue")] == [d["A9"].code]
    assert [x.code for x in selectors.dossiers_behind(admin, scope, month(11), "within_time")] == [d["A8"].code]


def test_expected_table_covers_every_agency_with_dossiers(history):
    agencies = {dossier.competent_agency.code for dossier in history.dossiers.values()}
    assert agencies == set(EXPECTED)


def test_an_immediate_procedure_has_no_due_moment_and_is_never_overdue(demo_org):
    from motcua.catalog.models import Field
    from motcua.dossiers import services
    from tests.reports.conftest import _receive, at, make_procedure

    field, _ = Field.objects.get_or_create(code="CHUNG_THUC", defaults={"name": "Chứng thực"})
    version = make_procedure(
        "2.000815",
        "Chứng thực bản sao",
        days="0",
        agencies=[LIENBAO],
        field=field,
        online="none",
        fee=0,
        time_kind="immediate",
    )
    clerk = user("motcua.lienbao")
    dossier = _receive(clerk, version, at(2, 11, 9), 90)
    assert dossier.due_at is None
    services.start_processing(dossier, actor=clerk, now=at(2, 11, 9, 10))
    services.mark_result_ready(dossier, actor=clerk, now=at(20, 11, 9))
    figures = selectors.figures(admin_scope(agency=LIENBAO, procedure="2.000815"), month(11))
    assert (figures.received_in_period, figures.resolved_on_time, figures.overdue, figures.in_progress) == (1, 1, 0, 0)
