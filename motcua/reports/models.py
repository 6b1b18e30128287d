"""Report summaries (maintained from the event log), online targets, indicator settings, exports.

``DailyFigures`` and ``MonthlyFigures`` hold the same counters (``facts.COLUMNS``) per day or
calendar month × agency × procedure version; a report reads these rows, never the dossiers.
``DossierBooking`` remembers what each dossier has contributed, so a new event applies only the
difference, and the rebuild can prove that the sums equal the bookings. Only ``services`` writes
these tables.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers.models import Dossier
from motcua.org.models import Agency
from motcua.reports.facts import COLUMNS
from motcua.reports.figures import INDICATORS


class SummaryCounters(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("procedure version")
    )

    class Meta:
        abstract = True


for _column in COLUMNS:
    # One integer per counter; signed, because the stock columns hold deltas.
    SummaryCounters.add_to_class(_column, models.BigIntegerField(default=0))


class DailyFigures(SummaryCounters):
    """Counters of one local day, agency and procedure version."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")
        constraints = [
            models.UniqueConstraint(fields=["day", "agency", "procedure_version"], name="reports_daily_unique")
        ]
        indexes = [models.Index(fields=["agency", "day"], name="reports_daily_agency_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.agency_id} {self.procedure_version_id}"


class MonthlyFigures(SummaryCounters):
    """The same counters summed over a calendar month (``month`` is its first day)."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("monthly figures")
        verbose_name_plural = _("monthly figures")
        constraints = [
            models.UniqueConstraint(fields=["month", "agency", "procedure_version"], name="reports_monthly_unique")
        ]
        indexes = [models.Index(fields=["agency", "month"], name="reports_monthly_agency_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.agency_id} {self.procedure_version_id}"


class DossierBooking(models.Model):
    """What one dossier currently contributes to the summaries, and under which agency and version."""

    dossier = models.OneToOneField(
        Dossier, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("dossier")
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("procedure version")
    )
    contribution = models.JSONField(_("contribution"), default=dict)
    #: Where the fold of the dossier's log stands (``facts.Fold.to_json``), so that the next event
    #: can be folded alone; empty for bookings made before it was kept (the next event refolds).
    state = models.JSONField(_("fold state"), default=dict, blank=True)

    class Meta:
        verbose_name = _("dossier booking")
        verbose_name_plural = _("dossier bookings")

    def __str__(self) -> str:
        return str(self.dossier_id)


class StepFigures(models.Model):
    """Finished workflow steps of one local day, agency, procedure version and step: counts,
    working sessions used and budgeted, verdicts."""

    day = models.DateField(_("day"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("procedure version")
    )
    step_key = models.CharField(_("step"), max_length=50)
    step_name = models.CharField(_("step name"), max_length=255, blank=True)
    finished = models.BigIntegerField(default=0)
    sessions_used = models.BigIntegerField(default=0)
    sessions_budget = models.BigIntegerField(default=0)
    early = models.BigIntegerField(default=0)
    on_time = models.BigIntegerField(default=0)
    late = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("step figures")
        verbose_name_plural = _("step figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "agency", "procedure_version", "step_key"], name="reports_step_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.step_key}"


STEP_COUNTERS = ("finished", "sessions_used", "sessions_budget", "early", "on_time", "late")


class StepBooking(models.Model):
    """What one finished step run contributes to ``StepFigures`` (the step run lives in the workflow app;
    its id is kept without a foreign key so the summaries do not depend on that app's migrations)."""

    step_run_id = models.BigIntegerField(primary_key=True)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="+", verbose_name=_("dossier"))
    day = models.DateField(_("day"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("procedure version")
    )
    step_key = models.CharField(_("step"), max_length=50)
    counts = models.JSONField(_("counts"), default=dict)

    class Meta:
        verbose_name = _("step booking")
        verbose_name_plural = _("step bookings")

    def __str__(self) -> str:
        return str(self.step_run_id)


class DigestDelivery(models.Model):
    """The daily digest of one day to one leader: claimed before the mail is sent, stamped once
    it went out. A second run of the same day finds the row and sends nothing."""

    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("leader")
    )
    day = models.DateField(_("day"))
    unit = models.ForeignKey(
        "org.AdministrativeUnit", on_delete=models.CASCADE, related_name="+", verbose_name=_("unit")
    )
    claimed_at = models.DateTimeField(_("claimed at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-day", "leader_id"]
        verbose_name = _("daily digest sent")
        verbose_name_plural = _("daily digests sent")
        constraints = [models.UniqueConstraint(fields=["leader", "day"], name="reports_digest_once_a_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.leader_id}"


class OnlineTarget(models.Model):
    """The share of dossiers an agency must receive online in a year (set by the province)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+", verbose_name=_("agency"))
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    percent = models.DecimalField(
        _("target share online (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    note = models.CharField(_("source or note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-year", "agency__code"]
        verbose_name = _("online target")
        verbose_name_plural = _("online targets")
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="reports_target_unique")]

    def __str__(self) -> str:
        return f"{self.agency.code} {self.year}: {self.percent}%"


INDICATOR_CHOICES = [(indicator.key, indicator.name) for indicator in INDICATORS]


class IndicatorSetting(models.Model):
    """Which formula an indicator uses, because the national index's formulas are unconfirmed."""

    indicator = models.CharField(_("indicator"), max_length=30, choices=INDICATOR_CHOICES, unique=True)
    variant = models.CharField(_("formula"), max_length=30)
    confirmed = models.BooleanField(
        _("confirmed"), default=False, help_text=_("Tick once the formula is checked against the official text.")
    )
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        ordering = ["indicator"]
        verbose_name = _("indicator formula")
        verbose_name_plural = _("indicator formulas")

    def __str__(self) -> str:
        return f"{self.indicator}: {self.variant}"


class ReportExport(models.Model):
    """A long export run as a task: its parameters, progress and the file when done."""

    class Kind(models.TextChoices):
        II06A_XLSX = "ii06a_xlsx", _("Form II.06a (XLSX)")
        II06A_PDF = "ii06a_pdf", _("Form II.06a (PDF)")
        LATE_XLSX = "late_xlsx", _("Late dossiers (XLSX)")
        STEPS_XLSX = "steps_xlsx", _("Time per step (XLSX)")

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    params = models.JSONField(_("parameters"), default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("Empty for the monthly report made by the scheduler."),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    file = models.FileField(_("file"), upload_to="reports/", blank=True, max_length=255)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    document = models.ForeignKey(
        "documents.IssuedDocument",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("issued document"),
        help_text=_("The PDF kept by the documents app, to be signed like any other document."),
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report export")
        verbose_name_plural = _("report exports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def progress(self) -> int:
        """Per cent done, for the progress bar."""
        if self.state == self.State.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0
