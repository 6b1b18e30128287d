"""Workflow definitions as JSON files: export, import, and copies (province template → unit, version → version).

The format (``format_version`` 1, UTF-8 JSON, keys stable and in this order)::

    {
      "format": "motcua-workflow", "format_version": 1,
      "procedure": "1.001193", "procedure_version": 2,      # informational on import
      "unit": null | {"name": "Thành phố Vĩnh Yên", "statistical_code": "243"},   # informational
      "revision": 3,                                         # informational
      "name": "Quy trình cấp giấy chứng nhận …",
      "steps": [
        {"key": "tiep-nhan", "name": "Thụ lý", "order": 1, "kind": "task" | "consultation" | "result" | "refusal",
         "start": false,
         "holder": "fixed" | "receiving" | "competent" | "level" | "form_field",
         "agency": "000.21.31.H62",   # fixed: the agency; level: optional line agency (it or its branches)
         "level": "district",         # level: the administrative level code above the receiving agency
         "form_field": "",            # form_field: the form field that holds an agency code
         "department": "mot-cua",     # optional department code inside the agency
         "role": "specialist", "budget_sessions": 2,
         "assignment": "queue" | "round_robin" | "least_loaded",
         "quorum": 0,                 # consultation: answers needed (0 = all)
         "consult": [{"holder": …, "agency": …, "level": …, "form_field": …, "department": …, "role": …,
                      "budget_sessions": null}]}
      ],
      "transitions": [
        {"key": "chuyen-huyen", "from": "tiep-nhan", "to": "tham-dinh",
         "action": "forward" | "return" | "approve" | "reject" | "request_supplement" | "transfer",
         "label": "Chuyển Chi nhánh VPĐKĐĐ", "role": "specialist", "condition": "form.dien_tich > 300",
         "requires_reason": false, "requires_signature": false, "requires_attachment": false, "order": 1}
      ]
    }

Agencies and levels are named by their codes, so a file moves between installations. Import
checks everything (shape, graph, budgets, condition language, agencies, levels, departments,
form fields) and either writes the whole workflow as a new revision or nothing.
"""

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from motcua.catalog.models import ProcedureVersion
from motcua.org import selectors as org_selectors
from motcua.org.models import AdministrativeUnit, User
from motcua.workflow import definitions, services
from motcua.workflow.graph import Problem
from motcua.workflow.models import Workflow

MAX_FILE_BYTES = 1024 * 1024


def export_data(workflow: Workflow) -> dict[str, Any]:
    """The workflow as stored at its last validated revision, with where it comes from."""
    body = workflow.definition or definitions.data_from_rows(workflow)
    version = workflow.procedure_version
    unit = workflow.unit
    return {
        "format": body.get("format"),
        "format_version": body.get("format_version"),
        "procedure": version.procedure.code,
        "procedure_version": version.number,
        "unit": {"name": unit.name, "statistical_code": unit.statistical_code} if unit else None,
        "revision": workflow.revision,
        "name": body.get("name", workflow.name),
        "steps": body.get("steps", []),
        "transitions": body.get("transitions", []),
    }


def export_json(workflow: Workflow) -> str:
    return json.dumps(export_data(workflow), ensure_ascii=False, indent=2)


def read_json(content: bytes | str) -> Any:
    """Parse an uploaded file; DefinitionInvalid (nothing else) for a file that is not JSON."""
    if isinstance(content, bytes):
        if len(content) > MAX_FILE_BYTES:
            raise services.DefinitionInvalid([Problem("too_large", "", {"max": MAX_FILE_BYTES // 1024})])
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise services.DefinitionInvalid([Problem("encoding", "")]) from None
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        raise services.DefinitionInvalid([Problem("json", "", {"line": exc.lineno, "column": exc.colno})]) from None


def can_manage(user: User, unit: AdministrativeUnit | None) -> bool:
    """Province-wide workflows: the system administrator; a unit's: administrators whose scope holds it."""
    if org_selectors.is_system_admin(user):
        return True
    return unit is not None and org_selectors.is_unit_admin(user) and org_selectors.unit_in_scope(user, unit)


def _require_manager(user: User | None, unit: AdministrativeUnit | None) -> None:
    if user is not None and not can_manage(user, unit):
        raise PermissionDenied(
            _("Only the system administrator changes province-wide workflows; unit administrators change their units'.")
        )


def import_workflow(
    data: Any, version: ProcedureVersion, unit: AdministrativeUnit | None = None, *, by: User | None = None
) -> Workflow:
    """Create or replace the workflow of ``version`` for ``unit`` from a definition (dict, or JSON text/bytes)."""
    _require_manager(by, unit)
    if isinstance(data, bytes | str):
        data = read_json(data)
    return services.replace_definition(version, unit, data, by=by)


def copy_to_unit(workflow: Workflow, unit: AdministrativeUnit, *, by: User | None = None) -> Workflow:
    """The unit's own copy of a (province-wide) workflow, to adapt; replaces the unit's previous one."""
    _require_manager(by, unit)
    return services.replace_definition(
        workflow.procedure_version, unit, export_data(workflow), by=by, copied_from=workflow
    )


def copy_to_version(workflow: Workflow, version: ProcedureVersion, *, by: User | None = None) -> Workflow:
    """Carry a workflow over to a new version of its procedure (checked against the new version's time and form)."""
    _require_manager(by, workflow.unit)
    return services.replace_definition(version, workflow.unit, export_data(workflow), by=by, copied_from=workflow)
