"""The daily digest to unit leaders (motcua.reports.tasks, job ``daily_digest``), on the real
three-level workflow run of test_steps: one dossier resolved Mon 07/12, one overdue since 07/12 11:30."""

from datetime import date

import pytest

from motcua import schedule
from motcua.integrations.models import JobRun
from motcua.reports import tasks
from tests.reports.test_steps import run  # noqa: F401  (the shared workflow fixture)
from tests.workflow.conftest import at

pytestmark = pytest.mark.django_db


def digest(day: date, slot):
    """The job as the worker runs it: through the slot guard, its outcome recorded."""
    return schedule.run_job("daily_digest", lambda: tasks.send_daily_digest(day), slot=slot, manual=True)


def by_recipient(mails) -> dict[str, object]:
    assert all(len(m.to) == 1 for m in mails)
    return {m.to[0]: m for m in mails}


def test_one_mail_per_leader_with_the_scope_figures_and_overdue_list(run, mailoutbox):  # noqa: F811
    _done, stuck = run
    message = digest(date(2026, 12, 8), at(8, 7))
    mails = by_recipient(mailoutbox)
    assert len(mails) == len(mailoutbox)  # one mail per leader
    lienbao = mails["lanhdao.lienbao@vinhphuc.gov.vn"]
    assert lienbao.subject == "Bản tin hằng ngày của Phường Liên Bảo, ngày 08/12/2026"
    body = lienbao.body
    assert "Số liệu từ ngày 07/12/2026" in body
    assert "Tiếp nhận: 0" in body and "Đã giải quyết: 1" in body and "Đang giải quyết, quá hạn: 1" in body
    assert f"- {stuck.code}, Đăng ký biến động đất đai" in body and "hạn 07/12/2026 11:30" in body
    # A commune with no late dossier: zeros and no list.
    tichson = mails["lanhdao.tichson@vinhphuc.gov.vn"].body
    assert "Đang giải quyết, quá hạn: 0" in tichson and "Không có hồ sơ quá hạn" in tichson
    assert stuck.code not in tichson
    assert message.startswith("2026-12-08: sent units [") and "already sent 0" in message


def test_idempotent_per_day_and_unit(run, mailoutbox):  # noqa: F811
    digest(date(2026, 12, 8), at(8, 7))
    first = len(mailoutbox)
    assert first > 0
    # A second scheduler's copy of the same slot is skipped by the guard; a manual re-run the same
    # day (its own slot) finds every unit served and sends nothing.
    again = digest(date(2026, 12, 8), at(8, 9))
    assert len(mailoutbox) == first
    assert "sent units []" in again
    assert JobRun.objects.filter(job__name="daily_digest").count() == 2


def test_no_digest_on_a_day_off_and_monday_covers_since_friday(run, mailoutbox):  # noqa: F811
    assert "sent units []" in digest(date(2026, 12, 12), at(12, 7))  # Saturday
    assert mailoutbox == []
    digest(date(2026, 12, 14), at(14, 7))  # Monday: since the previous working day, Friday 11/12
    body = by_recipient(mailoutbox)["lanhdao.lienbao@vinhphuc.gov.vn"].body
    assert "Số liệu từ ngày 11/12/2026" in body and "Đã giải quyết: 0" in body


def test_a_failing_unit_does_not_stop_the_others_and_is_retried(run, mailoutbox, monkeypatch):  # noqa: F811
    real = tasks.send_mail

    def flaky(subject, body, sender, to):
        if to == ["lanhdao.lienbao@vinhphuc.gov.vn"]:
            raise ConnectionError("SMTP down")
        return real(subject, body, sender, to)

    monkeypatch.setattr(tasks, "send_mail", flaky)
    message = digest(date(2026, 12, 8), at(8, 7))
    assert "failed units" in message and "SMTP down" in message
    sent = {m.to[0] for m in mailoutbox}
    assert "lanhdao.lienbao@vinhphuc.gov.vn" not in sent and "lanhdao.tichson@vinhphuc.gov.vn" in sent
    monkeypatch.setattr(tasks, "send_mail", real)
    digest(date(2026, 12, 8), at(8, 8))
    assert [m.to[0] for m in mailoutbox[len(sent) :]] == ["lanhdao.lienbao@vinhphuc.gov.vn"]
