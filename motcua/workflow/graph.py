"""Workflow definitions as plain data, and their validation: pure Python, no Django.

A definition is the JSON document of ``motcua.workflow.transfer`` (the export format, and the
snapshot a running dossier keeps). ``parse`` turns it into frozen dataclasses, reporting shape
problems; ``validate`` checks the graph and the time budgets. Both return *all* problems, each a
``Problem`` naming the step or transition it is about; ``motcua.workflow.messages`` renders them
as Vietnamese sentences. Keeping this pure lets the desk, the import and the engine share one set
of rules, tested without a database.

Rules (see ``validate``): unique keys; exactly one start step (the one marked ``start``, else the
first by order), not terminal; every step reachable from it; every non-terminal step has a way
out and terminal steps (result, refusal) none; from every step a terminal can be reached; a
result step exists; every step and transition has a role; conditions are valid in the condition
language; a reject leads to a refusal, a return to a working step; terminal steps take no time;
every acyclic path from the start to a terminal takes at most the procedure's sessions, and the
longest path to a result takes exactly that many ("budgets add up").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from motcua.workflow import conditions

FORMAT = "motcua-workflow"
FORMAT_VERSION = 1
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_STEPS = 60
MAX_TRANSITIONS = 200
MAX_PATHS = 20_000
MAX_BUDGET = 365 * 2 * 4

STEP_KINDS = ("task", "consultation", "result", "refusal")
TERMINAL_KINDS = frozenset({"result", "refusal"})
HOLDERS = ("fixed", "receiving", "competent", "level", "form_field")
ASSIGNMENTS = ("queue", "round_robin", "least_loaded")
ACTIONS = ("forward", "return", "approve", "reject", "request_supplement", "transfer")
#: Actions that always need a reason (the applicant or the previous holder must know why).
REASON_ACTIONS = frozenset({"return", "reject", "request_supplement"})
#: Actions of the engine itself (transitions endpoint), so no transition may use these keys.
RESERVED_KEYS = frozenset({"claim", "answer", "hand_over", "supplement_received", "reassign"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition: ``code`` selects the message, ``params`` fill it in."""

    code: str
    where: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.where}: {self.code} {dict(self.params)}" if self.where else f"{self.code} {dict(self.params)}"


@dataclass(frozen=True)
class Holder:
    """How a step (or a consulted party) finds its agency for a given dossier."""

    holder: str = "fixed"
    agency: str = ""  # agency code: the fixed agency, or the line a ``level`` holder must belong to
    level: str = ""  # administrative level code, for ``level``
    form_field: str = ""  # form field naming an agency code, for ``form_field``
    department: str = ""  # department code inside the resolved agency (optional)
    role: str = ""


@dataclass(frozen=True)
class ConsultDef(Holder):
    budget_sessions: int | None = None  # None: the consultation step's own budget


@dataclass(frozen=True)
class StepDef(Holder):
    key: str = ""
    name: str = ""
    kind: str = "task"
    order: int = 0
    start: bool = False
    budget_sessions: int = 0
    assignment: str = "queue"
    quorum: int = 0  # consultation: answers needed before moving on; 0 = every party asked
    consult: tuple[ConsultDef, ...] = ()

    @property
    def terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS


@dataclass(frozen=True)
class TransitionDef:
    key: str
    from_step: str
    to_step: str
    action: str
    label: str = ""
    role: str = ""
    condition: str = ""
    requires_reason: bool = False
    requires_signature: bool = False
    requires_attachment: bool = False
    order: int = 0

    @property
    def reason_required(self) -> bool:
        """A return, a reject or a supplement request always needs a reason, whatever the definition says."""
        return self.requires_reason or self.action in REASON_ACTIONS

    @property
    def stays(self) -> bool:
        """A supplement request keeps the dossier at its step (the clock pauses)."""
        return self.action == "request_supplement"


@dataclass(frozen=True)
class Definition:
    name: str
    steps: tuple[StepDef, ...]
    transitions: tuple[TransitionDef, ...]

    def step(self, key: str) -> StepDef | None:
        for step in self.steps:
            if step.key == key:
                return step
        return None

    def transition(self, key: str) -> TransitionDef | None:
        for transition in self.transitions:
            if transition.key == key:
                return transition
        return None

    @property
    def start(self) -> StepDef | None:
        marked = [s for s in self.steps if s.start]
        if marked:
            return marked[0]
        ordered = sorted(self.steps, key=lambda s: s.order)
        return ordered[0] if ordered else None

    def outgoing(self, key: str) -> list[TransitionDef]:
        return sorted((t for t in self.transitions if t.from_step == key), key=lambda t: (t.order, t.key))


# --- parsing ---------------------------------------------------------------------------------------


class _Reader:
    """Reads fields of one JSON object, collecting type problems instead of failing on the first."""

    def __init__(self, data: Mapping[str, Any], where: str, problems: list[Problem]) -> None:
        self.data, self.where, self.problems = data, where, problems

    def _bad(self, name: str, kind: str) -> None:
        self.problems.append(Problem("field_type", self.where, {"field": name, "type": kind}))

    def text(self, name: str, default: str = "") -> str:
        value = self.data.get(name, default)
        if value is None:
            return default
        if not isinstance(value, str):
            self._bad(name, "text")
            return default
        return value.strip()

    def integer(self, name: str, default: int | None = 0) -> int | None:
        value = self.data.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            self._bad(name, "integer")
            return default
        return value

    def flag(self, name: str) -> bool:
        value = self.data.get(name, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self._bad(name, "boolean")
            return False
        return value

    def holder(self) -> dict[str, str]:
        return {
            "holder": self.text("holder", "fixed") or "fixed",
            "agency": self.text("agency").upper(),
            "level": self.text("level"),
            "form_field": self.text("form_field"),
            "department": self.text("department"),
            "role": self.text("role"),
        }


def _objects(value: Any, where: str, problems: list[Problem]) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem("not_a_list", where))
        return []
    rows = []
    for index, row in enumerate(value):
        if isinstance(row, Mapping):
            rows.append(row)
        else:
            problems.append(Problem("not_an_object", f"{where}[{index}]"))
    return rows


def parse(data: Any) -> tuple[Definition | None, list[Problem]]:
    """The definition in ``data`` (the JSON format), and every shape problem found on the way."""
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        return None, [Problem("not_an_object", "")]
    declared = data.get("format", FORMAT)
    if declared != FORMAT:
        problems.append(Problem("format", "format", {"value": str(declared)[:50], "expected": FORMAT}))
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        problems.append(Problem("format_version", "format_version", {"value": str(version)[:20]}))
    top = _Reader(data, "", problems)
    name = top.text("name")

    steps: list[StepDef] = []
    for index, row in enumerate(_objects(data.get("steps"), "steps", problems)):
        reader = _Reader(row, f"steps[{index}]", problems)
        consult = []
        for c_index, c_row in enumerate(_objects(row.get("consult"), f"steps[{index}].consult", problems)):
            c_reader = _Reader(c_row, f"steps[{index}].consult[{c_index}]", problems)
            consult.append(ConsultDef(**c_reader.holder(), budget_sessions=c_reader.integer("budget_sessions", None)))
        steps.append(
            StepDef(
                **reader.holder(),
                key=reader.text("key"),
                name=reader.text("name"),
                kind=reader.text("kind", "task") or "task",
                order=reader.integer("order", index + 1) or 0,
                start=reader.flag("start"),
                budget_sessions=reader.integer("budget_sessions", 0) or 0,
                assignment=reader.text("assignment", "queue") or "queue",
                quorum=reader.integer("quorum", 0) or 0,
                consult=tuple(consult),
            )
        )
    transitions: list[TransitionDef] = []
    for index, row in enumerate(_objects(data.get("transitions"), "transitions", problems)):
        reader = _Reader(row, f"transitions[{index}]", problems)
        transitions.append(
            TransitionDef(
                key=reader.text("key"),
                from_step=reader.text("from"),
                to_step=reader.text("to"),
                action=reader.text("action"),
                label=reader.text("label"),
                role=reader.text("role"),
                condition=reader.text("condition"),
                requires_reason=reader.flag("requires_reason"),
                requires_signature=reader.flag("requires_signature"),
                requires_attachment=reader.flag("requires_attachment"),
                order=reader.integer("order", index + 1) or 0,
            )
        )
    return Definition(name=name, steps=tuple(steps), transitions=tuple(transitions)), problems


def to_data(definition: Definition) -> dict[str, Any]:
    """The JSON format of ``definition`` (stable keys; the inverse of ``parse``)."""

    def holder(h: Holder) -> dict[str, Any]:
        return {
            "holder": h.holder,
            "agency": h.agency,
            "level": h.level,
            "form_field": h.form_field,
            "department": h.department,
            "role": h.role,
        }

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": definition.name,
        "steps": [
            {
                "key": s.key,
                "name": s.name,
                "order": s.order,
                "kind": s.kind,
                "start": s.start,
                **holder(s),
                "budget_sessions": s.budget_sessions,
                "assignment": s.assignment,
                "quorum": s.quorum,
                "consult": [{**holder(c), "budget_sessions": c.budget_sessions} for c in s.consult],
            }
            for s in definition.steps
        ],
        "transitions": [
            {
                "key": t.key,
                "from": t.from_step,
                "to": t.to_step,
                "action": t.action,
                "label": t.label,
                "role": t.role,
                "condition": t.condition,
                "requires_reason": t.reason_required,
                "requires_signature": t.requires_signature,
                "requires_attachment": t.requires_attachment,
                "order": t.order,
            }
            for t in definition.transitions
        ],
    }


# --- validation --------------------------------------------------------------------------------------


def _check_holder(h: Holder, where: str, params: dict, roles: frozenset[str] | None, problems: list[Problem]) -> None:
    if h.holder not in HOLDERS:
        problems.append(Problem("holder", where, {**params, "value": h.holder}))
    elif h.holder == "fixed" and not h.agency:
        problems.append(Problem("holder_agency", where, params))
    elif h.holder == "level" and not h.level:
        problems.append(Problem("holder_level", where, params))
    elif h.holder == "form_field" and not h.form_field:
        problems.append(Problem("holder_field", where, params))
    if h.department and not KEY_RE.match(h.department):
        problems.append(Problem("department_code", where, {**params, "value": h.department}))
    if not h.role:
        problems.append(Problem("step_role", where, params))
    elif roles is not None and h.role not in roles:
        problems.append(Problem("unknown_role", where, {**params, "value": h.role}))


def _check_steps(definition: Definition, roles: frozenset[str] | None, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for step in definition.steps:
        where = f"steps.{step.key or '?'}"
        params = {"step": step.key or step.name or "?"}
        if not KEY_RE.match(step.key):
            problems.append(Problem("bad_key", where, {"key": step.key}))
        elif step.key in seen:
            problems.append(Problem("duplicate_step", where, params))
        elif step.key in RESERVED_KEYS:
            problems.append(Problem("reserved_key", where, {"key": step.key}))
        seen.add(step.key)
        if not step.name:
            problems.append(Problem("step_name", where, params))
        if step.kind not in STEP_KINDS:
            problems.append(Problem("step_kind", where, {**params, "value": step.kind}))
        if step.assignment not in ASSIGNMENTS:
            problems.append(Problem("assignment", where, {**params, "value": step.assignment}))
        _check_holder(step, where, params, roles, problems)
        if not 0 <= step.budget_sessions <= MAX_BUDGET:
            problems.append(Problem("step_budget", where, params))
        elif step.terminal and step.budget_sessions:
            problems.append(Problem("terminal_budget", where, params))
        if step.kind == "consultation":
            if not step.consult:
                problems.append(Problem("consult_targets", where, params))
            if not 0 <= step.quorum <= len(step.consult):
                problems.append(
                    Problem("consult_quorum", where, {**params, "quorum": step.quorum, "count": len(step.consult)})
                )
            for index, target in enumerate(step.consult):
                t_params = {**params, "target": index + 1}
                _check_holder(target, f"{where}.consult[{index}]", t_params, roles, problems)
                if target.budget_sessions is not None and not 0 <= target.budget_sessions <= step.budget_sessions:
                    problems.append(Problem("consult_budget", f"{where}.consult[{index}]", t_params))
        elif step.consult:
            problems.append(Problem("consult_only", where, params))


def _check_transitions(definition: Definition, roles: frozenset[str] | None, problems: list[Problem]) -> None:
    steps = {s.key: s for s in definition.steps}
    seen: set[str] = set()
    for transition in definition.transitions:
        where = f"transitions.{transition.key or '?'}"
        params = {"transition": transition.key or transition.label or "?"}
        if not KEY_RE.match(transition.key):
            problems.append(Problem("bad_key", where, {"key": transition.key}))
        elif transition.key in RESERVED_KEYS:
            problems.append(Problem("reserved_key", where, {"key": transition.key}))
        elif transition.key in seen:
            problems.append(Problem("duplicate_transition", where, params))
        seen.add(transition.key)
        if transition.action not in ACTIONS:
            problems.append(Problem("transition_action", where, {**params, "value": transition.action}))
        if not transition.label:
            problems.append(Problem("transition_label", where, params))
        if not transition.role:
            problems.append(Problem("transition_role", where, params))
        elif roles is not None and transition.role not in roles:
            problems.append(
                Problem("unknown_role", where, {**params, "step": transition.key, "value": transition.role})
            )
        source = steps.get(transition.from_step)
        if source is None:
            problems.append(Problem("transition_from", where, {**params, "value": transition.from_step}))
        elif source.terminal:
            problems.append(Problem("terminal_outgoing", where, {**params, "step": source.key}))
        if transition.stays:
            if transition.to_step and transition.to_step != transition.from_step:
                problems.append(Problem("supplement_target", where, params))
        elif not transition.to_step:
            problems.append(Problem("transition_no_target", where, params))
        else:
            target = steps.get(transition.to_step)
            if target is None:
                problems.append(Problem("transition_to", where, {**params, "value": transition.to_step}))
            elif transition.action == "reject" and target.kind != "refusal":
                problems.append(Problem("reject_target", where, params))
            elif transition.action == "return" and target.terminal:
                problems.append(Problem("return_target", where, params))
            elif target.kind == "refusal" and transition.action != "reject":
                problems.append(Problem("refusal_via_reject", where, params))
        try:
            conditions.validate(transition.condition)
        except conditions.ConditionError as exc:
            problems.append(Problem("condition", where, {**params, "error_code": exc.code, "error_params": exc.params}))


def _edges(definition: Definition) -> dict[str, list[str]]:
    keys = {s.key for s in definition.steps}
    edges: dict[str, list[str]] = {key: [] for key in keys}
    for t in definition.transitions:
        if not t.stays and t.from_step in keys and t.to_step in keys and t.to_step not in edges[t.from_step]:
            edges[t.from_step].append(t.to_step)
    return edges


def _reachable(edges: Mapping[str, Iterable[str]], starts: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        stack.extend(edges.get(key, ()))
    return seen


def _simple_paths(edges: Mapping[str, list[str]], start: str, terminals: set[str]) -> Iterator[list[str]]:
    """Every acyclic path from ``start`` to a terminal step (depth first, in definition order)."""
    path = [start]
    on_path = {start}
    stack: list[Iterator[str]] = [iter(edges.get(start, ()))]
    if start in terminals:
        yield list(path)
        return
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if step in on_path:
            continue
        path.append(step)
        if step in terminals:
            yield list(path)
            path.pop()
            continue
        on_path.add(step)
        stack.append(iter(edges.get(step, ())))


def _check_graph(definition: Definition, total_sessions: int | None, problems: list[Problem]) -> None:
    steps = {s.key: s for s in definition.steps if s.key}
    if not steps:
        return
    marked = [s.key for s in definition.steps if s.start]
    if len(marked) > 1:
        problems.append(Problem("several_starts", "steps", {"steps": ", ".join(marked)}))
    start = definition.start
    assert start is not None
    if start.terminal:
        problems.append(Problem("start_terminal", f"steps.{start.key}", {"step": start.key}))
    if not any(s.kind == "result" for s in definition.steps):
        problems.append(Problem("no_result", "steps"))
    edges = _edges(definition)
    reachable = _reachable(edges, [start.key])
    for step in definition.steps:
        if step.key in steps and step.key not in reachable:
            problems.append(Problem("unreachable", f"steps.{step.key}", {"step": step.key, "start": start.key}))
    ways_out = {t.from_step for t in definition.transitions if not t.stays}
    reverse: dict[str, list[str]] = {key: [] for key in steps}
    for source, targets in edges.items():
        for target in targets:
            reverse[target].append(source)
    terminals = {key for key, step in steps.items() if step.terminal}
    can_finish = _reachable(reverse, terminals)
    for step in definition.steps:
        if step.key not in steps or step.terminal:
            continue
        if step.key not in ways_out:
            problems.append(Problem("dead_end", f"steps.{step.key}", {"step": step.key}))
        elif step.key not in can_finish:
            problems.append(Problem("no_terminal", f"steps.{step.key}", {"step": step.key}))

    if total_sessions is None or start.terminal:
        return
    longest_to_result: tuple[int, list[str]] | None = None
    over: list[tuple[int, list[str]]] = []
    for count, path in enumerate(_simple_paths(edges, start.key, terminals)):
        if count >= MAX_PATHS:
            problems.append(Problem("too_many_paths", "steps", {"max": MAX_PATHS}))
            return
        used = sum(steps[key].budget_sessions for key in path)
        if used > total_sessions and len(over) < 3:
            over.append((used, path))
        if steps[path[-1]].kind == "result" and (longest_to_result is None or used > longest_to_result[0]):
            longest_to_result = (used, path)
    for used, path in over:
        problems.append(
            Problem("budget_over", "steps", {"path": " → ".join(path), "sum": used, "total": total_sessions})
        )
    if longest_to_result is not None and not over and longest_to_result[0] != total_sessions:
        used, path = longest_to_result
        problems.append(
            Problem("budget_short", "steps", {"path": " → ".join(path), "sum": used, "total": total_sessions})
        )


def validate(
    definition: Definition, total_sessions: int | None = None, roles: Iterable[str] | None = None
) -> list[Problem]:
    """Every problem of ``definition``; ``total_sessions`` is the procedure's time (None: budgets not checked).

    ``roles`` lists the role codes that exist (None: any non-empty role is accepted).
    """
    problems: list[Problem] = []
    role_set = frozenset(roles) if roles is not None else None
    if not definition.steps:
        return [Problem("no_steps", "steps")]
    if len(definition.steps) > MAX_STEPS:
        return [Problem("too_many_steps", "steps", {"max": MAX_STEPS})]
    if len(definition.transitions) > MAX_TRANSITIONS:
        return [Problem("too_many_transitions", "transitions", {"max": MAX_TRANSITIONS})]
    _check_steps(definition, role_set, problems)
    _check_transitions(definition, role_set, problems)
    _check_graph(definition, total_sessions, problems)
    return problems


def check(
    data: Any, total_sessions: int | None = None, roles: Iterable[str] | None = None
) -> tuple[Definition | None, list[Problem]]:
    """``parse`` then ``validate``: the definition and every problem of both."""
    definition, problems = parse(data)
    if definition is None:
        return None, problems
    return definition, problems + validate(definition, total_sessions, roles)
