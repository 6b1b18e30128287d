"""Dossiers (hồ sơ), their documents, clock pauses, code sequences and the event log.

The services are the only code that changes these rows (invariant 1); every change also writes
a ``DossierEvent``, and the event log is append-only: it is the history (no simple-history here).
Overdue is never stored: it depends on "now", so it is computed (``Dossier.is_overdue`` and the
selectors' annotation). Timeliness of a *resolved* dossier is stored once, when it is resolved,
because the verdict of that moment must not change afterwards.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from motcua.catalog.models import DocumentComponent, ProcedureVersion
from motcua.dossiers.lifecycle import OPEN, PAUSED, Status
from motcua.org.models import Agency, Counter
from motcua.text import fold


class Channel(models.TextChoices):
    COUNTER = "counter", _("at the counter")
    ONLINE = "online", _("online")
    POST = "post", _("by post")


class ApplicantKind(models.TextChoices):
    PERSON = "person", _("person")
    ORGANISATION = "organisation", _("organisation")


class Timeliness(models.TextChoices):
    """Stored verdict of a resolved dossier (worktime.calendar.Timeliness, first three values)."""

    EARLY = "early", _("early")
    ON_TIME = "on_time", _("on time")
    LATE = "late", _("late")


class Dossier(models.Model):
    """One application for one procedure, from its receipt (or online submission) to the result."""

    code = models.CharField(
        _("dossier code"), max_length=50, unique=True, null=True, blank=True, help_text=_("Given when received.")
    )
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("procedure version")
    )
    status = models.CharField(_("status"), max_length=30, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.COUNTER)
    receiving_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="received_dossiers", verbose_name=_("receiving agency")
    )
    competent_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="competent_dossiers", verbose_name=_("competent agency")
    )
    counter = models.ForeignKey(
        Counter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("counter")
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("received by"),
    )

    applicant_kind = models.CharField(
        _("applicant kind"), max_length=12, choices=ApplicantKind.choices, default=ApplicantKind.PERSON
    )
    applicant_name = models.CharField(_("applicant's full name"), max_length=255)
    applicant_id_number = models.CharField(
        _("identification number"),
        max_length=20,
        blank=True,
        db_index=True,
        help_text=_("12-digit personal identification number, or the tax code of an organisation."),
    )
    applicant_birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    applicant_phone = models.CharField(_("phone"), max_length=15, blank=True, db_index=True)
    applicant_email = models.EmailField(_("e-mail"), blank=True)
    applicant_address = models.CharField(_("address"), max_length=500, blank=True)
    accepts_sms = models.BooleanField(_("accepts SMS notices"), default=False)
    accepts_zalo = models.BooleanField(_("accepts Zalo notices"), default=False)

    form_data = models.JSONField(_("form data"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, db_index=True)
    valid_receipt_at = models.DateTimeField(
        _("complete dossier received at"),
        null=True,
        blank=True,
        help_text=_("The time limit counts from the receipt of a complete, valid dossier."),
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, help_text=_("Empty for an immediate result."))
    paused_at = models.DateTimeField(
        _("clock paused at"), null=True, blank=True, editable=False, help_text=_("Set while waiting for a supplement.")
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("result returned at"), null=True, blank=True)
    timeliness = models.CharField(_("timeliness"), max_length=10, choices=Timeliness.choices, blank=True)

    search_text = models.TextField(editable=False, default="")
    # The counter intake's idempotency key (the counter form's hidden key, the API's Idempotency-Key):
    # a repeated submit by the same clerk answers this dossier instead of receiving a second one.
    intake_key = models.CharField(_("intake key"), max_length=100, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-created_at"]
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        constraints = [
            # Not check-then-insert: two concurrent repeats cannot both be saved.
            models.UniqueConstraint(
                fields=["received_by", "intake_key"],
                condition=models.Q(intake_key__isnull=False),
                name="dossiers_intake_key_unique",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="dossiers_status_due_idx"),
            models.Index(fields=["receiving_agency", "received_at"], name="dossiers_receiving_idx"),
            models.Index(fields=["competent_agency", "received_at"], name="dossiers_competent_idx"),
        ]

    def __str__(self) -> str:
        return self.code or _("(no code) %(name)s") % {"name": self.applicant_name}

    def save(self, *args, **kwargs) -> None:
        self.search_text = fold(
            " ".join(
                part
                for part in (self.applicant_name, self.code, self.applicant_id_number, self.applicant_phone)
                if part
            )
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text", "updated_at"}
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def is_paused(self) -> bool:
        return self.status in PAUSED

    @property
    def is_overdue(self) -> bool:
        """Open and past its due moment; a paused dossier only if it was already late when paused."""
        if self.status not in OPEN or self.due_at is None:
            return False
        reference = self.paused_at if self.status in PAUSED and self.paused_at else timezone.now()
        return reference > self.due_at


class DossierPause(models.Model):
    """A stop of the clock while waiting for the applicant's supplement (every interval is kept)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="pauses", verbose_name=_("dossier"))
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["dossier", "started_at"]
        verbose_name = _("clock pause")
        verbose_name_plural = _("clock pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"], condition=models.Q(ended_at__isnull=True), name="dossiers_one_open_pause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier} {self.started_at:%Y-%m-%d %H:%M}"


def dossier_upload_to(instance: "DossierDocument", filename: str) -> str:
    """``dossiers/<dossier id>/<our random name>``: nothing the applicant typed becomes a path."""
    return f"dossiers/{instance.dossier_id}/{filename}"


class DossierDocument(models.Model):
    """A document handed in: a component of the procedure (or an extra paper) and its scan, if any."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="documents", verbose_name=_("dossier"))
    component = models.ForeignKey(
        DocumentComponent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("document component"),
    )
    name = models.CharField(_("document"), max_length=1000)
    originals_received = models.PositiveSmallIntegerField(_("originals received"), default=0)
    copies_received = models.PositiveSmallIntegerField(_("copies received"), default=0)
    file = models.FileField(_("file"), upload_to=dossier_upload_to, null=True, blank=True, max_length=255)
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)

    class Meta:
        ordering = ["dossier", "pk"]
        verbose_name = _("dossier document")
        verbose_name_plural = _("dossier documents")

    def __str__(self) -> str:
        return self.name


class EventLogIsAppendOnly(RuntimeError):
    """Raised on any attempt to change or remove a dossier event."""


class EventQuerySet(models.QuerySet):
    """Bulk updates and deletes would bypass ``save``/``delete``: refuse them too."""

    def update(self, **kwargs):
        raise EventLogIsAppendOnly("Dossier events are append-only: they cannot be updated.")

    def delete(self):
        raise EventLogIsAppendOnly("Dossier events are append-only: they cannot be deleted.")


class DossierEvent(models.Model):
    """One entry of the append-only log: who did what to which dossier, when and from where.

    Besides these guards, on PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE, so
    not even raw SQL through the application's database role rewrites history.
    """

    class Action(models.TextChoices):
        SUBMITTED_ONLINE = "submitted_online", _("submitted online")
        RECEIVED = "received", _("received")
        RETURNED_FOR_COMPLETION = "returned_for_completion", _("returned for completion")
        REFUSED = "refused", _("refused")
        PROCESSING_STARTED = "processing_started", _("processing started")
        SUPPLEMENT_REQUESTED = "supplement_requested", _("supplement requested")
        SUPPLEMENT_RECEIVED = "supplement_received", _("supplement received")
        RESULT_READY = "result_ready", _("result ready")
        RESULT_RETURNED = "result_returned", _("result returned")
        WITHDRAWN = "withdrawn", _("withdrawn")
        STOPPED = "stopped", _("stopped")
        # Workflow moves (motcua.workflow.services), labels translated in the workflow app.
        STEP_STARTED = "step_started", _("workflow step started")
        STEP_CLAIMED = "step_claimed", _("workflow step claimed")
        STEP_FORWARDED = "step_forwarded", _("forwarded to the next step")
        STEP_RETURNED = "step_returned", _("returned to an earlier step")
        STEP_APPROVED = "step_approved", _("approved")
        STEP_REJECTED = "step_rejected", _("rejected by the agency")
        STEP_TRANSFERRED = "step_transferred", _("transferred to another level")
        STEP_REASSIGNED = "step_reassigned", _("workflow step reassigned")
        CONSULTATION_REQUESTED = "consultation_requested", _("opinions requested")
        CONSULTATION_ANSWERED = "consultation_answered", _("opinion given")
        APOLOGY_RECORDED = "apology_recorded", _("apology letter recorded")
        # Fees (motcua.integrations.payments.services).
        FEE_REQUESTED = "fee_requested", _("fee requested")
        FEE_PAID = "fee_paid", _("fee paid")
        FEE_CANCELLED = "fee_cancelled", _("fee request cancelled")
        RECEIPT_CANCELLED = "receipt_cancelled", _("e-receipt cancelled")
        # Documents (motcua.documents.services): a signature added to the dossier's result.
        RESULT_SIGNED = "result_signed", _("result signed")

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="events", verbose_name=_("dossier"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(_("role"), max_length=20, blank=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    from_status = models.CharField(_("from status"), max_length=30, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=30, choices=Status.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["dossier", "at", "pk"]
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise EventLogIsAppendOnly("Dossier events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EventLogIsAppendOnly("Dossier events are append-only: they cannot be deleted.")


class DossierCodeSequence(models.Model):
    """The last running number given by an agency on a local day (gap-free, see services)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    day = models.DateField(_("day"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("dossier code sequence")
        verbose_name_plural = _("dossier code sequences")
        constraints = [models.UniqueConstraint(fields=["agency", "day"], name="dossiers_code_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency.code} {self.day:%Y-%m-%d}: {self.last_number}"
