"""Per-step figures and the late-dossier report on a real workflow run (motcua.workflow services)."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from motcua.reports import selectors
from motcua.reports.models import StepFigures
from motcua.reports.periods import Period
from motcua.workflow import services as workflow
from tests.workflow.conftest import (
    DONRE,
    LAND_CODE,
    LAND_OFFICE,
    LIENBAO,
    MONDAY,
    PDF,
    VINHYEN_BRANCH,
    at,
    land_procedure,
    staff,
    three_levels,
)

DECEMBER, NOVEMBER = Period("month", 2026, 12), Period("month", 2026, 11)


@pytest.fixture
def run(demo_org, settings):
    """Two dossiers through the three-level workflow (tests/workflow): one resolved on time with an
    electronic result, one left with the district branch past its due moment."""
    from motcua.dossiers import services as dossiers

    # The subject is time per step: the leader's approval is not signed digitally here (signing is
    # tested in tests/workflow/test_result_signing.py).
    settings.MOTCUA_SIGN_RESULTS = False

    land = land_procedure()
    workflow.replace_definition(land, None, three_levels())
    clerk = staff("motcua.lienbao")
    commune, branch = staff("chuyenvien.lienbao"), staff("chuyenvien.0010112h62")
    office, leader = staff("chuyenvien.tinh"), staff("lanhdao.tinh")

    def receive():
        return dossiers.receive_at_counter(
            clerk=clerk,
            procedure_code=LAND_CODE,
            applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234", "phone": "0912345678"},
            form_data={"ho_ten": "Nguyễn Văn An", "dien_tich": "120.5"},
            documents=[{"component": land.components.get().pk, "originals": 1}],
            now=MONDAY,
        )

    done, stuck = receive(), receive()
    workflow.act(done, user=commune, action="len-huyen", now=at(30, 15, month=11))
    workflow.act(done, user=branch, action="trinh-tinh", now=at(2, 16))
    workflow.act(
        done,
        user=office,
        action="trinh-ld",
        attachments=[{"name": "du-thao.pdf", "content": PDF, "kind": "draft"}],
        now=at(4, 14),
    )
    workflow.act(
        done,
        user=leader,
        action="duyet",
        attachments=[{"name": "ket-qua.pdf", "content": PDF, "kind": "result"}],
        now=at(7, 10),
    )
    workflow.act(done, user=clerk, action="hand_over", now=at(7, 14))
    workflow.act(stuck, user=commune, action="len-huyen", now=at(30, 15, month=11))
    done.refresh_from_db()
    stuck.refresh_from_db()
    return done, stuck


def lines(period):
    scope = selectors.resolve_scope(staff("admin"), {})
    return {
        (line.agency_code, line.step_key): (
            line.finished,
            line.sessions_used,
            line.sessions_budget,
            line.early,
            line.on_time,
            line.late,
        )
        for line in selectors.step_report(scope, period)
    }


def test_time_per_step_and_agency_against_the_budget(run):
    # Sessions used, by the DESIGN.md rule (the hand-over session is charged to the previous holder):
    # commune Mon 09:00 → Mon 15:00: the afternoon = 1 of 2; branch Mon 15:00 → Wed 16:00: Tue AM/PM, Wed AM
    # and the Wed afternoon it finished in = 4 of 4; office Wed 16:00 → Fri 14:00: Thu AM/PM, Fri AM, Fri PM = 4 of 3;
    # leader Fri 14:00 → Mon 10:00: Mon AM = 1 of 1; the result row Mon 10:00 → 14:00: Mon PM = 1 of 0, no verdict.
    assert lines(NOVEMBER) == {(LIENBAO, "xa"): (2, 2, 4, 2, 0, 0)}
    assert lines(DECEMBER) == {
        (VINHYEN_BRANCH, "chi-nhanh"): (1, 4, 4, 0, 1, 0),
        (LAND_OFFICE, "van-phong"): (1, 4, 3, 0, 0, 1),
        (DONRE, "lanh-dao"): (1, 1, 1, 0, 1, 0),
        (LIENBAO, "tra"): (1, 1, 0, 0, 0, 0),
    }
    line = next(
        x
        for x in selectors.step_report(selectors.resolve_scope(staff("admin"), {}), DECEMBER)
        if x.step_key == "van-phong"
    )
    assert (line.average_used, line.average_budget, line.late_share) == (
        Decimal("4.0"),
        Decimal("3.0"),
        Decimal("100.0"),
    )


def test_step_figures_survive_a_rebuild(run):
    before = sorted(
        StepFigures.objects.values_list("day", "agency_id", "step_key", "finished", "sessions_used", "late")
    )
    call_command("rebuild_report_summaries", verbosity=0)
    after = sorted(StepFigures.objects.values_list("day", "agency_id", "step_key", "finished", "sessions_used", "late"))
    assert after == before and before


def test_a_result_file_counts_as_an_electronic_result(run):
    scope = selectors.resolve_scope(staff("admin"), {})
    december = selectors.figures(scope, DECEMBER)
    assert (december.resolved, december.resolved_on_time, december.resolved_digital) == (1, 1, 1)
    listed = selectors.dossiers_behind(staff("admin"), scope, DECEMBER, "resolved_digital")
    assert [d.pk for d in listed] == [run[0].pk]


def test_late_report_names_the_holder_and_the_working_days_over(run):
    _done, stuck = run
    scope = selectors.resolve_scope(staff("admin"), {})
    late = selectors.late_dossiers(staff("admin"), scope, DECEMBER)
    assert [line.dossier.pk for line in late] == [stuck.pk]
    line = late[0]
    assert line.state == "overdue"
    assert line.due_at == at(7, 11, 30)
    # Held by the Vĩnh Yên branch when its time ran out (Mon 07/12 11:30).
    assert (line.agency_name, line.step_name) == (
        "Chi nhánh Văn phòng Đăng ký đất đai thành phố Vĩnh Yên",
        "Chi nhánh VPĐKĐĐ thẩm định",
    )
    # Mon 07/12 afternoon + 18 working days (08/12–31/12) = 37 sessions = 18.5 days to the end of December.
    assert line.days_over == Decimal("18.5")
    assert line.apology is None
