"""A workflow's rows as the JSON definition, and the checks that need the database.

``graph`` validates the shape and the paths on plain data; this module adds what only the
database knows: the procedure's time in sessions, which roles exist, whether the agencies,
levels, departments and form fields named in the definition exist. Read-only: writing rows is
``services.save_revision`` / ``services.replace_definition``.
"""

from typing import Any

from motcua.catalog.models import ProcedureVersion
from motcua.org.models import AdministrativeLevel, Agency, Department
from motcua.workflow import graph
from motcua.workflow.graph import Definition, Holder, Problem
from motcua.workflow.models import STAFF_ROLE_CHOICES, Workflow
from motcua.worktime.selectors import default_calendar

ROLE_CODES = frozenset(value for value, _label in STAFF_ROLE_CHOICES)


def total_sessions(version: ProcedureVersion) -> int:
    """The procedure's time in working sessions: immediate 0, same day one whole day, else days × sessions."""
    calendar = default_calendar()
    if version.time_kind == ProcedureVersion.TimeKind.IMMEDIATE:
        return 0
    if version.time_kind == ProcedureVersion.TimeKind.SAME_DAY:
        return calendar.sessions_per_day
    return calendar.sessions_for_days(version.resolution_days)


def _holder(row: Any) -> dict[str, Any]:
    return {
        "holder": row.holder,
        "agency": row.agency.code if row.agency_id else "",
        "level": row.level.code if row.level_id else "",
        "form_field": row.form_field,
        "department": row.department_code,
        "role": row.role,
    }


def data_from_rows(workflow: Workflow) -> dict[str, Any]:
    """The definition of ``workflow`` as its rows stand now (the export format, without metadata)."""
    steps = workflow.steps.select_related("agency", "level").prefetch_related("consult__agency", "consult__level")
    return {
        "format": graph.FORMAT,
        "format_version": graph.FORMAT_VERSION,
        "name": workflow.name,
        "steps": [
            {
                "key": step.key,
                "name": step.name,
                "order": step.order,
                "kind": step.kind,
                "start": step.is_start,
                **_holder(step),
                "budget_sessions": step.budget_sessions,
                "assignment": step.assignment,
                "quorum": step.quorum,
                "consult": [{**_holder(c), "budget_sessions": c.budget_sessions} for c in step.consult.all()],
            }
            for step in steps.order_by("order", "pk")
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
                "requires_reason": t.requires_reason,
                "requires_signature": t.requires_signature,
                "requires_attachment": t.requires_attachment,
                "order": t.order,
            }
            for t in workflow.transitions.order_by("order", "pk")
        ],
    }


def _holders(definition: Definition) -> list[tuple[str, Holder]]:
    found: list[tuple[str, Holder]] = []
    for step in definition.steps:
        found.append((step.key, step))
        for index, target in enumerate(step.consult):
            found.append((f"{step.key} #{index + 1}", target))
    return found


def reference_problems(definition: Definition, version: ProcedureVersion) -> list[Problem]:
    """Agencies, levels, departments and form fields named by ``definition`` that do not exist."""
    holders = _holders(definition)
    agency_codes = {h.agency for _key, h in holders if h.agency}
    agencies = {a.code: a for a in Agency.objects.filter(code__in=agency_codes, is_active=True)}
    levels = set(
        AdministrativeLevel.objects.filter(code__in={h.level for _k, h in holders if h.level}).values_list(
            "code", flat=True
        )
    )
    departments = set(Department.objects.filter(agency__code__in=agency_codes).values_list("agency__code", "code"))
    fields = set(version.form_fields.values_list("name", flat=True))
    problems: list[Problem] = []
    for key, h in holders:
        where = f"steps.{key}"
        if h.agency and h.holder in ("fixed", "level") and h.agency not in agencies:
            problems.append(Problem("unknown_agency", where, {"step": key, "value": h.agency}))
        if h.level and h.holder == "level" and h.level not in levels:
            problems.append(Problem("unknown_level", where, {"step": key, "value": h.level}))
        if h.holder == "form_field" and h.form_field and h.form_field not in fields:
            problems.append(Problem("unknown_form_field", where, {"step": key, "value": h.form_field}))
        if (
            h.holder == "fixed"
            and h.department
            and h.agency in agencies
            and (h.agency, h.department) not in departments
        ):
            problems.append(
                Problem(
                    "unknown_department",
                    where,
                    {"step": key, "value": h.department, "agency": agencies[h.agency].name},
                )
            )
    return problems


def check(data: Any, version: ProcedureVersion) -> tuple[Definition | None, list[Problem]]:
    """Every problem of ``data`` as a definition for ``version``: shape, graph, budgets and references."""
    definition, problems = graph.check(data, total_sessions(version), ROLE_CODES)
    if definition is not None:
        problems += reference_problems(definition, version)
    return definition, problems
