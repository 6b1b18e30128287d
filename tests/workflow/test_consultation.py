"""Parallel consultation: several agencies asked at once; the step moves on when its quorum has answered."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from motcua.dossiers import services as dossier_services
from motcua.org.models import Agency
from motcua.workflow import selectors, services
from motcua.workflow.models import StepRun
from tests.workflow.conftest import DONRE, LAND_OFFICE, MONDAY, at, counts, current, land_procedure, move, staff, step

pytestmark = pytest.mark.django_db
JUSTICE = "000.00.14.H62"
LABOUR = "000.00.13.H62"


def consultation(quorum: int = 0) -> dict:
    """1 (commune) + 2 (consultation) + 1 (leader) = 4 sessions = 2 days."""
    return {
        "name": "Lấy ý kiến",
        "steps": [
            step("tiep", "Thụ lý", 1, holder="receiving"),
            step(
                "y-kien",
                "Lấy ý kiến các sở",
                2,
                kind="consultation",
                agency=LAND_OFFICE,
                quorum=quorum,
                consult=[
                    {"holder": "fixed", "agency": JUSTICE, "role": "specialist"},
                    {"holder": "fixed", "agency": LABOUR, "role": "specialist", "budget_sessions": 1},
                ],
            ),
            step("duyet", "Phê duyệt", 1, agency=DONRE, role="leader"),
            step("tra", "Trả kết quả", kind="result", holder="receiving", role="clerk"),
            step("tu-choi", "Từ chối", kind="refusal", holder="receiving", role="clerk"),
        ],
        "transitions": [
            move("chuyen", "tiep", "y-kien"),
            move("xong", "y-kien", "duyet"),
            move("khong-dat", "y-kien", "tu-choi", "reject"),
            move("duyet", "duyet", "tra", "approve", role="leader"),
        ],
    }


@pytest.fixture
def consulting(org, clerk, commune):
    version = land_procedure(days="2", code="1.004229")
    version.agencies.add(*Agency.objects.filter(code__in=[JUSTICE, LABOUR]))

    def make(quorum: int = 0):
        services.replace_definition(version, None, consultation(quorum))
        dossier = dossier_services.receive_at_counter(
            clerk=clerk,
            procedure_code="1.004229",
            applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234"},
            form_data={"ho_ten": "A", "dien_tich": "5"},
            documents=[{"component": version.components.get().pk, "originals": 1}],
            now=MONDAY,
        )
        # 1 session after Monday 09:00 → Monday 17:00; forwarded at 14:00 the same day: on time.
        assert current(dossier).due_at == at(30, 17, month=11)
        moved = services.act(dossier, user=commune, action="chuyen", now=at(30, 14, month=11))
        assert moved.finished.timeliness == "on_time"
        return dossier, moved

    return make


def test_every_party_must_answer(consulting, office):
    dossier, moved = consulting()
    main, justice, labour = moved.opened
    assert (main.kind, main.agency.code) == ("consultation", LAND_OFFICE)
    # 2 sessions after Monday 14:00: Tue AM, Tue PM → Tue 01/12 17:00; the labour office has 1 → 11:30.
    assert [(o.kind, o.agency.code, o.parent_id, o.due_at) for o in (justice, labour)] == [
        ("opinion", JUSTICE, main.pk, at(1, 17)),
        ("opinion", LABOUR, main.pk, at(1, 11, 30)),
    ]
    justice_officer, labour_officer = staff("chuyenvien.0000014h62"), staff("chuyenvien.0000013h62")
    assert [r.pk for r in selectors.inbox(justice_officer, now=at(1, 8))] == [justice.pk]

    before = counts()
    with pytest.raises(services.WorkflowConflict) as waiting:
        services.act(dossier, user=office, action="xong", now=at(1, 9))
    assert "0" in str(waiting.value) and "2" in str(waiting.value)
    with pytest.raises(ValidationError):  # an opinion needs its text
        services.act(dossier, user=justice_officer, action="answer", now=at(1, 10))
    with pytest.raises(PermissionDenied):  # nobody asked the province office's specialist
        services.act(dossier, user=office, action="answer", comment="Đồng ý", now=at(1, 10))
    assert counts() == before

    answered = services.act(dossier, user=justice_officer, action="answer", comment="Đồng ý", now=at(1, 10))
    assert (answered.finished.pk, answered.finished.timeliness) == (justice.pk, "on_time")
    with pytest.raises(PermissionDenied):  # already given
        services.act(dossier, user=justice_officer, action="answer", comment="Lần hai", now=at(1, 11))
    with pytest.raises(services.WorkflowConflict):
        services.act(dossier, user=office, action="xong", now=at(1, 11))
    late = services.act(dossier, user=labour_officer, action="answer", comment="Không ý kiến", now=at(1, 14))
    assert late.finished.timeliness == "late"  # due Tuesday 11:30

    moved_on = services.act(dossier, user=office, action="xong", now=at(1, 15))
    assert moved_on.finished.timeliness == "on_time"
    # 1 session after Tuesday 15:00 → Wednesday 11:30.
    assert (moved_on.current.step_key, moved_on.current.due_at) == ("duyet", at(2, 11, 30))
    actions = [e.action for e in dossier.events.order_by("at", "pk")]
    assert actions.count("consultation_requested") == 1 and actions.count("consultation_answered") == 2


def test_a_quorum_lets_the_step_move_on_and_closes_the_rest(consulting, office):
    dossier, moved = consulting(quorum=1)
    services.act(dossier, user=staff("chuyenvien.0000013h62"), action="answer", comment="Đồng ý", now=at(1, 9))
    services.act(dossier, user=office, action="xong", now=at(1, 10))
    justice = StepRun.objects.get(pk=moved.opened[1].pk)
    assert (justice.action, justice.finished_at, justice.timeliness) == ("closed", at(1, 10), "")
    assert selectors.inbox(staff("chuyenvien.0000014h62"), now=at(1, 11)).count() == 0


def test_a_reject_does_not_wait_for_opinions(consulting, office):
    dossier, _moved = consulting()
    services.act(dossier, user=office, action="khong-dat", comment="Không thuộc thẩm quyền", now=at(1, 9))
    dossier.refresh_from_db()
    assert dossier.status == "result_ready"
    assert StepRun.objects.filter(dossier=dossier, kind="opinion", action="closed").count() == 2
