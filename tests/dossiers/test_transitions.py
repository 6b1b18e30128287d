"""Status changes after receipt: pauses, clock end, verdicts, one event each, illegal moves save nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from motcua.dossiers import services
from motcua.dossiers.lifecycle import IllegalTransition, Status
from motcua.dossiers.models import DossierEvent, DossierPause
from tests.dossiers.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(receive):
    """Received Monday 30/11 09:00 with 1 working day: due Tuesday 01/12 11:30."""
    return receive()


def events(dossier) -> list[str]:
    return list(DossierEvent.objects.filter(dossier=dossier).order_by("at", "pk").values_list("action", flat=True))


def test_supplement_pauses_and_resume_moves_the_due_moment(dossier, clerk):
    services.start_processing(dossier, actor=clerk, now=at(30, 10))
    # Paused Monday 15:00: the sessions left are Tuesday morning (1 session).
    paused = services.request_supplement(dossier, actor=clerk, reason="Bổ sung giấy chứng sinh", now=at(30, 15))
    assert paused.status == Status.WAITING_FOR_SUPPLEMENT
    assert paused.due_at == at(1, 11, 30, month=12)  # kept while paused
    assert paused.paused_at == at(30, 15)
    pause = DossierPause.objects.get(dossier=dossier)
    assert pause.ended_at is None and pause.reason == "Bổ sung giấy chứng sinh"
    # Long after the original due moment, but paused: not overdue.
    assert not dossier.is_overdue

    # Resumed Thursday 09:00: one session counted from the next one → Thursday 17:00.
    resumed = services.supplement_received(dossier, actor=clerk, now=at(3, 9, month=12))
    assert resumed.status == Status.IN_PROCESS
    assert resumed.due_at == at(3, 17, month=12)
    assert resumed.paused_at is None
    pause.refresh_from_db()
    assert pause.ended_at == at(3, 9, month=12)
    assert dossier.due_at == resumed.due_at  # the caller's object is refreshed
    assert events(dossier) == ["received", "processing_started", "supplement_requested", "supplement_received"]
    last = DossierEvent.objects.filter(dossier=dossier).last()
    assert (last.from_status, last.to_status) == ("waiting_for_supplement", "in_process")


@pytest.mark.parametrize("service", [services.withdraw, services.stop])
def test_withdrawal_and_stop_end_the_clock(dossier, clerk, service):
    services.start_processing(dossier, actor=clerk, now=at(30, 10))
    services.request_supplement(dossier, actor=clerk, reason="Thiếu", now=at(30, 11))
    with pytest.raises(ValidationError):
        service(dossier, actor=clerk, reason="", now=at(30, 12))
    ended = service(dossier, actor=clerk, reason="Theo đề nghị", now=at(30, 14))
    assert ended.finished_at == at(30, 14)
    assert ended.timeliness == "" and not ended.is_open and not ended.is_overdue
    assert DossierPause.objects.get(dossier=dossier).ended_at == at(30, 14)
    assert DossierEvent.objects.filter(dossier=dossier).count() == 4


@pytest.mark.parametrize(
    ("finished", "verdict"),
    [(at(30, 16), "early"), (at(1, 11, 30, month=12), "on_time"), (at(1, 13, 31, month=12), "late")],
)
def test_result_ready_stores_the_verdict(dossier, clerk, finished, verdict):
    services.start_processing(dossier, actor=clerk, now=at(30, 10))
    done = services.mark_result_ready(dossier, actor=clerk, now=finished)
    assert (done.status, done.finished_at, done.timeliness) == (Status.RESULT_READY, finished, verdict)
    returned = services.return_result(dossier, actor=clerk, now=at(4, 9, month=12))
    assert returned.returned_at == at(4, 9, month=12) and returned.timeliness == verdict
    assert DossierEvent.objects.filter(dossier=dossier, action="result_ready").get().data == {"timeliness": verdict}


@pytest.mark.parametrize(
    "move",
    [
        lambda d, u: services.request_supplement(d, actor=u, reason="x"),  # not yet in process
        lambda d, u: services.supplement_received(d, actor=u),
        lambda d, u: services.mark_result_ready(d, actor=u),
        lambda d, u: services.return_result(d, actor=u),
    ],
)
def test_illegal_transitions_save_nothing(dossier, clerk, move):
    before = (dossier.status, DossierEvent.objects.count(), DossierPause.objects.count())
    with pytest.raises(IllegalTransition):
        move(dossier, clerk)
    dossier.refresh_from_db()
    assert (dossier.status, DossierEvent.objects.count(), DossierPause.objects.count()) == before


def test_a_final_dossier_cannot_move_again(dossier, clerk):
    services.withdraw(dossier, actor=clerk, reason="Rút")
    with pytest.raises(IllegalTransition, match=r"withdrawn|Đã rút"):
        services.start_processing(dossier, actor=clerk)


def test_a_failing_service_leaves_no_event_and_no_change(dossier, clerk, monkeypatch):
    real = services._record

    def record_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("boom")

    services.start_processing(dossier, actor=clerk, now=at(30, 10))
    monkeypatch.setattr(services, "_record", record_then_fail)
    with pytest.raises(RuntimeError):
        services.request_supplement(dossier, actor=clerk, reason="Thiếu", now=at(30, 11))
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS and dossier.paused_at is None
    assert not DossierPause.objects.exists()
    assert events(dossier) == ["received", "processing_started"]


def test_staff_outside_the_scope_cannot_change_a_dossier(dossier, clerk_tamhop):
    with pytest.raises(PermissionDenied):
        services.start_processing(dossier, actor=clerk_tamhop)
    assert events(dossier) == ["received"]
