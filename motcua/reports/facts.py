"""What one dossier contributes to the report summaries, folded from its event log (pure, no Django).

The summaries are sums, per local day × agency × procedure version, of these contributions. Two
kinds of column:

* **flows** count what happened on a day (received online, resolved late, withdrawn …), booked
  on the local date of the event;
* **stocks** are kept as deltas: ``open_delta`` is +1 on the day a dossier becomes open (received)
  and −1 on the day it leaves (resolved, withdrawn, stopped); ``overdue_delta`` likewise for the
  days on which it is open *and* overdue. The stock at the end of day *d* is the sum of the
  deltas of every day up to *d*, so "carried over", "in progress" and "overdue" at any period
  boundary are sums too.

The state at the end of day *d* is the state after every event dated *d* or earlier, evaluated
at midnight: a running dossier is overdue when its due moment is before that midnight (the same
rule as ``dossiers.selectors.overdue_condition``); a dossier paused for a supplement is overdue
only if the pause began after its due moment. Becoming overdue needs no event: the fold books
the +1 on the due date in advance, and a later event (resolution, pause, new due date) takes it
back, because the whole contribution is recomputed from the log and only the difference is
applied (``services``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# Mirrors motcua.dossiers.lifecycle (a test checks they agree); kept here so this module stays pure.
OPEN = frozenset({"received", "in_process", "waiting_for_supplement", "waiting_for_payment"})
PAUSED = frozenset({"waiting_for_supplement"})

#: Counted on the day they happen.
FLOW_COLUMNS: tuple[str, ...] = (
    "received_online",
    "received_counter",
    "received_post",
    "received_online_capable",  # received dossiers of procedures that accept online submission
    "received_digitised",  # received with every handed-in document scanned
    "received_with_fee",  # received dossiers of procedures with a fee or charge above zero
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "resolved_digital",  # resolved with an electronic result file
    "withdrawn",  # withdrawn after receipt (the dossier was open)
    "withdrawn_unreceived",  # an online submission withdrawn before it was received
    "stopped",
    "refused",
    "guided",  # returned for completion at the counter (Mẫu 02 before receipt)
    "results_returned",
    "paid_online",  # no payment records exist yet: always 0 until the portal's payments land
    "ratings",  # no satisfaction ratings exist yet: always 0
    "ratings_satisfied",
)
#: Deltas whose running sum is a stock.
STOCK_COLUMNS: tuple[str, ...] = ("open_delta", "overdue_delta")
COLUMNS: tuple[str, ...] = FLOW_COLUMNS + STOCK_COLUMNS

RESOLVED_COLUMN = {"early": "resolved_early", "on_time": "resolved_on_time", "late": "resolved_late"}
RECEIVED_COLUMN = {"online": "received_online", "counter": "received_counter", "post": "received_post"}

Contribution = dict[date, dict[str, int]]


@dataclass(frozen=True)
class Event:
    """The part of a ``DossierEvent`` the fold reads."""

    action: str
    from_status: str
    to_status: str
    at: datetime
    data: Mapping[str, Any]
    seq: int = 0  # the event id: orders events recorded at the same moment


@dataclass(frozen=True)
class DossierFacts:
    """What the fold needs besides the events; ``due_at`` and ``timeliness`` are fallbacks for events
    that do not carry them (the dossier services put them in the event data)."""

    channel: str = "counter"
    online_capable: bool = False
    with_fee: bool = False
    digitised: bool = False
    result_digital: bool = False
    due_at: datetime | None = None
    timeliness: str = ""


def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("Event moments must be aware datetimes.")
    return moment.astimezone(VIETNAM_TZ).date()


def parse_moment(value: Any) -> datetime | None:
    """A moment from event data: JSON keeps datetimes as ISO text."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"The moment {value!r} has no time zone.")
    return moment


@dataclass
class _State:
    open: bool = False
    paused_at: datetime | None = None
    due: datetime | None = None


def _interval(out: Contribution, column: str, first: date, stop: date | None) -> None:
    """+1 on ``first`` and −1 on ``stop``: the stock includes the days first … stop − 1."""
    if stop is not None and stop <= first:
        return
    out[first][column] += 1
    if stop is not None:
        out[stop][column] -= 1


def _stock(out: Contribution, state: _State, first: date, stop: date | None) -> None:
    """Book the stocks of ``state`` held from the end of ``first`` until before the end of ``stop``."""
    if not state.open:
        return
    _interval(out, "open_delta", first, stop)
    if state.due is None:
        return
    if state.paused_at is not None:
        if state.due < state.paused_at:
            _interval(out, "overdue_delta", first, stop)
        return
    _interval(out, "overdue_delta", max(first, local_date(state.due)), stop)


def _flows(out: Contribution, event: Event, day: date, facts: DossierFacts) -> None:
    counts = out[day]
    action = event.action
    if action == "received":
        counts[RECEIVED_COLUMN.get(facts.channel, "received_counter")] += 1
        counts["received_online_capable"] += facts.online_capable
        counts["received_digitised"] += facts.digitised
        counts["received_with_fee"] += facts.with_fee
    elif action == "result_ready":
        verdict = str(event.data.get("timeliness") or facts.timeliness or "on_time")
        counts[RESOLVED_COLUMN.get(verdict, "resolved_on_time")] += 1
        counts["resolved_digital"] += facts.result_digital
    elif action == "withdrawn":
        counts["withdrawn" if event.from_status in OPEN else "withdrawn_unreceived"] += 1
    elif action == "stopped":
        counts["stopped"] += 1
    elif action == "refused":
        counts["refused"] += 1
    elif action == "returned_for_completion":
        counts["guided"] += 1
    elif action == "result_returned":
        counts["results_returned"] += 1


def _next_state(state: _State, event: Event, facts: DossierFacts) -> _State:
    now_open = event.to_status in OPEN
    if not now_open:
        return _State()
    due = state.due
    if not state.open:
        # Becoming open is a receipt: its due moment is in the event (fallback: the dossier's).
        due = parse_moment(event.data["due_at"]) if "due_at" in event.data else facts.due_at
    paused_at = state.paused_at
    if event.to_status in PAUSED:
        if paused_at is None:
            paused_at = event.at
    elif paused_at is not None:
        paused_at = None
        if "due_at" in event.data:
            due = parse_moment(event.data["due_at"])
    return _State(open=True, paused_at=paused_at, due=due)


def fold(events: Iterable[Event], facts: DossierFacts) -> Contribution:
    """The dossier's contribution: {local day: {column: count}}, zero entries dropped."""
    out: Contribution = defaultdict(lambda: defaultdict(int))
    state = _State()
    since: date | None = None
    for event in sorted(events, key=lambda e: (e.at, e.seq)):
        day = local_date(event.at)
        _flows(out, event, day, facts)
        following = _next_state(state, event, facts)
        if following != state:
            if since is not None:
                _stock(out, state, since, day)
            state, since = following, day
    if since is not None:
        _stock(out, state, since, None)
    return {day: clean for day, counts in out.items() if (clean := {c: n for c, n in counts.items() if n})}


def to_json(contribution: Contribution) -> dict[str, dict[str, int]]:
    return {day.isoformat(): dict(counts) for day, counts in sorted(contribution.items())}


def from_json(data: Mapping[str, Mapping[str, int]] | None) -> Contribution:
    return {date.fromisoformat(day): dict(counts) for day, counts in (data or {}).items()}


def difference(old: Contribution, new: Contribution) -> Contribution:
    """new − old, zero entries dropped: what to add to the summaries when a contribution changes."""
    out: Contribution = {}
    for day in old.keys() | new.keys():
        before, after = old.get(day, {}), new.get(day, {})
        delta = {c: after.get(c, 0) - before.get(c, 0) for c in before.keys() | after.keys()}
        delta = {c: n for c, n in delta.items() if n}
        if delta:
            out[day] = delta
    return out


def negate(contribution: Contribution) -> Contribution:
    return {day: {c: -n for c, n in counts.items()} for day, counts in contribution.items()}


def stock_at(contribution: Contribution, column: str, day: date) -> int:
    """The stock ``column`` (a delta column) at the end of ``day``."""
    return sum(counts.get(column, 0) for d, counts in contribution.items() if d <= day)
