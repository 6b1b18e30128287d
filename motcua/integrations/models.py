"""Integrations: the national portal (DVCQG) connection, its outbox and inbox, and scheduled jobs.

National portal (``National*``): one configuration row edited by the province administrator
(secrets stay in environment variables; only their *names* are stored), its status-code table,
one sync item per dossier event that the portal must know (the outbox's delivery state — the
event itself stays in the append-only ``DossierEvent`` log, invariant 1), one link per dossier
(its sync state and, for dossiers that came from the portal, the national code), the log of
inbound dossiers and the catalogue differences waiting for the administrator.

Scheduled jobs (``ScheduledJob``/``JobRun``): what ``motcua.schedule`` registers and every run
with its outcome; the unique (job, slot) pair is what stops two schedulers running a job twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.integrations.national import client as national_client
from motcua.org.models import Agency


class AuthMode(models.TextChoices):
    SESSION = national_client.SESSION_LOGIN, _("Login; session in the request body")
    OAUTH2 = national_client.OAUTH2, _("OAuth2 client credentials (bearer token)")
    BEARER = national_client.STATIC_BEARER, _("Static bearer token")
    NONE = national_client.NO_AUTH, _("None (IP allow-list)")


class NationalPortalConfig(models.Model):
    """The connection to the national portal through the provincial platform (one row, pk=1).

    Every name the reference marks UNCONFIRMED (integrations.md §1) is a field here, with the
    names seen in public code as defaults. Credentials are read from the environment variables
    named below when a call is made; the database never holds them.
    """

    enabled = models.BooleanField(
        _("synchronisation on"), default=False, help_text=_("Off: nothing is sent or fetched.")
    )
    base_url = models.URLField(
        _("base URL"), blank=True, help_text=_("Address of the provincial integration platform (adapter_url).")
    )
    auth_mode = models.CharField(_("authentication"), max_length=10, choices=AuthMode.choices, default=AuthMode.SESSION)
    auth_path = models.CharField(_("login path"), max_length=200, default="/auth/login")
    token_url = models.CharField(
        _("OAuth2 token URL"), max_length=300, default="/oauth2/token", help_text=_("A path or a full URL.")
    )
    oauth_scope = models.CharField(_("OAuth2 scope"), max_length=200, blank=True)
    integration_path = models.CharField(_("integration path"), max_length=200, default="/integration")
    share_path = models.CharField(_("catalogue (share) path"), max_length=200, default="/share")
    username_env = models.CharField(
        _("environment variable of the user name"), max_length=100, default="MOTCUA_NATIONAL_USERNAME"
    )
    password_env = models.CharField(
        _("environment variable of the password"), max_length=100, default="MOTCUA_NATIONAL_PASSWORD"
    )
    client_id_env = models.CharField(
        _("environment variable of the OAuth2 client id"), max_length=100, default="MOTCUA_NATIONAL_CLIENT_ID"
    )
    client_secret_env = models.CharField(
        _("environment variable of the OAuth2 client secret"), max_length=100, default="MOTCUA_NATIONAL_CLIENT_SECRET"
    )
    bearer_token_env = models.CharField(
        _("environment variable of the static token"), max_length=100, default="MOTCUA_NATIONAL_TOKEN"
    )
    inbound_token_env = models.CharField(
        _("environment variable of the inbound token"),
        max_length=100,
        default="MOTCUA_NATIONAL_INBOUND_TOKEN",
        help_text=_("The portal sends dossiers to /api/v1/national/dossiers with “Authorization: Bearer <token>”."),
    )
    unit_code = models.CharField(
        _("unit code (madonvi)"), max_length=50, blank=True, help_text=_("Our unit's code at the national portal.")
    )
    service_sync_dossiers = models.CharField(_("operation: sync a dossier"), max_length=100, default="DongBoHoSoMC")
    service_push_progress = models.CharField(
        _("operation: update progress"), max_length=100, default="CapNhatTienDoHoSoMC"
    )
    service_find_dossier = models.CharField(_("operation: look a dossier up"), max_length=100, default="TraCuuHoSo")
    service_get_procedure = models.CharField(_("operation: fetch a procedure"), max_length=100, default="LayThuTuc")
    service_list_procedures = models.CharField(
        _("operation: list procedures"), max_length=100, default="LayDanhSachTTHC", help_text=_("Unconfirmed name.")
    )
    service_fetch_inbox = models.CharField(
        _("operation: fetch submitted dossiers"),
        max_length=100,
        default="LayDanhSachHoSoMoi",
        help_text=_("Unconfirmed name: ask the platform operator."),
    )
    idempotency_field = models.CharField(
        _("idempotency key field"),
        max_length=50,
        default="IdempotencyKey",
        blank=True,
        help_text=_("Added to every item sent (not in the published field list; empty to leave it out)."),
    )
    success_codes = models.CharField(
        _("success codes"), max_length=100, default="0,00", help_text=_("error_code values meaning success.")
    )
    auth_error_codes = models.CharField(
        _("authentication error codes"),
        max_length=100,
        default="401",
        help_text=_("error_code values meaning the session expired (we log in again once)."),
    )
    field_overrides = models.JSONField(
        _("field-name overrides"),
        default=dict,
        blank=True,
        help_text=_('Our canonical field name → the province\'s name, e.g. {"MaHoSo": "SoHoSo"}.'),
    )
    inbound_fields = models.JSONField(
        _("inbound field names"),
        default=dict,
        blank=True,
        help_text=_('Overrides of the field names read from inbound dossiers, e.g. {"agency_code": "MaDonVi"}.'),
    )
    connect_timeout = models.FloatField(_("connect timeout (s)"), default=5.0)
    read_timeout = models.FloatField(_("read timeout (s)"), default=30.0)
    batch_size = models.PositiveIntegerField(_("batch size"), default=50)
    max_attempts = models.PositiveIntegerField(
        _("tries before the dead-letter list"),
        default=8,
        help_text=_("Refusals by the portal; an unreachable portal is retried without limit."),
    )
    retry_base_seconds = models.FloatField(_("first retry after (s)"), default=10.0)
    retry_max_seconds = models.FloatField(_("longest wait between retries (s)"), default=900.0)
    lease_seconds = models.PositiveIntegerField(
        _("claim lease (s)"), default=120, help_text=_("Items claimed by a worker that died are taken over after it.")
    )
    sync_since = models.DateTimeField(
        _("send events from"),
        null=True,
        blank=True,
        help_text=_("Events before this moment are not sent (empty: all)."),
    )
    default_receiving_agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("default receiving agency"),
        help_text=_("Receives national dossiers that name no agency of ours."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("national portal connection")
        verbose_name_plural = _("national portal connection")

    def __str__(self) -> str:
        return str(_("National portal connection"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)


class NationalStatusCode(models.Model):
    """Our lifecycle status → the national status code (§1.5); an empty code is never sent."""

    config = models.ForeignKey(
        NationalPortalConfig, on_delete=models.CASCADE, related_name="status_codes", verbose_name=_("connection")
    )
    status = models.CharField(_("our status"), max_length=30, choices=Status.choices)
    code = models.CharField(_("national code"), max_length=10, blank=True, help_text=_("Empty: not sent."))
    confirmed = models.BooleanField(
        _("confirmed"), default=False, help_text=_("Checked against the province's platform specification.")
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["config", "pk"]
        verbose_name = _("national status code")
        verbose_name_plural = _("national status codes")
        constraints = [models.UniqueConstraint(fields=["config", "status"], name="integrations_status_code_unique")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} → {self.code or '—'}"


class NationalSyncCursor(models.Model):
    """Where the outbox scan and the inbox fetch stand (one row, pk=1; not configuration)."""

    outbox_floor = models.BigIntegerField(default=0)
    outbox_candidate = models.BigIntegerField(default=0)
    outbox_candidate_at = models.DateTimeField(null=True, blank=True)
    inbox_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("national sync cursor")
        verbose_name_plural = _("national sync cursors")

    def __str__(self) -> str:
        return f"outbox ≥ {self.outbox_floor}"


class SyncState(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    FAILED = "failed", _("failed, will retry")
    DEAD = "dead", _("failed, in the dead-letter list")
    SKIPPED = "skipped", _("not sent")


class NationalDossierLink(models.Model):
    """A dossier as the national portal knows it: its code there, whether it exists there, its sync state."""

    class Origin(models.TextChoices):
        LOCAL = "local", _("received here")
        NATIONAL = "national", _("submitted on the national portal")

    dossier = models.OneToOneField(
        Dossier, on_delete=models.PROTECT, related_name="national_link", verbose_name=_("dossier")
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.LOCAL)
    national_code = models.CharField(
        _("national dossier code"),
        max_length=60,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The code the national portal gave; the dossier is known there by it."),
    )
    remote_created = models.BooleanField(_("exists on the portal"), default=False)
    sync_state = models.CharField(_("sync state"), max_length=15, choices=SyncState.choices, default=SyncState.PENDING)
    last_error = models.TextField(_("last error"), blank=True)
    last_acknowledged_at = models.DateTimeField(_("last acknowledged at"), null=True, blank=True)
    payload = models.JSONField(_("message received"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("dossier sync state")
        verbose_name_plural = _("dossier sync states")
        indexes = [models.Index(fields=["sync_state"], name="integrations_link_state_idx")]

    def __str__(self) -> str:
        return self.remote_code or str(self.dossier)

    @property
    def remote_code(self) -> str:
        """MaHoSo: the national code of a dossier that came from the portal, else our code."""
        return self.national_code or self.dossier.code or ""


class NationalSyncItem(models.Model):
    """The delivery of one dossier event to the national portal (the outbox row).

    ``due_at`` is when the item may be (re)tried: now for a pending item, after the backoff for
    a failed one, at the end of the lease for a sent one whose worker never reported back.
    """

    event = models.OneToOneField(
        DossierEvent, on_delete=models.PROTECT, related_name="national_sync", verbose_name=_("event")
    )
    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, related_name="national_sync_items", verbose_name=_("dossier")
    )
    state = models.CharField(_("state"), max_length=15, choices=SyncState.choices, default=SyncState.PENDING)
    due_at = models.DateTimeField(_("next try at"))
    attempts = models.PositiveIntegerField(_("refusals"), default=0)
    failures = models.PositiveIntegerField(_("failed deliveries"), default=0)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    claimed_by = models.CharField(_("worker"), max_length=100, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_kind = models.CharField(_("error kind"), max_length=15, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    replays = models.PositiveIntegerField(_("replays"), default=0)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("replayed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ["event_id"]
        verbose_name = _("national sync item")
        verbose_name_plural = _("national sync items")
        indexes = [
            models.Index(fields=["state", "due_at"], name="integrations_item_due_idx"),
            models.Index(fields=["dossier", "event"], name="integrations_item_order_idx"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class DeadLetterManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(state=SyncState.DEAD)


class NationalDeadLetter(NationalSyncItem):
    """The dead-letter list: items the portal refused ``max_attempts`` times, waiting for a replay."""

    objects = DeadLetterManager()

    class Meta:
        proxy = True
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead-letter list")


class NationalInboundLog(models.Model):
    """Every dossier the national portal sent or we fetched, with what became of it."""

    class Channel(models.TextChoices):
        PUSH = "push", _("sent to our endpoint")
        FETCH = "fetch", _("fetched by us")

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        DUPLICATE = "duplicate", _("duplicate")
        REFUSED = "refused", _("refused")

    received_at = models.DateTimeField(_("received at"), db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    national_code = models.CharField(_("national dossier code"), max_length=60, blank=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    message = models.TextField(_("message"), blank=True)
    dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("dossier")
    )
    payload = models.JSONField(_("message received"), default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("inbound national dossier")
        verbose_name_plural = _("inbound national dossiers")

    def __str__(self) -> str:
        return f"{self.national_code or '?'} – {self.get_outcome_display()}"


class NationalProcedureChange(models.Model):
    """A difference between the national procedure database and our catalogue, to accept or reject."""

    class Kind(models.TextChoices):
        NEW = "new", _("new procedure")
        CHANGED = "changed", _("changed procedure")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for review")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")
        SUPERSEDED = "superseded", _("superseded")

    code = models.CharField(_("procedure code"), max_length=20, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    current = models.JSONField(_("our catalogue"), default=dict, blank=True)
    proposed = models.JSONField(_("national database"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    detected_at = models.DateTimeField(_("detected at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    outcome_message = models.TextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["state", "code"]
        verbose_name = _("national catalogue change")
        verbose_name_plural = _("national catalogue changes")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(state="pending"), name="integrations_one_pending_change"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_kind_display()})"


class ScheduledJob(models.Model):
    """A periodic job of ``motcua.schedule`` with its last run, for the desk."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted")

    name = models.CharField(_("job"), max_length=100, unique=True)
    title = models.CharField(_("description"), max_length=255, blank=True)
    schedule = models.CharField(_("schedule (cron)"), max_length=100, blank=True)
    task_path = models.CharField(_("task"), max_length=255, blank=True)
    last_started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished at"), null=True, blank=True)
    last_outcome = models.CharField(_("last outcome"), max_length=15, choices=Outcome.choices, blank=True)
    last_message = models.TextField(_("last message"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.title or self.name


class JobRun(models.Model):
    """One run of a scheduled job. ``slot`` is the scheduled minute: only one run per slot."""

    job = models.ForeignKey(ScheduledJob, on_delete=models.CASCADE, related_name="runs", verbose_name=_("job"))
    slot = models.DateTimeField(_("scheduled for"))
    manual = models.BooleanField(_("started by hand"), default=False)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=15, choices=ScheduledJob.Outcome.choices, default=ScheduledJob.Outcome.RUNNING
    )
    message = models.TextField(_("message"), blank=True)
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    duplicates = models.PositiveIntegerField(
        _("duplicate starts refused"), default=0, help_text=_("Other schedulers that tried to run the same slot.")
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="integrations_jobrun_once_per_slot")]

    def __str__(self) -> str:
        return f"{self.job.name} {self.slot:%Y-%m-%d %H:%M}"
