"""The pure modules: the fold of one dossier's log, periods, formulas, charts (no database)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.dossiers import lifecycle
from motcua.reports import charts, facts, periods
from motcua.reports.facts import DossierFacts, Event
from motcua.reports.figures import Figures, percent, rate

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=VN)


def ev(action: str, from_status: str, to_status: str, moment: datetime, seq: int, **data) -> Event:
    return Event(action, from_status, to_status, moment, data, seq)


def stock(contribution, column: str, day: date) -> int:
    return facts.stock_at(contribution, column, day)


def test_status_sets_mirror_the_lifecycle():
    assert {str(s) for s in lifecycle.OPEN} == facts.OPEN
    assert {str(s) for s in lifecycle.PAUSED} == facts.PAUSED


def test_a_dossier_resolved_late_is_overdue_from_its_due_day_until_it_is_resolved():
    events = [
        ev("received", "", "received", at(16, 9), 1, due_at=at(17, 11).isoformat()),
        ev("processing_started", "received", "in_process", at(16, 10), 2),
        ev("result_ready", "in_process", "result_ready", at(20, 9), 3, timeliness="late"),
    ]
    out = facts.fold(events, DossierFacts())
    assert out[date(2026, 11, 16)] == {"received_counter": 1, "open_delta": 1}
    assert out[date(2026, 11, 17)] == {"overdue_delta": 1}
    assert out[date(2026, 11, 20)] == {"resolved_late": 1, "open_delta": -1, "overdue_delta": -1}
    assert [stock(out, "overdue_delta", date(2026, 11, d)) for d in (16, 17, 19, 20)] == [0, 1, 1, 0]


def test_resolved_on_the_due_day_after_the_due_time_is_never_overdue_at_a_day_end():
    events = [
        ev("received", "", "received", at(16, 9), 1, due_at=at(17, 11).isoformat()),
        ev("result_ready", "received", "result_ready", at(17, 14), 2, timeliness="late"),
    ]
    out = facts.fold(events, DossierFacts())
    assert stock(out, "overdue_delta", date(2026, 11, 17)) == 0
    assert out[date(2026, 11, 17)] == {"resolved_late": 1, "open_delta": -1}


def test_a_pause_before_the_due_moment_keeps_it_within_time_and_the_new_due_date_counts():
    events = [
        ev("received", "", "received", at(16, 9), 1, due_at=at(18, 11).isoformat()),
        ev("supplement_requested", "received", "waiting_for_supplement", at(17, 9), 2),
        ev("supplement_received", "waiting_for_supplement", "in_process", at(23, 9), 3, due_at=at(24, 11).isoformat()),
    ]
    out = facts.fold(events, DossierFacts())
    assert [stock(out, "overdue_delta", date(2026, 11, d)) for d in (18, 20, 23, 24, 30)] == [0, 0, 0, 1, 1]
    assert stock(out, "open_delta", date(2026, 11, 30)) == 1


def test_a_pause_after_the_due_moment_stays_overdue():
    events = [
        ev("received", "", "received", at(16, 9), 1, due_at=at(17, 11).isoformat()),
        ev("supplement_requested", "received", "waiting_for_supplement", at(18, 9), 2),
    ]
    out = facts.fold(events, DossierFacts())
    assert [stock(out, "overdue_delta", date(2026, 11, d)) for d in (17, 18, 25)] == [1, 1, 1]


def test_withdrawal_before_receipt_is_not_a_withdrawn_dossier():
    events = [
        ev("submitted_online", "draft", "submitted_online", at(16, 9), 1),
        ev("withdrawn", "submitted_online", "withdrawn", at(16, 10), 2),
    ]
    assert facts.fold(events, DossierFacts(channel="online")) == {date(2026, 11, 16): {"withdrawn_unreceived": 1}}


def test_immediate_procedures_are_never_overdue_and_facts_fill_the_gaps():
    events = [
        ev("received", "", "received", at(16, 9), 1),
        ev("result_ready", "received", "result_ready", at(30, 9), 2),
    ]
    out = facts.fold(events, DossierFacts(channel="post", digitised=True, with_fee=True, timeliness="early"))
    assert all("overdue_delta" not in counts for counts in out.values())
    assert out[date(2026, 11, 16)]["received_post"] == 1
    assert out[date(2026, 11, 16)]["received_digitised"] == 1 and out[date(2026, 11, 16)]["received_with_fee"] == 1
    assert out[date(2026, 11, 30)]["resolved_early"] == 1


ACTIONS = {
    "received": ("received", None),
    "start": ("processing_started", "in_process"),
    "pause": ("supplement_requested", "waiting_for_supplement"),
    "resume": ("supplement_received", "in_process"),
    "resolve": ("result_ready", "result_ready"),
    "withdraw": ("withdrawn", "withdrawn"),
}


@st.composite
def histories(draw):
    """A legal random life of a dossier: receipt, then moves allowed by the lifecycle, at random moments."""
    start = datetime(2026, 1, 5, 9, tzinfo=VN) + timedelta(hours=draw(st.integers(0, 24 * 200)))
    moment = start
    status = "received"
    events = [
        ev(
            "received",
            "",
            "received",
            start,
            1,
            due_at=(start + timedelta(hours=draw(st.integers(-5, 400)))).isoformat(),
        )
    ]
    for seq in range(2, draw(st.integers(1, 7)) + 2):
        options = [name for name, (_a, to) in ACTIONS.items() if to and lifecycle.can_transition(status, to)]
        if not options:
            break
        name = draw(st.sampled_from(sorted(options)))
        action, to = ACTIONS[name]
        moment = moment + timedelta(hours=draw(st.integers(0, 300)))
        data = {}
        if name == "resume":
            data["due_at"] = (moment + timedelta(hours=draw(st.integers(-5, 200)))).isoformat()
        if name == "resolve":
            data["timeliness"] = draw(st.sampled_from(["early", "on_time", "late"]))
        events.append(ev(action, status, to, moment, seq, **data))
        status = to
    return events


@settings(max_examples=300, deadline=None)
@given(histories())
def test_booking_event_by_event_adds_up_to_the_fold_of_the_whole_log(events):
    """What the signal does (apply fold(log so far) − booked, one event at a time) sums to what the
    rebuild books (the fold of the whole log): the two paths cannot disagree."""
    booked: dict = {}
    totals: dict = {}
    for k in range(1, len(events) + 1):
        new = facts.fold(events[:k], DossierFacts())
        for day, counts in facts.difference(booked, new).items():
            for column, n in counts.items():
                totals.setdefault(day, {}).setdefault(column, 0)
                totals[day][column] += n
        booked = new
    clean = {d: {c: n for c, n in cs.items() if n} for d, cs in totals.items()}
    assert {d: cs for d, cs in clean.items() if cs} == facts.fold(events, DossierFacts())
    whole = facts.fold(events, DossierFacts())
    # Stocks never go negative and end at 0 once the dossier is closed.
    last = max(whole) if whole else date(2026, 1, 1)
    for offset in range(0, (last - events[0].at.date()).days + 2):
        day = events[0].at.date() + timedelta(days=offset)
        open_now, overdue_now = stock(whole, "open_delta", day), stock(whole, "overdue_delta", day)
        assert 0 <= overdue_now <= open_now <= 1
    closed = events[-1].to_status not in facts.OPEN
    assert stock(whole, "open_delta", last) == (0 if closed else 1)


def test_periods():
    november = periods.Period("month", 2026, 11)
    assert (november.start, november.end, november.last_day) == (
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2026, 11, 30),
    )
    fifteenth = periods.Period("month", 2026, 11, first_day=15)
    assert (fifteenth.start, fifteenth.last_day) == (date(2026, 10, 15), date(2026, 11, 14))
    assert periods.Period("quarter", 2026, 4).start == date(2026, 10, 1)
    assert periods.Period("nine", 2026).end == date(2026, 10, 1)
    assert periods.Period("year", 2026, first_day=15).start == date(2025, 12, 15)
    assert periods.parse_key("half-2026-1").end == date(2026, 7, 1)
    assert periods.containing(date(2026, 11, 20), 15).key() == "month-2026-12"
    assert [p.key() for p in periods.trailing_months(november, 3)] == ["month-2026-9", "month-2026-10", "month-2026-11"]
    assert periods.whole_months(date(2026, 10, 15), date(2026, 12, 15)) == (
        [date(2026, 11, 1)],
        [(date(2026, 10, 15), date(2026, 11, 1)), (date(2026, 12, 1), date(2026, 12, 15))],
    )
    for bad in ("month-2026-13", "week-2026-1", "quarter-2026-5", "nonsense", "month-1999-1"):
        try:
            periods.parse_key(bad)
        except periods.PeriodError:
            continue
        raise AssertionError(bad)


def test_formulas_and_empty_denominators():
    figures = Figures(
        flows={**Figures().flows, "resolved_early": 3, "resolved_on_time": 4, "resolved_late": 1}, overdue=2
    )
    assert str(rate(figures, "on_time").value) == "87.50"
    assert str(rate(figures, "on_time", "resolved_and_overdue").value) == "70.00"
    assert rate(figures, "on_time", "no-such-variant").variant.key == "resolved"
    assert percent(0, 0) is None and str(percent(1, 3)) == "33.33"


def test_chart_is_an_svg_with_gaps_for_missing_values():
    svg = charts.line_chart(
        ["09/26", "10/26", "11/26"], [("Tỷ lệ", [50, None, 75])], title="Tỷ lệ <đúng hạn>", percent=True
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Tỷ lệ &lt;đúng hạn&gt;" in svg and svg.count("<circle") == 2


@settings(max_examples=300, deadline=None)
@given(histories(), st.data())
def test_folding_one_event_at_a_time_from_the_stored_position_equals_the_whole_fold(events, data):
    """What ``services.book_dossier`` does on the usual path: keep the position (through its JSON
    form, as the booking stores it), fold each new event alone and add its delta; payments are
    mixed in. The sum equals the fold of the whole log, and so does the position reached."""
    moment = events[-1].at
    for seq in range(len(events) + 1, len(events) + 1 + data.draw(st.integers(0, 2))):
        moment += timedelta(hours=data.draw(st.integers(0, 50)))
        paid = data.draw(st.sampled_from([{"txn_ref": "GW1"}, {"channel": "counter"}, {}]))
        events.append(ev("fee_paid", events[-1].to_status, events[-1].to_status, moment, seq, **paid))
    facts_ = DossierFacts(rating_score=data.draw(st.integers(1, 5)), rating_at=at(20, 9))
    contribution, position = {}, facts.Fold(facts_)
    for event in events:
        assert position.follows(event)
        delta, position = position.step(event)
        contribution = facts.add(contribution, delta)
        position = facts.Fold.from_json(position.to_json())
    whole, reached = facts.fold_all(events, facts_)
    rating = {at(20, 9).date(): {"ratings": 1, "rating_score_sum": facts_.rating_score}}
    if facts_.rating_score >= 4:
        rating[at(20, 9).date()]["ratings_satisfied"] = 1
    assert facts.add(contribution, rating) == whole
    assert reached == position
    # An event dated before the last one folded is not folded alone (the service refolds the log).
    assert not position.follows(ev("withdrawn", "received", "withdrawn", events[0].at - timedelta(hours=1), 99))


def test_payments_count_by_channel():
    events = [
        ev("received", "", "received", at(16, 9), 1),
        ev("fee_requested", "in_process", "waiting_for_payment", at(16, 10), 2),
        ev("fee_paid", "waiting_for_payment", "in_process", at(16, 11), 3, txn_ref="GW1"),
        ev("fee_paid", "waiting_for_payment", "in_process", at(17, 11), 4, channel="counter", txn_ref="X"),
        ev("fee_paid", "waiting_for_payment", "in_process", at(17, 12), 5),
        ev("fee_paid", "waiting_for_payment", "in_process", at(17, 13), 6, channel="online"),
    ]
    out = facts.fold(events, DossierFacts(rating_score=3, rating_at=at(18, 9)))
    assert out[date(2026, 11, 16)]["fees_paid"] == 1 and out[date(2026, 11, 16)]["paid_online"] == 1
    assert out[date(2026, 11, 17)]["fees_paid"] == 3 and out[date(2026, 11, 17)]["paid_online"] == 1
    assert out[date(2026, 11, 18)] == {"ratings": 1, "rating_score_sum": 3}  # 3 is below "satisfied"
