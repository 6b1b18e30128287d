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

The fold is also a *step* function (``Fold.step``): its state after some events (the dossier's
open/paused/due state, the day that state began, the last event folded and the facts it used)
is kept with the booking, so a new event that comes after every folded one, with unchanged facts,
is folded alone: the delta of one step is its flows plus the open-ended stock of the old state
taken back and that of the new state added. Folding the whole log is the same steps from an
empty state, so the two paths cannot disagree (a test checks it on random histories).

Two facts do not come from dossier events: fee payments are events (``fee_paid``: online when the
event carries a gateway transaction, unless it names its channel), and a citizen's satisfaction
rating (``portal.Rating``) is a fact of the dossier booked on the local day it was given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    "fees_paid",  # fee requests paid (fee_paid events), by any channel
    "paid_online",  # of which paid online (through the payment gateway)
    "ratings",  # satisfaction ratings given (portal.Rating), on the day given
    "ratings_satisfied",  # of which "satisfied" or better (score ≥ DossierFacts.satisfied_from)
    "rating_score_sum",  # sum of the scores, for the average
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
    rating_score: int | None = None
    rating_at: datetime | None = None
    satisfied_from: int = 4  # a score from this value up is "satisfied or better" (1–5 scale)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "online_capable": self.online_capable,
            "with_fee": self.with_fee,
            "digitised": self.digitised,
            "result_digital": self.result_digital,
            "due_at": _iso(self.due_at),
            "timeliness": self.timeliness,
            "rating_score": self.rating_score,
            "rating_at": _iso(self.rating_at),
            "satisfied_from": self.satisfied_from,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DossierFacts:
        return cls(
            **{
                **data,
                "due_at": parse_moment(data.get("due_at")),
                "rating_at": parse_moment(data.get("rating_at")),
            }
        )


def _iso(moment: datetime | None) -> str | None:
    """A moment as stored in a booking: UTC ISO text, so that equal instants are equal text."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def event_data(due: Any = None, verdict: Any = None, channel: Any = None, txn_ref: Any = None) -> dict[str, Any]:
    """The part of an event's data the fold reads, the same whether it comes from the saved event
    or from SQL (where a JSON null may read as NULL or as the text "null")."""
    data: dict[str, Any] = {}
    for key, value in (("due_at", due), ("timeliness", verdict), ("channel", channel), ("txn_ref", txn_ref)):
        if value not in (None, "", "null"):
            data[key] = value if key == "due_at" and isinstance(value, datetime) else str(value)
    return data


def paid_online(data: Mapping[str, Any]) -> bool:
    """A fee payment is online when it names the online channel, or names none and went through
    the payment gateway (it carries the gateway's transaction reference)."""
    channel = data.get("channel")
    if channel:
        return channel == "online"
    return bool(data.get("txn_ref"))


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


@dataclass(frozen=True)
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
    elif action == "fee_paid":
        counts["fees_paid"] += 1
        counts["paid_online"] += paid_online(event.data)


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


def _rating(out: Contribution, facts: DossierFacts) -> None:
    if facts.rating_score is None or facts.rating_at is None:
        return
    counts = out[local_date(facts.rating_at)]
    counts["ratings"] += 1
    counts["ratings_satisfied"] += facts.rating_score >= facts.satisfied_from
    counts["rating_score_sum"] += facts.rating_score


def _clean(out: Mapping[date, Mapping[str, int]]) -> Contribution:
    return {day: clean for day, counts in out.items() if (clean := {c: n for c, n in counts.items() if n})}


@dataclass(frozen=True)
class Fold:
    """Where the fold of a dossier's log stands: the state reached, the day it began, the last
    event folded (its moment and id) and the facts the fold used."""

    facts: DossierFacts
    state: _State = _State()
    since: date | None = None
    last: tuple[datetime, int] | None = None

    def follows(self, event: Event) -> bool:
        """Whether ``event`` sorts after every event folded so far (then ``step`` may fold it alone)."""
        return self.last is None or (event.at, event.seq) > self.last

    def tail(self) -> Contribution:
        """The open-ended stocks of the current state (from ``since`` on, no end yet)."""
        out: Contribution = defaultdict(lambda: defaultdict(int))
        if self.since is not None:
            _stock(out, self.state, self.since, None)
        return out

    def step(self, event: Event) -> tuple[Contribution, Fold]:
        """Fold one more event: (what it adds to the contribution, the new position)."""
        out: Contribution = defaultdict(lambda: defaultdict(int))
        day = local_date(event.at)
        _flows(out, event, day, self.facts)
        following = _next_state(self.state, event, self.facts)
        state, since = self.state, self.since
        if following != self.state:
            if self.since is not None:
                # The old state ran from ``since`` to this day, no longer open-ended.
                _stock(out, self.state, self.since, day)
                _subtract(out, self.tail())
            state, since = following, day
            _stock(out, state, since, None)
        return _clean(out), Fold(self.facts, state, since, (event.at, event.seq))

    def to_json(self) -> dict[str, Any]:
        state = self.state
        return {
            "facts": self.facts.to_json(),
            "open": state.open,
            "paused_at": _iso(state.paused_at),
            "due": _iso(state.due),
            "since": self.since.isoformat() if self.since else None,
            "last": [_iso(self.last[0]), self.last[1]] if self.last else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Fold | None:
        """The stored position, or None when there is none (bookings made before it was kept)."""
        if not data or "facts" not in data:
            return None
        last = data.get("last")
        return cls(
            facts=DossierFacts.from_json(data["facts"]),
            state=_State(bool(data["open"]), parse_moment(data.get("paused_at")), parse_moment(data.get("due"))),
            since=date.fromisoformat(data["since"]) if data.get("since") else None,
            last=(parse_moment(last[0]), int(last[1])) if last else None,
        )


def _subtract(out: Contribution, part: Mapping[date, Mapping[str, int]]) -> None:
    for day, counts in part.items():
        for column, n in counts.items():
            out[day][column] -= n


def fold_all(events: Iterable[Event], facts: DossierFacts) -> tuple[Contribution, Fold]:
    """The dossier's contribution from its whole log, and the position reached (to fold later
    events one at a time)."""
    out: Contribution = defaultdict(lambda: defaultdict(int))
    position = Fold(facts)
    for event in sorted(events, key=lambda e: (e.at, e.seq)):
        delta, position = position.step(event)
        for day, counts in delta.items():
            for column, n in counts.items():
                out[day][column] += n
    _rating(out, facts)
    return _clean(out), position


def fold(events: Iterable[Event], facts: DossierFacts) -> Contribution:
    """The dossier's contribution: {local day: {column: count}}, zero entries dropped."""
    return fold_all(events, facts)[0]


def add(contribution: Contribution, delta: Contribution) -> Contribution:
    """contribution + delta, zero entries dropped."""
    out: dict[date, dict[str, int]] = {day: dict(counts) for day, counts in contribution.items()}
    for day, counts in delta.items():
        target = out.setdefault(day, {})
        for column, n in counts.items():
            target[column] = target.get(column, 0) + n
    return _clean(out)


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
