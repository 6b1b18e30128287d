"""Translated sentences for the problems the pure modules report by code (graph, conditions).

``graph`` and ``conditions`` have no Django imports, so they report ``code`` + ``params``; this
module is where those become Vietnamese (or English) sentences, through the app's catalogue.
"""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.workflow.conditions import ConditionError
from motcua.workflow.graph import Problem

CONDITION_MESSAGES = {
    "too_long": gettext_lazy("The condition is too long (at most %(max)s characters)."),
    "syntax": gettext_lazy("The condition is not a valid expression (see column %(column)s)."),
    "not_allowed": gettext_lazy("A condition cannot contain %(construct)s."),
    "operator": gettext_lazy(
        "The operator “%(operator)s” is not allowed in a condition: use ==, !=, <, <=, >, >=, in, not in, and, or, not."
    ),
    "unknown_name": gettext_lazy("Unknown name “%(name)s” in the condition; use one of: %(names)s."),
    "private": gettext_lazy(
        "“%(name)s” cannot be read in a condition: names starting with an underscore are not allowed."
    ),
    "subscript": gettext_lazy('Only a text or a whole number can be written in brackets, e.g. form["dien_tich"].'),
    "list_item": gettext_lazy("A list in a condition may only hold text, numbers, True, False or None."),
    "constant": gettext_lazy("This kind of constant is not allowed in a condition."),
    "sign": gettext_lazy("A sign (+ or -) can only be written before a number."),
    "too_complex": gettext_lazy("The condition is too complex (at most %(max)s parts)."),
}

CONSTRUCTS = {
    "call": gettext_lazy("function calls"),
    "lambda": gettext_lazy("lambda functions"),
    "comprehension": gettext_lazy("comprehensions"),
    "arithmetic": gettext_lazy("arithmetic"),
    "if_expression": gettext_lazy("if … else expressions"),
    "assignment": gettext_lazy("assignments"),
    "f_string": gettext_lazy("formatted text (f-strings)"),
    "dict": gettext_lazy("dictionaries"),
    "set": gettext_lazy("sets"),
    "starred": gettext_lazy("starred expressions"),
    "slice": gettext_lazy("slices"),
}

PROBLEM_MESSAGES = {
    "json": gettext_lazy("The file is not valid JSON (line %(line)s, column %(column)s)."),
    "encoding": gettext_lazy("The file is not UTF-8 text."),
    "too_large": gettext_lazy("The file is too large (at most %(max)s KB)."),
    "not_an_object": gettext_lazy("%(where)s must be a JSON object."),
    "not_a_list": gettext_lazy("%(where)s must be a JSON list."),
    "field_type": gettext_lazy("%(where)s: “%(field)s” must be %(type)s."),
    "format": gettext_lazy("This is not a workflow file (format “%(value)s”, expected “%(expected)s”)."),
    "format_version": gettext_lazy("Unknown workflow format version “%(value)s”."),
    "no_steps": gettext_lazy("The workflow has no steps."),
    "too_many_steps": gettext_lazy("The workflow has too many steps (at most %(max)s)."),
    "too_many_transitions": gettext_lazy("The workflow has too many transitions (at most %(max)s)."),
    "bad_key": gettext_lazy(
        "The key “%(key)s” is not valid: use lower-case Latin letters, digits, hyphens and underscores (at most 50)."
    ),
    "reserved_key": gettext_lazy("The key “%(key)s” is reserved by the system: choose another one."),
    "duplicate_step": gettext_lazy("Two steps have the key “%(step)s”."),
    "duplicate_transition": gettext_lazy("Two transitions have the key “%(transition)s”."),
    "step_name": gettext_lazy("Step “%(step)s” has no name."),
    "step_kind": gettext_lazy("Step “%(step)s” has an unknown kind “%(value)s”."),
    "assignment": gettext_lazy("Step “%(step)s” has an unknown kind of assignment “%(value)s”."),
    "holder": gettext_lazy("Step “%(step)s” has an unknown way of finding its agency “%(value)s”."),
    "holder_agency": gettext_lazy("Step “%(step)s” is held by a fixed agency: choose the agency."),
    "holder_level": gettext_lazy("Step “%(step)s” is held by the agency of an administrative level: choose the level."),
    "holder_field": gettext_lazy(
        "Step “%(step)s” is held by the agency named in the application form: give the form field."
    ),
    "department_code": gettext_lazy("Step “%(step)s”: “%(value)s” is not a department code."),
    "step_role": gettext_lazy("Step “%(step)s” has no role: say who handles it."),
    "unknown_role": gettext_lazy("“%(step)s”: “%(value)s” is not a role."),
    "step_budget": gettext_lazy("Step “%(step)s”: the time budget must be a whole number of sessions, 0 or more."),
    "terminal_budget": gettext_lazy(
        "Step “%(step)s” is a result or a refusal: the clock stops there, so its time budget must be 0."
    ),
    "consult_targets": gettext_lazy("Consultation step “%(step)s” asks nobody: add the agencies to consult."),
    "consult_quorum": gettext_lazy(
        "Consultation step “%(step)s”: the quorum (%(quorum)s) must be between 0 (everyone) and the "
        "%(count)s agencies asked."
    ),
    "consult_budget": gettext_lazy(
        "Consultation step “%(step)s”, party %(target)s: its time cannot exceed the step's own budget."
    ),
    "consult_only": gettext_lazy("Step “%(step)s” is not a consultation: it cannot ask agencies for opinions."),
    "transition_action": gettext_lazy("Transition “%(transition)s” has an unknown action “%(value)s”."),
    "transition_label": gettext_lazy("Transition “%(transition)s” has no label for its button."),
    "transition_role": gettext_lazy("Transition “%(transition)s” has no role: say who may take it."),
    "transition_from": gettext_lazy("Transition “%(transition)s” starts from an unknown step “%(value)s”."),
    "transition_to": gettext_lazy("Transition “%(transition)s” leads to an unknown step “%(value)s”."),
    "transition_no_target": gettext_lazy("Transition “%(transition)s” needs a target step."),
    "terminal_outgoing": gettext_lazy(
        "Transition “%(transition)s” leaves step “%(step)s”, which is a result or a refusal: nothing can follow it."
    ),
    "supplement_target": gettext_lazy(
        "Transition “%(transition)s” asks for a supplement: the dossier stays at its step, so leave the target empty."
    ),
    "reject_target": gettext_lazy("Transition “%(transition)s” rejects the dossier: it must lead to a refusal step."),
    "return_target": gettext_lazy(
        "Transition “%(transition)s” returns the dossier: it must lead to a working step, not a result or a refusal."
    ),
    "refusal_via_reject": gettext_lazy(
        "Transition “%(transition)s” leads to a refusal step: its action must be “reject”."
    ),
    "several_starts": gettext_lazy("Several steps are marked as the start (%(steps)s): mark only one."),
    "start_terminal": gettext_lazy("The start step “%(step)s” cannot be a result or a refusal."),
    "no_result": gettext_lazy("The workflow has no result step."),
    "unreachable": gettext_lazy("Step “%(step)s” cannot be reached from the start step “%(start)s”."),
    "dead_end": gettext_lazy("Step “%(step)s” has no way out: add a transition from it."),
    "no_terminal": gettext_lazy("From step “%(step)s” no result or refusal can be reached."),
    "too_many_paths": gettext_lazy("The workflow has too many paths to check (more than %(max)s)."),
    "budget_over": gettext_lazy(
        "Budgets do not add up: the path %(path)s takes %(sum)s sessions, more than the procedure's %(total)s."
    ),
    "budget_short": gettext_lazy(
        "Budgets do not add up: %(sum)s of %(total)s sessions (the longest path to a result is %(path)s)."
    ),
    # Reference checks (motcua.workflow.transfer): names that must exist in the database.
    "unknown_agency": gettext_lazy("“%(step)s”: no active agency has the code “%(value)s”."),
    "unknown_level": gettext_lazy("“%(step)s”: no administrative level has the code “%(value)s”."),
    "unknown_department": gettext_lazy("“%(step)s”: %(agency)s has no department with the code “%(value)s”."),
    "unknown_form_field": gettext_lazy("“%(step)s”: the procedure's form has no field “%(value)s”."),
}


TYPE_NAMES = {
    "text": gettext_lazy("a text"),
    "integer": gettext_lazy("a whole number"),
    "boolean": gettext_lazy("true or false"),
}


def condition_message(exc: ConditionError | str, params: Mapping[str, Any] | None = None) -> str:
    """The translated sentence for a condition error (or its code and params)."""
    code, values = (exc.code, dict(exc.params)) if isinstance(exc, ConditionError) else (exc, dict(params or {}))
    if code == "not_allowed":
        construct = values.get("construct", "")
        values["construct"] = str(CONSTRUCTS.get(construct, construct))
    template = CONDITION_MESSAGES.get(code)
    if template is None:
        return _("The condition is not valid.")
    return str(template) % values


def problem_message(problem: Problem) -> str:
    """The translated sentence for one definition problem."""
    params = dict(problem.params)
    if problem.code == "condition":
        return _("Transition “%(transition)s”: %(error)s") % {
            "transition": params.get("transition", "?"),
            "error": condition_message(params.get("error_code", ""), params.get("error_params") or {}),
        }
    if problem.code == "field_type":
        params["type"] = str(TYPE_NAMES.get(params.get("type", ""), params.get("type", "")))
    params.setdefault("where", problem.where or _("the file"))
    params.setdefault("step", "?")
    template = PROBLEM_MESSAGES.get(problem.code)
    if template is None:
        return _("The workflow definition is not valid (%(code)s).") % {"code": problem.code}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def problem_messages(problems: list[Problem]) -> list[str]:
    return [problem_message(p) for p in problems]


def problem_errors(problems: list[Problem]) -> list[dict[str, str]]:
    """The API's ``errors`` rows: ``{"field": where, "message": sentence}``."""
    return [{"field": p.where, "message": problem_message(p)} for p in problems]
