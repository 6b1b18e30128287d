"""Desk pages of workflow definitions: a workflow with its steps and transitions, validated on save.

Scope: the system administrator edits every workflow; a unit administrator sees the province-wide
workflows (read-only, and can copy one to their unit with the "Copy to my unit" action) and edits
the workflows of the units in their subtree. Monitors look.

Validation on save: the step and transition formsets are read together (the transition formset's
``clean`` sees the step formset of the same request) and the whole definition is checked with
``definitions.check`` — graph, budgets against the procedure's time, condition language, agencies,
levels, departments and form fields. On any problem the page shows every message and nothing is
saved. After saving, ``services.save_revision`` checks the stored rows again inside the same
transaction and records the new revision (the JSON kept in history).

Consultation parties are edited on the step's own page (the "change" link of a saved step):
Django's admin has no nested inlines. The change page shows the saved definition as a diagram
(``diagram.render``: server-side SVG, no JavaScript).
"""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from motcua.org import selectors as org_selectors
from motcua.org.admin_scope import ScopedModelAdmin, ScopedTabularInline, has_any_role
from motcua.org.models import Agency
from motcua.workflow import definitions, diagram, services, transfer
from motcua.workflow import messages as workflow_messages
from motcua.workflow.models import ConsultationTarget, Step, Transition, Workflow


def _holder(cleaned: dict[str, Any]) -> dict[str, Any]:
    agency, level = cleaned.get("agency"), cleaned.get("level")
    return {
        "holder": cleaned.get("holder") or "fixed",
        "agency": agency.code if agency else "",
        "level": level.code if level else "",
        "form_field": cleaned.get("form_field") or "",
        "department": cleaned.get("department_code") or "",
        "role": cleaned.get("role") or "",
    }


def _step(cleaned: dict[str, Any], consult: list[dict]) -> dict[str, Any]:
    return {
        "key": cleaned.get("key") or "",
        "name": cleaned.get("name") or "",
        "order": cleaned.get("order") or 0,
        "kind": cleaned.get("kind") or "task",
        "start": bool(cleaned.get("is_start")),
        **_holder(cleaned),
        "budget_sessions": cleaned.get("budget_sessions") or 0,
        "assignment": cleaned.get("assignment") or "queue",
        "quorum": cleaned.get("quorum") or 0,
        "consult": consult,
    }


def _transition(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": cleaned.get("key") or "",
        "from": cleaned.get("from_step") or "",
        "to": cleaned.get("to_step") or "",
        "action": cleaned.get("action") or "",
        "label": cleaned.get("label") or "",
        "role": cleaned.get("role") or "",
        "condition": cleaned.get("condition") or "",
        "requires_reason": bool(cleaned.get("requires_reason")),
        "requires_signature": bool(cleaned.get("requires_signature")),
        "requires_attachment": bool(cleaned.get("requires_attachment")),
        "order": cleaned.get("order") or 0,
    }


def _kept(formset: BaseInlineFormSet) -> list[forms.Form]:
    """The forms that will be saved: valid, not deleted, and either stored already or filled in."""
    return [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None)
        and not form.cleaned_data.get("DELETE")
        and (form.instance.pk or form.has_changed())
    ]


HOLDER_FIELDS = ("holder", "agency", "level", "form_field", "department_code", "role")


def _consult_rows(step: Step) -> list[dict]:
    return [
        {**_holder({name: getattr(target, name) for name in HOLDER_FIELDS}), "budget_sessions": target.budget_sessions}
        for target in step.consult.select_related("agency", "level")
    ]


def _raise_problems(version, data: dict) -> None:
    if version is None:
        return
    _definition, problems = definitions.check(data, version)
    if problems:
        raise ValidationError(workflow_messages.problem_messages(problems))


class RequestFormSet(BaseInlineFormSet):
    request: HttpRequest | None = None


class StepFormSet(RequestFormSet):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.request is not None:
            self.request._workflow_steps = self


class TransitionFormSet(RequestFormSet):
    """Checks the whole definition: this formset's transitions with the steps formset of the same request."""

    def clean(self) -> None:
        super().clean()
        steps = getattr(self.request, "_workflow_steps", None)
        if steps is None or any(self.errors) or any(steps.errors) or steps.non_form_errors():
            return
        workflow = self.instance
        version = getattr(workflow, "procedure_version", None) if workflow.procedure_version_id else None
        data = {
            "name": workflow.name,
            "steps": [
                _step(form.cleaned_data, _consult_rows(form.instance) if form.instance.pk else [])
                for form in _kept(steps)
            ],
            "transitions": [_transition(form.cleaned_data) for form in _kept(self)],
        }
        _raise_problems(version, data)


class FreeAgencyMixin:
    """A step may be held by any agency (a commune's workflow routes to the province), not only those in scope."""

    def _limit(self, db_field, request: HttpRequest, kwargs: dict) -> dict:
        if db_field.related_model is Agency:
            kwargs.setdefault("queryset", Agency.objects.filter(is_active=True).select_related("unit"))
            return kwargs
        return super()._limit(db_field, request, kwargs)


class WorkflowChildInline(FreeAgencyMixin, ScopedTabularInline):
    extra = 0
    formset_class: type[RequestFormSet] = RequestFormSet

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        kwargs["formset"] = self.formset_class
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_edit(request, obj)


class StepInline(WorkflowChildInline):
    model = Step
    formset_class = StepFormSet
    show_change_link = True
    fields = [
        "order",
        "key",
        "name",
        "kind",
        "is_start",
        "holder",
        "agency",
        "level",
        "form_field",
        "department_code",
        "role",
        "budget_sessions",
        "assignment",
        "quorum",
    ]


class TransitionInline(WorkflowChildInline):
    model = Transition
    formset_class = TransitionFormSet
    fields = [
        "order",
        "key",
        "from_step",
        "to_step",
        "action",
        "label",
        "role",
        "condition",
        "requires_reason",
        "requires_signature",
        "requires_attachment",
    ]


def _may_edit(request: HttpRequest, workflow: Workflow | None) -> bool:
    user = request.user
    if not has_any_role(user, WorkflowAdmin.manage_roles):
        return False
    if workflow is None or workflow.pk is None:
        return True
    return transfer.can_manage(user, workflow.unit)


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = ["procedure_version", "unit", "name", "is_active"]

    def clean(self):
        cleaned = super().clean()
        user = getattr(self, "user", None)
        if user is not None and not org_selectors.is_system_admin(user) and not cleaned.get("unit"):
            self.add_error(
                "unit", gettext("Choose your unit: only the system administrator edits province-wide workflows.")
            )
        return cleaned


@admin.register(Workflow)
class WorkflowAdmin(ScopedModelAdmin):
    form = WorkflowForm
    scope_unit_field = "unit"
    list_display = ["name", "procedure_version", "unit_label", "revision", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "procedure_version__procedure__code", "procedure_version__name"]
    readonly_fields = ["revision", "copied_from", "updated_by", "updated_at", "diagram"]
    inlines = [StepInline, TransitionInline]
    actions = ["export_json", "copy_to_my_unit"]
    list_select_related = ["procedure_version__procedure", "unit"]
    autocomplete_fields: list[str] = []

    @admin.display(description=_("diagram"))
    def diagram(self, obj: Workflow) -> str:
        """The saved rows drawn as SVG (every text escaped by ``diagram.to_svg``)."""
        if obj is None or obj.pk is None:
            return gettext("The diagram appears once the workflow is saved.")
        svg = diagram.render(definitions.data_from_rows(obj), obj.name)
        if not svg:
            return gettext("No steps yet.")
        return format_html(
            '<div class="workflow-diagram-box" style="overflow:auto;max-width:100%">{}</div>', mark_safe(svg)
        )

    @admin.display(description=_("unit"))
    def unit_label(self, obj: Workflow) -> str:
        return obj.unit.name if obj.unit_id else gettext("Province-wide")

    def get_queryset(self, request: HttpRequest):
        qs = Workflow.objects.select_related("procedure_version__procedure", "unit")
        if org_selectors.is_system_admin(request.user):
            return qs
        return qs.filter(Q(unit__isnull=True) | org_selectors.scope_filter(request.user, "unit"))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_change_permission(request, obj) and (obj is None or not obj.runs.exists())

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Workflow, form, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Inside the admin's transaction: a problem here rolls everything back.
        services.save_revision(form.instance, by=request.user)

    @admin.action(description=_("Export as JSON"))
    def export_json(self, request: HttpRequest, queryset) -> HttpResponse | None:
        workflows = list(queryset)
        if len(workflows) == 1:
            workflow = workflows[0]
            response = HttpResponse(transfer.export_json(workflow), content_type="application/json; charset=utf-8")
            name = f"workflow-{workflow.procedure_version.procedure.code}-r{workflow.revision}.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        payload = json.dumps([transfer.export_data(w) for w in workflows], ensure_ascii=False, indent=2)
        response = HttpResponse(payload, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="workflows.json"'
        return response

    @admin.action(description=_("Copy to my unit"))
    def copy_to_my_unit(self, request: HttpRequest, queryset) -> None:
        unit = request.user.unit
        if unit is None or org_selectors.is_system_admin(request.user):
            self.message_user(
                request, gettext("Only a unit administrator copies a workflow to their unit."), messages.ERROR
            )
            return
        for workflow in queryset:
            try:
                copy = transfer.copy_to_unit(workflow, unit, by=request.user)
            except (services.DefinitionInvalid, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{workflow}: {text}", messages.ERROR)
                continue
            self.message_user(
                request,
                gettext("“%(name)s” copied to %(unit)s (revision %(revision)s).")
                % {"name": copy.name, "unit": unit.name, "revision": copy.revision},
                messages.SUCCESS,
            )


# --- a step's own page: its consultation parties ------------------------------------------------------


class TargetFormSet(RequestFormSet):
    """Checks the whole workflow with this step (from the page's main form) and its parties."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        step: Step = self.instance
        workflow = step.workflow
        original = Step.objects.filter(pk=step.pk).values_list("key", flat=True).first()
        form_values = {f.name: getattr(step, f.name) for f in Step._meta.fields}
        consult = [
            {**_holder(form.cleaned_data), "budget_sessions": form.cleaned_data.get("budget_sessions")}
            for form in _kept(self)
        ]
        data = definitions.data_from_rows(workflow)
        data["steps"] = [row for row in data["steps"] if row["key"] != original] + [_step(form_values, consult)]
        if original and original != step.key:
            for transition in data["transitions"]:
                transition["from"] = step.key if transition["from"] == original else transition["from"]
                transition["to"] = step.key if transition["to"] == original else transition["to"]
        data["steps"].sort(key=lambda row: row["order"])
        _raise_problems(workflow.procedure_version, data)


class TargetInline(FreeAgencyMixin, ScopedTabularInline):
    model = ConsultationTarget
    extra = 0
    fields = ["order", "holder", "agency", "level", "form_field", "department_code", "role", "budget_sessions"]

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        kwargs["formset"] = TargetFormSet
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is not None and _may_edit(request, obj.workflow)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is not None and _may_edit(request, obj.workflow)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_change_permission(request, obj)


@admin.register(Step)
class StepAdmin(FreeAgencyMixin, ScopedModelAdmin):
    """Reached from a workflow's step rows; not in the menu."""

    fields = [
        "workflow",
        "order",
        "key",
        "name",
        "kind",
        "is_start",
        "holder",
        "agency",
        "level",
        "form_field",
        "department_code",
        "role",
        "budget_sessions",
        "assignment",
        "quorum",
    ]
    readonly_fields = ["workflow"]
    inlines = [TargetInline]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # steps are added on the workflow's page

    def get_queryset(self, request: HttpRequest):
        qs = Step.objects.select_related("workflow__unit")
        if org_selectors.is_system_admin(request.user):
            return qs
        return qs.filter(Q(workflow__unit__isnull=True) | org_selectors.scope_filter(request.user, "workflow__unit"))

    def object_in_scope(self, request: HttpRequest, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or _may_edit(request, obj.workflow))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # on the workflow's page, where the transitions are checked with it

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.save_revision(form.instance.workflow, by=request.user)
