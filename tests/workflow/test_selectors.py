"""Inboxes (what, in which order, filters), visibility of routed dossiers, the sheet and the buttons."""

import pytest

from motcua.dossiers.selectors import dossiers_visible_to
from motcua.workflow import selectors, services
from motcua.workflow.models import StepRun
from tests.workflow.conftest import BINHXUYEN_BRANCH, LIENBAO, at, staff, three_levels
from tests.workflow.test_assignment import colleague

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(workflow, receive):
    """Received Mon 09:00, Mon 14:00 and Tue 09:00: commune steps due Tue 11:30, Tue 17:00 and Wed 11:30."""
    return [receive(now=at(30, 9, month=11)), receive(now=at(30, 14, month=11)), receive(now=at(1, 9))]


def codes(rows) -> list[str]:
    return [row.dossier.code for row in rows]


def test_the_queue_in_order_of_urgency(three, commune, clerk, branch):
    d1, d2, d3 = three
    rows = list(selectors.inbox(commune, now=at(1, 10)))
    assert codes(rows) == [d1.code, d2.code, d3.code]
    assert [r.due_at for r in rows] == [at(1, 11, 30), at(1, 17), at(2, 11, 30)]
    for outsider in (clerk, branch, staff("chuyenvien.tichson"), staff("quantri.vinhyen")):
        assert selectors.inbox(outsider, now=at(1, 10)).count() == 0


def test_filters(three, commune):
    d1, d2, d3 = three
    assert codes(selectors.inbox(commune, "overdue", now=at(1, 12))) == [d1.code]
    # Due soon: within 2 sessions after Tue 12:00 (Tue PM, Wed AM → Wed 11:30), not overdue.
    assert codes(selectors.inbox(commune, "due_soon", now=at(1, 12))) == [d2.code, d3.code]
    # At Monday 15:00 the limit is Tue 17:00 (Tue AM, Tue PM): d1 and d2.
    assert codes(selectors.inbox(commune, "due_soon", now=at(30, 15, month=11))) == [d1.code, d2.code]
    assert selectors.inbox(commune, "soonish", now=at(1, 12)).count() == 0
    limit = selectors.due_soon_threshold(commune, at(1, 12))
    rows = list(selectors.inbox(commune, now=at(1, 12)))
    assert [selectors.urgency(r, limit, at(1, 12)) for r in rows] == ["overdue", "due_soon", "due_soon"]


def test_claimed_work_leaves_the_colleagues_queue(three, commune):
    other = colleague(LIENBAO, "dong-nghiep")
    services.claim(three[0], user=commune, now=at(1, 8))
    assert codes(selectors.inbox(other, now=at(1, 9))) == [three[1].code, three[2].code]
    assert codes(selectors.inbox(commune, now=at(1, 9))) == [d.code for d in three]


def test_paused_rows_stay_and_are_not_overdue(three, commune, branch, clerk):
    d1 = three[0]
    services.act(d1, user=commune, action="len-huyen", now=at(30, 15, month=11))
    services.act(d1, user=branch, action="bo-sung", comment="Thiếu giấy tờ", now=at(1, 9))
    rows = list(selectors.inbox(branch, now=at(10, 9)))
    assert codes(rows) == [d1.code]
    assert selectors.urgency(rows[0], None, at(10, 9)) == "paused"
    assert selectors.inbox(branch, "overdue", now=at(10, 9)).count() == 0
    actions = [a.key for a in selectors.available_actions(branch, rows[0].dossier)]
    assert actions == ["supplement_received"]
    assert [a.key for a in selectors.available_actions(clerk, rows[0].dossier)] == ["supplement_received"]


def test_buttons_follow_roles_and_conditions(three, commune, branch, leader):
    d1 = three[0]
    assert [(a.key, a.kind) for a in selectors.available_actions(commune, d1)] == [
        ("claim", "claim"),
        ("len-huyen", "transfer"),
    ]
    services.act(d1, user=commune, action="len-huyen", now=at(30, 15, month=11))
    # At the branch: the shortcut's condition is false; the reject is for leaders.
    assert [a.key for a in selectors.available_actions(branch, d1)] == ["claim", "trinh-tinh", "tra-xa", "bo-sung"]
    assert selectors.available_actions(leader, d1) == []
    assert selectors.available_actions(commune, d1) == []


@pytest.mark.usefixtures("paper_signatures")  # not about signing: see test_result_signing.py
def test_results_wait_at_the_counter(workflow, receive, commune, branch, office, leader, clerk):
    from tests.workflow.conftest import PDF

    dossier = receive()
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    services.act(dossier, user=branch, action="trinh-tinh", now=at(1, 9))
    services.act(dossier, user=office, action="trinh-ld", attachments=[{"content": PDF}], now=at(1, 10))
    services.act(dossier, user=leader, action="duyet", now=at(1, 14))
    rows = list(selectors.inbox(clerk, now=at(1, 15)))
    assert [(r.dossier.code, r.kind) for r in rows] == [(dossier.code, "result")]
    assert selectors.urgency(rows[0], None, at(1, 15)) == "no_deadline"
    assert [a.key for a in selectors.available_actions(clerk, dossier)] == ["claim", "hand_over"]
    services.act(dossier, user=clerk, action="hand_over", now=at(1, 16))
    assert selectors.inbox(clerk, now=at(1, 17)).count() == 0


def test_routed_dossiers_become_visible(land, receive, commune):
    data = three_levels()
    data["steps"][1].update(holder="fixed", agency=BINHXUYEN_BRANCH, level="")
    services.replace_definition(land, None, data)
    dossier = receive()
    outsider = staff("chuyenvien.0020112h62")  # Bình Xuyên's land branch: another district
    assert not dossiers_visible_to(outsider).filter(pk=dossier.pk).exists()
    assert not selectors.dossiers_visible(outsider).filter(pk=dossier.pk).exists()
    assert selectors.get_dossier(outsider, dossier.code) is None
    assert selectors.steps_of(outsider, dossier).count() == 0

    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    assert selectors.dossiers_visible(outsider).filter(pk=dossier.pk).exists()
    assert selectors.get_dossier(outsider, dossier.code.lower()) == dossier
    assert [r.step_key for r in selectors.steps_of(outsider, dossier)] == ["xa", "chi-nhanh"]
    assert [r.dossier for r in selectors.inbox(outsider, now=at(1, 9))] == [dossier]
    # Still invisible to staff with no part in it.
    for stranger in (staff("motcua.tamhop"), staff("chuyenvien.tichson"), staff("motcua.huongcanh")):
        assert not selectors.dossiers_visible(stranger).filter(pk=dossier.pk).exists()


def test_sheet_timeliness_of_open_and_finished_rows(workflow, receive, commune):
    dossier = receive()
    services.act(dossier, user=commune, action="len-huyen", now=at(30, 15, month=11))
    rows = list(selectors.steps_of(commune, dossier))
    assert [selectors.step_timeliness(r, at(1, 9)) for r in rows] == ["early", "within_time"]
    assert [selectors.step_timeliness(r, at(3, 9)) for r in rows] == ["early", "overdue"]  # branch due Wed 17:00
    assert StepRun.objects.filter(dossier=dossier).count() == 2
