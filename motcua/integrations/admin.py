"""Desk pages of the integrations: the national portal connection, sync states, outbox, dead letters,
inbound dossiers, catalogue differences to review, and the scheduled jobs.

Configuration and decisions (replay, accept a catalogue change, run a job now) belong to the
province's system administrator; monitors and unit administrators look, each within their scope
(a dossier's sync rows follow ``dossiers_visible_to``). Anything that calls the portal is
*queued* as a task, never run inside the request (invariant 6): the page says so and the job
list shows the outcome.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action, display

from motcua import schedule
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.integrations import tasks
from motcua.integrations.models import (
    JobRun,
    NationalDeadLetter,
    NationalDossierLink,
    NationalInboundLog,
    NationalPortalConfig,
    NationalProcedureChange,
    NationalStatusCode,
    NationalSyncItem,
    ScheduledJob,
    SyncState,
)
from motcua.integrations.national import selectors, services
from motcua.org.admin_scope import VIEW_ROLES, ScopedModelAdmin, ScopedTabularInline, has_any_role
from motcua.org.models import Role

PROVINCE_ROLES = (Role.SYSTEM_ADMIN,)
STATE_COLOURS = {
    SyncState.PENDING: "info",
    SyncState.SENT: "info",
    SyncState.ACKNOWLEDGED: "success",
    SyncState.FAILED: "warning",
    SyncState.DEAD: "danger",
    SyncState.SKIPPED: "",
}
OUTCOME_COLOURS = {
    ScheduledJob.Outcome.RUNNING: "info",
    ScheduledJob.Outcome.SUCCEEDED: "success",
    ScheduledJob.Outcome.FAILED: "danger",
    ScheduledJob.Outcome.INTERRUPTED: "warning",
    "never": "info",
}


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _confirm(model_admin, request: HttpRequest, title: str, message: str, button: str, obj, cancel_url: str):
    """The catalogue's confirmation page: a GET shows it, its POST does the work."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "message": message,
        "button": button,
        "object": obj,
        "cancel_url": cancel_url,
    }
    return TemplateResponse(request, "admin/catalog/confirm_action.html", context)


def _queue(request: HttpRequest, model_admin, task, label: str) -> None:
    """Enqueue a job to run now (by hand); its outcome appears with the scheduled jobs."""
    task.enqueue(manual=True)
    model_admin.message_user(
        request,
        gettext("“%(job)s” is queued; its outcome will appear under Scheduled jobs.") % {"job": label},
        messages.SUCCESS,
    )


# --- the connection --------------------------------------------------------------------------------


class StatusCodeInline(ScopedTabularInline):
    model = NationalStatusCode
    manage_roles = PROVINCE_ROLES
    fields = ["status", "code", "confirmed", "note"]
    readonly_fields = ["status"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ConfigForm(forms.ModelForm):
    class Meta:
        model = NationalPortalConfig
        fields = ["enabled"]  # the admin passes the fields of its fieldsets

    def _post_clean(self) -> None:
        super()._post_clean()  # the values are now on self.instance
        for name, problems in services.config_errors(self.instance).items():
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)


@admin.register(NationalPortalConfig)
class NationalPortalConfigAdmin(ScopedModelAdmin):
    form = ConfigForm
    manage_roles = PROVINCE_ROLES
    view_roles = PROVINCE_ROLES
    inlines = [StatusCodeInline]
    readonly_fields = ["credentials_status", "outbox_summary", "updated_at"]
    fieldsets = [
        (None, {"fields": ["enabled", "outbox_summary"]}),
        (
            _("Connection"),
            {"fields": ["base_url", "auth_mode", "auth_path", "token_url", "oauth_scope", "unit_code"]},
        ),
        (
            _("Credentials (environment variables, never stored here)"),
            {
                "fields": [
                    "credentials_status",
                    "username_env",
                    "password_env",
                    "client_id_env",
                    "client_secret_env",
                    "bearer_token_env",
                    "inbound_token_env",
                ]
            },
        ),
        (
            _("Operations"),
            {
                "fields": [
                    "integration_path",
                    "share_path",
                    "service_sync_dossiers",
                    "service_push_progress",
                    "service_find_dossier",
                    "service_get_procedure",
                    "service_list_procedures",
                    "service_fetch_inbox",
                    "idempotency_field",
                    "success_codes",
                    "auth_error_codes",
                    "field_overrides",
                    "inbound_fields",
                ]
            },
        ),
        (
            _("Delivery"),
            {
                "fields": [
                    "connect_timeout",
                    "read_timeout",
                    "batch_size",
                    "max_attempts",
                    "retry_base_seconds",
                    "retry_max_seconds",
                    "lease_seconds",
                    "sync_since",
                ]
            },
        ),
        (_("Dossiers from the national portal"), {"fields": ["default_receiving_agency", "updated_at"]}),
    ]
    actions_detail = ["check_connection", "send_now", "fetch_now", "refresh_catalogue_now"]

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_run_permission(self, request: HttpRequest, object_id=None) -> bool:
        return has_any_role(request.user, PROVINCE_ROLES)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        config = services.get_config()
        return HttpResponseRedirect(reverse("admin:integrations_nationalportalconfig_change", args=[config.pk]))

    @admin.display(description=_("credentials in the environment"))
    def credentials_status(self, obj: NationalPortalConfig) -> str:
        missing = services.missing_credentials(obj)
        if missing:
            return gettext("Missing: %(names)s") % {"names": ", ".join(missing)}
        return gettext("All set for “%(mode)s”.") % {"mode": obj.get_auth_mode_display()}

    @admin.display(description=_("outbox"))
    def outbox_summary(self, obj: NationalPortalConfig) -> str:
        counts = selectors.outbox_totals()
        return ", ".join(f"{SyncState(state).label}: {count}" for state, count in counts.items() if count) or "—"

    def save_model(self, request: HttpRequest, obj: NationalPortalConfig, form, change: bool) -> None:
        services.save_config(obj, actor=request.user)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        for row in formset.save(commit=False):
            services.save_status_code(row, actor=request.user)

    def _run(self, request: HttpRequest, object_id: str, task, label: str, message: str):
        url = reverse("admin:integrations_nationalportalconfig_change", args=[object_id])
        if request.method != "POST":
            return _confirm(self, request, label, message, label, services.get_config(), url)
        _queue(request, self, task, label)
        return HttpResponseRedirect(url)

    @action(description=_("Test the connection"), url_path="check", icon="lan", permissions=["run"])
    def check_connection(self, request: HttpRequest, object_id: str):
        return self._run(
            request,
            object_id,
            tasks.national_check_connection,
            gettext("Test the connection"),
            gettext("Log in to the national portal afresh with the credentials of the environment."),
        )

    @action(description=_("Send now"), url_path="send", icon="upload", permissions=["run"])
    def send_now(self, request: HttpRequest, object_id: str):
        return self._run(
            request,
            object_id,
            tasks.national_sync_send,
            gettext("Send now"),
            gettext("Deliver the waiting dossier events now instead of at the next minute."),
        )

    @action(description=_("Fetch dossiers now"), url_path="fetch", icon="download", permissions=["run"])
    def fetch_now(self, request: HttpRequest, object_id: str):
        return self._run(
            request,
            object_id,
            tasks.national_inbox_fetch,
            gettext("Fetch dossiers now"),
            gettext("Fetch the dossiers submitted on the national portal into the online queue."),
        )

    @action(description=_("Compare the catalogue"), url_path="catalogue", icon="compare", permissions=["run"])
    def refresh_catalogue_now(self, request: HttpRequest, object_id: str):
        return self._run(
            request,
            object_id,
            tasks.national_catalogue_refresh,
            gettext("Compare the catalogue"),
            gettext(
                "Fetch the national procedure database and list the new and changed procedures for review; "
                "nothing is changed until you accept."
            ),
        )


# --- sync state and outbox ------------------------------------------------------------------------


class DossierScopedAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Rows of a dossier: visible to whoever may see the dossier."""

    view_roles = (*VIEW_ROLES, Role.CLERK, Role.LEADER)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(dossier__in=dossiers_visible_to(request.user))


@admin.register(NationalDossierLink)
class NationalDossierLinkAdmin(DossierScopedAdmin):
    list_display = ["dossier", "remote_code", "origin", "state_badge", "short_error", "last_acknowledged_at"]
    list_filter = ["sync_state", "origin"]
    search_fields = ["national_code", "dossier__code", "dossier__search_text"]
    list_select_related = ["dossier"]
    fields = [
        "dossier",
        "origin",
        "national_code",
        "remote_created",
        "sync_state",
        "last_error",
        "last_acknowledged_at",
        "events",
        "payload",
    ]
    readonly_fields = fields

    @admin.display(description=_("events and their delivery"))
    def events(self, obj: NationalDossierLink):
        items = NationalSyncItem.objects.filter(dossier_id=obj.dossier_id).select_related("event").order_by("event_id")
        rows = [
            (
                item.event.at.strftime("%d/%m/%Y %H:%M"),
                item.event.get_action_display(),
                item.get_state_display(),
                item.failures,
                item.attempts,
                item.last_error[:200] or item.note,
            )
            for item in items
        ]
        body = format_html_join(
            "",
            "<tr><td class='pr-4'>{}</td><td class='pr-4'>{}</td><td class='pr-4'>{}</td>"
            "<td class='pr-4'>{}</td><td class='pr-4'>{}</td><td>{}</td></tr>",
            rows,
        )
        return format_html(
            "<table><tr><th class='pr-4'>{}</th><th class='pr-4'>{}</th><th class='pr-4'>{}</th>"
            "<th class='pr-4'>{}</th><th class='pr-4'>{}</th><th>{}</th></tr>{}</table>",
            gettext("at"),
            gettext("event"),
            gettext("state"),
            gettext("failed deliveries"),
            gettext("refusals"),
            gettext("last error"),
            body,
        )

    @display(description=_("sync state"), ordering="sync_state", label=STATE_COLOURS)
    def state_badge(self, obj: NationalDossierLink):
        return obj.sync_state, obj.get_sync_state_display()

    @admin.display(description=_("national dossier code"))
    def remote_code(self, obj: NationalDossierLink) -> str:
        return obj.remote_code

    @admin.display(description=_("last error"))
    def short_error(self, obj: NationalDossierLink) -> str:
        return obj.last_error[:160]


@admin.register(NationalSyncItem)
class NationalSyncItemAdmin(DossierScopedAdmin):
    list_display = ["idempotency_key", "dossier", "action", "state_badge", "failures", "attempts", "due_at"]
    list_filter = ["state", "last_error_kind"]
    search_fields = ["idempotency_key", "dossier__code", "dossier__national_link__national_code"]
    list_select_related = ["dossier", "event"]
    readonly_fields = [
        "event",
        "dossier",
        "state",
        "due_at",
        "attempts",
        "failures",
        "idempotency_key",
        "claimed_by",
        "last_error",
        "last_error_kind",
        "note",
        "replays",
        "replayed_by",
        "created_at",
        "sent_at",
        "acknowledged_at",
    ]
    fields = readonly_fields

    @display(description=_("state"), ordering="state", label=STATE_COLOURS)
    def state_badge(self, obj: NationalSyncItem):
        return obj.state, obj.get_state_display()

    @admin.display(description=_("event"))
    def action(self, obj: NationalSyncItem) -> str:
        return f"{obj.event.get_action_display()} ({obj.event.get_to_status_display()})"


@admin.register(NationalDeadLetter)
class NationalDeadLetterAdmin(NationalSyncItemAdmin):
    """The dead-letter list: the portal's message, and replay one by one, selected, or all."""

    list_display = ["idempotency_key", "dossier", "action", "attempts", "last_error", "replays", "sent_at"]
    list_filter = ["last_error_kind"]
    actions = ["replay_selected"]
    actions_detail = ["replay_one"]
    actions_list = ["replay_everything"]

    def has_replay_permission(self, request: HttpRequest, object_id=None) -> bool:
        return has_any_role(request.user, PROVINCE_ROLES)

    def _replay(self, request: HttpRequest, items) -> None:
        count = services.replay(items, actor=request.user)
        self.message_user(
            request,
            gettext("%(count)s events are back in the outbox and will be sent within a minute.") % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Replay the selected events"), permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset) -> None:
        self._replay(request, queryset)

    @action(description=_("Replay"), url_path="replay", icon="replay", permissions=["replay"])
    def replay_one(self, request: HttpRequest, object_id: str):
        item = self.get_queryset(request).filter(pk=object_id).first()
        changelist = reverse("admin:integrations_nationaldeadletter_changelist")
        if item is None:
            return HttpResponseRedirect(changelist)
        if request.method != "POST":
            return _confirm(
                self,
                request,
                gettext("Replay this event"),
                gettext("Send it again (its tries are counted afresh). Fix the data or the configuration first."),
                gettext("Replay"),
                item,
                reverse("admin:integrations_nationaldeadletter_change", args=[item.pk]),
            )
        self._replay(request, [item])
        return HttpResponseRedirect(changelist)

    @action(description=_("Replay all"), url_path="replay-all", icon="replay", permissions=["replay"])
    def replay_everything(self, request: HttpRequest):
        changelist = reverse("admin:integrations_nationaldeadletter_changelist")
        items = self.get_queryset(request)
        if request.method != "POST":
            return _confirm(
                self,
                request,
                gettext("Replay the whole dead-letter list"),
                gettext("%(count)s events will be sent again.") % {"count": items.count()},
                gettext("Replay all"),
                "",
                changelist,
            )
        self._replay(request, items)
        return HttpResponseRedirect(changelist)


@admin.register(NationalInboundLog)
class NationalInboundLogAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ["received_at", "national_code", "channel", "outcome_badge", "message", "dossier"]
    list_filter = ["outcome", "channel"]
    search_fields = ["national_code"]
    fields = ["received_at", "channel", "national_code", "outcome", "message", "dossier", "payload"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Refused messages have no dossier: only the province's administrators see them.
        queryset = super().get_queryset(request)
        if has_any_role(request.user, PROVINCE_ROLES):
            return queryset
        return queryset.filter(dossier__in=dossiers_visible_to(request.user))

    @display(
        description=_("outcome"),
        ordering="outcome",
        label={"accepted": "success", "duplicate": "info", "refused": "danger"},
    )
    def outcome_badge(self, obj: NationalInboundLog):
        return obj.outcome, obj.get_outcome_display()


# --- catalogue differences ------------------------------------------------------------------------


@admin.register(NationalProcedureChange)
class NationalProcedureChangeAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ["code", "kind", "state", "current_name", "proposed_name", "detected_at"]
    list_filter = ["state", "kind"]
    search_fields = ["code"]
    fields = ["code", "kind", "state", "difference", "detected_at", "decided_at", "decided_by", "outcome_message"]
    readonly_fields = fields
    actions = ["accept_selected", "reject_selected"]
    actions_detail = ["accept_one", "reject_one"]

    def has_decide_permission(self, request: HttpRequest, object_id=None) -> bool:
        return has_any_role(request.user, PROVINCE_ROLES)

    @admin.display(description=_("our name"))
    def current_name(self, obj: NationalProcedureChange) -> str:
        return obj.current.get("name", "—")

    @admin.display(description=_("national name"))
    def proposed_name(self, obj: NationalProcedureChange) -> str:
        return obj.proposed.get("name", "")

    @admin.display(description=_("difference"))
    def difference(self, obj: NationalProcedureChange):
        labels = {"name": gettext("name"), "field_code": gettext("field code"), "field_name": gettext("field")}
        rows = [
            (labels.get(key, key), obj.current.get(key, "—"), value, "★" if obj.current.get(key, "") != value else "")
            for key, value in obj.proposed.items()
        ]
        body = format_html_join(
            "", "<tr><th class='pr-4'>{}</th><td class='pr-4'>{}</td><td class='pr-4'>{}</td><td>{}</td></tr>", rows
        )
        return format_html(
            "<table><tr><th></th><th class='pr-4'>{}</th><th class='pr-4'>{}</th><th></th></tr>{}</table>",
            gettext("our catalogue"),
            gettext("national database"),
            body,
        )

    def _decide(self, request: HttpRequest, changes, accept: bool) -> None:
        for change in changes:
            try:
                if accept:
                    message = services.accept_change(change, actor=request.user)
                    self.message_user(request, f"{change.code}: {message}", messages.SUCCESS)
                else:
                    services.reject_change(change, actor=request.user)
                    self.message_user(request, gettext("%(code)s: rejected.") % {"code": change.code})
            except ValidationError as exc:
                self.message_user(request, f"{change.code}: {' '.join(exc.messages)}", messages.ERROR)

    @admin.action(description=_("Accept the selected changes"), permissions=["decide"])
    def accept_selected(self, request: HttpRequest, queryset) -> None:
        self._decide(request, queryset, accept=True)

    @admin.action(description=_("Reject the selected changes"), permissions=["decide"])
    def reject_selected(self, request: HttpRequest, queryset) -> None:
        self._decide(request, queryset, accept=False)

    def _one(self, request: HttpRequest, object_id: str, accept: bool):
        change = self.get_queryset(request).filter(pk=object_id).first()
        url = reverse("admin:integrations_nationalprocedurechange_changelist")
        if change is None:
            return HttpResponseRedirect(url)
        if request.method != "POST":
            return _confirm(
                self,
                request,
                gettext("Accept this change") if accept else gettext("Reject this change"),
                gettext("The catalogue gets a new version with the national name and field (a draft if new).")
                if accept
                else gettext("The catalogue stays as it is; the same difference will not be proposed again."),
                gettext("Accept") if accept else gettext("Reject"),
                change,
                reverse("admin:integrations_nationalprocedurechange_change", args=[change.pk]),
            )
        self._decide(request, [change], accept)
        return HttpResponseRedirect(url)

    @action(description=_("Accept"), url_path="accept", icon="check", permissions=["decide"])
    def accept_one(self, request: HttpRequest, object_id: str):
        return self._one(request, object_id, accept=True)

    @action(description=_("Reject"), url_path="reject", icon="close", permissions=["decide"])
    def reject_one(self, request: HttpRequest, object_id: str):
        return self._one(request, object_id, accept=False)


# --- scheduled jobs -------------------------------------------------------------------------------


class JobRunInline(ReadOnlyMixin, ScopedTabularInline):
    model = JobRun
    fields = ["slot", "manual", "started_at", "finished_at", "outcome", "message", "duplicates", "worker"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    ordering = ["-started_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-started_at")


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ["name", "title", "schedule", "last_started_at", "outcome_badge", "last_message"]
    fields = ["name", "title", "schedule", "task_path", "last_started_at", "last_finished_at", "last_outcome"]
    readonly_fields = fields
    inlines = [JobRunInline]
    actions = ["run_selected"]

    def has_run_permission(self, request: HttpRequest, object_id=None) -> bool:
        return has_any_role(request.user, PROVINCE_ROLES)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if self.has_view_permission(request):
            schedule.sync_jobs()
        return super().changelist_view(request, extra_context)

    @display(description=_("last outcome"), ordering="last_outcome", label=OUTCOME_COLOURS)
    def outcome_badge(self, obj: ScheduledJob):
        if not obj.last_outcome:
            return "never", gettext("never run")
        return obj.last_outcome, obj.get_last_outcome_display()

    @admin.action(description=_("Run the selected jobs now"), permissions=["run"])
    def run_selected(self, request: HttpRequest, queryset) -> None:
        from django.utils.module_loading import import_string

        for job in queryset:
            if not job.task_path:
                continue
            _queue(request, self, import_string(job.task_path), job.title or job.name)


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ["job", "slot", "manual", "started_at", "finished_at", "outcome_badge", "message", "duplicates"]
    list_filter = ["outcome", "job", "manual"]
    list_select_related = ["job"]
    fields = ["job", "slot", "manual", "started_at", "finished_at", "outcome", "message", "worker", "duplicates"]
    readonly_fields = fields

    @display(description=_("outcome"), ordering="outcome", label=OUTCOME_COLOURS)
    def outcome_badge(self, obj: JobRun):
        return obj.outcome, obj.get_outcome_display()
