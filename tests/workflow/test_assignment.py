"""Who gets the work: queues and claims, round robin and least loaded (skipping absent staff), reassignment."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from motcua.dossiers.models import DossierEvent
from motcua.org.models import Agency, Role, User, UserRole
from motcua.workflow import services
from motcua.workflow.models import StepRun, Workflow
from tests.workflow.conftest import LIENBAO, MONDAY, VINHYEN_BRANCH, at, counts, current, staff, three_levels

pytestmark = pytest.mark.django_db


def colleague(agency_code: str, name: str, *, absent: bool = False, role: str = Role.SPECIALIST) -> User:
    agency = Agency.objects.select_related("unit").get(code=agency_code)
    user = User.objects.create_user(
        f"{name}@vinhphuc.gov.vn", "x", full_name=name.title(), unit=agency.unit, agency=agency, is_absent=absent
    )
    UserRole.objects.create(user=user, role=role)
    return user


def with_assignment(land, kind: str) -> Workflow:
    data = three_levels()
    data["steps"][1]["assignment"] = kind
    return services.replace_definition(land, None, data)


def to_branch(receive, commune, minute: int):
    """A dossier received Monday and moved to the branch at 10:<minute>; its branch step."""
    dossier = receive()
    return services.act(dossier, user=commune, action="len-huyen", now=at(30, 10, minute, month=11)).current


def test_queue_steps_are_claimed_once(workflow, receive, commune):
    other = colleague(LIENBAO, "chuyenvien2")
    dossier = receive()
    step = current(dossier)
    assert step.assignee is None
    services.act(dossier, user=commune, action="claim", now=at(30, 10, month=11))
    step.refresh_from_db()
    assert (step.assignee, step.assigned_at) == (commune, at(30, 10, month=11))
    before = counts()
    services.claim(dossier, user=commune, now=at(30, 11, month=11))  # claiming again changes nothing
    with pytest.raises(services.WorkflowConflict) as taken:
        services.claim(dossier, user=other, now=at(30, 11, month=11))
    assert commune.full_name in str(taken.value)
    with pytest.raises(PermissionDenied) as not_yours:
        services.act(dossier, user=other, action="len-huyen", now=at(30, 11, month=11))
    assert commune.full_name in str(not_yours.value)
    with pytest.raises(PermissionDenied):
        services.claim(dossier, user=staff("chuyenvien.tichson"), now=at(30, 11, month=11))
    assert counts() == before
    assert DossierEvent.objects.filter(dossier=dossier, action="step_claimed").count() == 1


def test_round_robin_skips_absent_staff(land, receive, commune, branch):
    with_assignment(land, "round_robin")
    absent = colleague(VINHYEN_BRANCH, "vang", absent=True)
    third = colleague(VINHYEN_BRANCH, "thu-ba")
    assignees = [to_branch(receive, commune, minute).assignee for minute in range(5)]
    # Never assigned first (by account order), then the least recently assigned; the absent one never.
    assert assignees == [branch, third, branch, third, branch]
    assert absent not in assignees
    first = StepRun.objects.filter(step_key="chi-nhanh").order_by("pk").first()
    assert first.assigned_at == at(30, 10, 0, month=11)


def test_everyone_absent_falls_back_to_the_queue(land, receive, commune, branch):
    with_assignment(land, "round_robin")
    User.objects.filter(pk=branch.pk).update(is_absent=True)
    assert to_branch(receive, commune, 0).assignee is None


def test_least_loaded_takes_open_work_into_account(land, receive, commune, branch):
    with_assignment(land, "least_loaded")
    second = colleague(VINHYEN_BRANCH, "nhan-vien-hai")
    colleague(VINHYEN_BRANCH, "nghi-phep", absent=True)
    steps = [to_branch(receive, commune, minute) for minute in range(3)]
    # branch 0 open → branch; then second (0) → second; then both have 1: the least recently assigned.
    assert [s.assignee for s in steps] == [branch, second, branch]
    # The branch finishes one: it now has 1 open step, the second has 1 → least recently assigned (second).
    services.act(steps[0].dossier, user=branch, action="trinh-tinh", now=at(30, 14, month=11))
    assert to_branch(receive, commune, 30).assignee == second
    # Now branch 1, second 2 → branch.
    assert to_branch(receive, commune, 40).assignee == branch


def test_reassignment_by_the_unit_administrator(workflow, receive, commune, branch):
    replacement = colleague(VINHYEN_BRANCH, "thay-the")
    absent = colleague(VINHYEN_BRANCH, "dang-nghi", absent=True)
    step = to_branch(receive, commune, 0)
    services.claim(step.dossier, user=branch, now=at(30, 11, month=11))
    before = counts()
    for outsider in (staff("quantri.tamhop"), staff("lanhdao.tinh"), branch):
        with pytest.raises(PermissionDenied):
            services.reassign(step, to_user=replacement, by=outsider, now=at(30, 14, month=11))
    admin = staff("quantri.vinhyen")
    for wrong in (commune, absent):
        with pytest.raises(ValidationError):
            services.reassign(step, to_user=wrong, by=admin, now=at(30, 14, month=11))
    assert counts() == before
    step.refresh_from_db()
    assert step.assignee == branch

    services.reassign(step, to_user=replacement, by=admin, reason="Nghỉ phép", now=at(30, 14, month=11))
    step.refresh_from_db()
    assert (step.assignee, step.assigned_at) == (replacement, at(30, 14, month=11))
    event = DossierEvent.objects.get(dossier=step.dossier, action="step_reassigned")
    assert event.data == {"step": "chi-nhanh", "from": branch.pk, "to": replacement.pk, "reason": "Nghỉ phép"}
    assert event.actor == admin and event.actor_role == Role.UNIT_ADMIN
    with pytest.raises(PermissionDenied):
        services.act(step.dossier, user=branch, action="trinh-tinh", now=at(30, 15, month=11))
    services.act(step.dossier, user=replacement, action="trinh-tinh", now=at(30, 15, month=11))
    with pytest.raises(services.WorkflowConflict):
        services.reassign(step, to_user=branch, by=admin, now=at(30, 16, month=11))


def test_back_to_the_queue(workflow, receive, commune, branch):
    step = to_branch(receive, commune, 0)
    services.claim(step.dossier, user=branch, now=MONDAY.replace(hour=11))
    services.reassign(step, to_user=None, by=staff("admin"), now=MONDAY.replace(hour=12))
    step.refresh_from_db()
    assert step.assignee is None and step.assigned_at is None
