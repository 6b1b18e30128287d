"""Workflow definitions (edited in the desk) and their runs (one per dossier).

A ``Workflow`` belongs to a procedure version: the province-wide one (``unit`` empty) or a
unit's own adaptation, used for dossiers whose competent agency lies in that unit's subtree
(the nearest unit wins). Its ``Step`` and ``Transition`` rows are the editable form; every
validated save bumps ``revision`` and stores the whole definition as JSON in ``definition``
(the export format of ``transfer``), so simple-history keeps every revision in full.

Transitions name their steps by key, not by foreign key: the desk can then add steps and the
transitions between them in one save (with foreign keys the steps would have to exist first,
and a half-built workflow never validates), and the JSON export reads the same.

A dossier runs on the snapshot taken when it started (``WorkflowRun.definition``): editing the
desk afterwards changes only new dossiers. ``StepRun`` rows are the electronic process control
sheet (phiếu kiểm soát quá trình): who held each step, its budget, start, due, end and verdict.
Only ``motcua.workflow.services`` writes runs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers.models import Dossier
from motcua.org.models import AdministrativeLevel, AdministrativeUnit, Agency, Department, Role
from motcua.workflow.graph import REASON_ACTIONS

STAFF_ROLE_CHOICES = [(value, label) for value, label in Role.choices if value != Role.CITIZEN]


class StepKind(models.TextChoices):
    TASK = "task", _("task")
    CONSULTATION = "consultation", _("consultation")
    RESULT = "result", _("result")
    REFUSAL = "refusal", _("refusal")


class HolderKind(models.TextChoices):
    FIXED = "fixed", _("a fixed agency")
    RECEIVING = "receiving", _("the receiving agency")
    COMPETENT = "competent", _("the competent agency")
    LEVEL = "level", _("the agency of a level above the receiving agency")
    FORM_FIELD = "form_field", _("the agency named in the application form")


class AssignmentKind(models.TextChoices):
    QUEUE = "queue", _("department queue")
    ROUND_ROBIN = "round_robin", _("round robin")
    LEAST_LOADED = "least_loaded", _("least loaded")


class TransitionAction(models.TextChoices):
    FORWARD = "forward", _("forward")
    RETURN = "return", _("return")
    APPROVE = "approve", _("approve")
    REJECT = "reject", _("reject")
    REQUEST_SUPPLEMENT = "request_supplement", _("request a supplement")
    TRANSFER = "transfer", _("transfer to another level")


class Workflow(models.Model):
    """The electronic process of one procedure version, province-wide or adapted by a unit."""

    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.CASCADE, related_name="workflows", verbose_name=_("procedure version")
    )
    unit = models.ForeignKey(
        AdministrativeUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="workflows",
        verbose_name=_("unit"),
        help_text=_("Empty for the province-wide process; a unit's own process applies to its subtree."),
    )
    name = models.CharField(_("name"), max_length=255)
    revision = models.PositiveIntegerField(_("revision"), default=0, editable=False)
    definition = models.JSONField(_("definition (JSON)"), default=dict, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    copied_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="copies",
        verbose_name=_("copied from"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["procedure_version__procedure__code", "unit__path"]
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure_version", "unit"],
                condition=Q(unit__isnull=False),
                name="workflow_one_per_unit",
                violation_error_message=_("This unit already has a workflow for this procedure version."),
            ),
            models.UniqueConstraint(
                fields=["procedure_version"],
                condition=Q(unit__isnull=True),
                name="workflow_one_province_wide",
                violation_error_message=_("This procedure version already has a province-wide workflow."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class HolderFields(models.Model):
    """How a step, or a party consulted by a step, finds its agency, department and role."""

    holder = models.CharField(_("held by"), max_length=12, choices=HolderKind.choices, default=HolderKind.FIXED)
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agency"),
        help_text=_(
            "The agency for a fixed holder; for a level holder, optionally the line it belongs to "
            "(e.g. the provincial Land Registration Office, to pick its district branch)."
        ),
    )
    level = models.ForeignKey(
        AdministrativeLevel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("administrative level"),
    )
    form_field = models.CharField(
        _("form field"), max_length=50, blank=True, help_text=_("A form field whose value is an agency code.")
    )
    department_code = models.SlugField(_("department code"), max_length=50, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=STAFF_ROLE_CHOICES)

    class Meta:
        abstract = True


class Step(HolderFields):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps", verbose_name=_("workflow"))
    key = models.SlugField(_("key"), max_length=50)
    name = models.CharField(_("name"), max_length=255)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=15, choices=StepKind.choices, default=StepKind.TASK)
    is_start = models.BooleanField(_("start step"), default=False, help_text=_("Otherwise the first step by order."))
    budget_sessions = models.PositiveSmallIntegerField(
        _("time budget (sessions)"), default=0, help_text=_("Working half-days; 0 for a result or a refusal.")
    )
    assignment = models.CharField(
        _("assignment"), max_length=15, choices=AssignmentKind.choices, default=AssignmentKind.QUEUE
    )
    quorum = models.PositiveSmallIntegerField(
        _("quorum"), default=0, help_text=_("Consultation: answers needed to move on; 0 = every agency asked.")
    )

    class Meta:
        ordering = ["workflow", "order", "pk"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        constraints = [models.UniqueConstraint(fields=["workflow", "key"], name="workflow_step_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} – {self.name}"


class ConsultationTarget(HolderFields):
    """An agency asked for its opinion by a consultation step."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="consult", verbose_name=_("step"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    budget_sessions = models.PositiveSmallIntegerField(
        _("time budget (sessions)"), null=True, blank=True, help_text=_("Empty: the consultation step's budget.")
    )

    class Meta:
        ordering = ["step", "order", "pk"]
        verbose_name = _("consulted agency")
        verbose_name_plural = _("consulted agencies")

    def __str__(self) -> str:
        return f"{self.step.key} #{self.order}"


class Transition(models.Model):
    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("workflow")
    )
    key = models.SlugField(_("key"), max_length=50)
    from_step = models.SlugField(_("from step (key)"), max_length=50)
    to_step = models.SlugField(
        _("to step (key)"), max_length=50, blank=True, help_text=_("Empty for a supplement request.")
    )
    action = models.CharField(_("action"), max_length=20, choices=TransitionAction.choices)
    label = models.CharField(_("button label"), max_length=100)
    role = models.CharField(_("role"), max_length=20, choices=STAFF_ROLE_CHOICES)
    condition = models.TextField(
        _("condition"), blank=True, help_text=_("Condition language, e.g. form.dien_tich > 300; empty = always.")
    )
    requires_reason = models.BooleanField(
        _("reason required"), default=False, help_text=_("Always for return, reject and supplement requests.")
    )
    requires_signature = models.BooleanField(_("signature required"), default=False)
    requires_attachment = models.BooleanField(_("attachment required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["workflow", "order", "pk"]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        constraints = [models.UniqueConstraint(fields=["workflow", "key"], name="workflow_transition_key_unique")]

    def __str__(self) -> str:
        return f"{self.from_step} → {self.to_step or self.from_step}: {self.label}"

    def save(self, *args, **kwargs) -> None:
        if self.action in REASON_ACTIONS:
            self.requires_reason = True
        super().save(*args, **kwargs)


# --- runs ------------------------------------------------------------------------------------------


class RunOutcome(models.TextChoices):
    RUNNING = "", _("running")
    RESULT = "result", _("result")
    REFUSAL = "refusal", _("refusal")


class WorkflowRun(models.Model):
    """The workflow a dossier runs on: the definition as it was when the dossier started."""

    dossier = models.OneToOneField(
        Dossier, on_delete=models.PROTECT, related_name="workflow_run", verbose_name=_("dossier")
    )
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="runs", verbose_name=_("workflow"))
    revision = models.PositiveIntegerField(_("revision"))
    definition = models.JSONField(_("definition (JSON)"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=RunOutcome.choices, blank=True, default="")
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The official number the document clerk gives the result (see services._number_result).
    result_number = models.CharField(_("result number"), max_length=100, blank=True, editable=False)
    result_numbered_at = models.DateTimeField(_("result numbered at"), null=True, blank=True, editable=False)
    result_numbered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("result numbered by"),
    )

    class Meta:
        verbose_name = _("workflow run")
        verbose_name_plural = _("workflow runs")

    def __str__(self) -> str:
        return f"{self.dossier} – {self.workflow} r{self.revision}"


class ResultRegister(models.Model):
    """The register of results of one issuing agency for one calendar year: the last number given.

    Locked with SELECT FOR UPDATE while a number is taken, so numbers are gap-free: a rolled back
    transition gives its number back.
    """

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="result_registers", verbose_name=_("issuing agency")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        ordering = ["agency", "year"]
        verbose_name = _("result register")
        verbose_name_plural = _("result registers")
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="workflow_result_register_unique")]

    def __str__(self) -> str:
        return f"{self.agency} {self.year}: {self.last_number}"


class StepRunKind(models.TextChoices):
    TASK = "task", _("task")
    CONSULTATION = "consultation", _("consultation")
    OPINION = "opinion", _("opinion")
    RESULT = "result", _("result")
    REFUSAL = "refusal", _("refusal")


class StepTimeliness(models.TextChoices):
    EARLY = "early", _("early")
    ON_TIME = "on_time", _("on time")
    LATE = "late", _("late")


class StepRun(models.Model):
    """One row of the process control sheet: a step held by an agency for a dossier.

    Open while ``finished_at`` is empty. Opinion rows (``parent`` set) are the parties a
    consultation step asked. ``assignee`` empty means the queue of the agency (and department)
    for ``role``.
    """

    run = models.ForeignKey(WorkflowRun, on_delete=models.PROTECT, related_name="step_runs", verbose_name=_("run"))
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="step_runs", verbose_name=_("dossier"))
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opinions",
        verbose_name=_("consultation"),
    )
    sequence = models.PositiveIntegerField(_("number"))
    step_key = models.CharField(_("step"), max_length=50)
    step_name = models.CharField(_("step name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=15, choices=StepRunKind.choices)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="step_runs", verbose_name=_("agency"))
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    role = models.CharField(_("role"), max_length=20, choices=STAFF_ROLE_CHOICES)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_step_runs",
        verbose_name=_("assigned to"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))
    budget_sessions = models.PositiveSmallIntegerField(_("time budget (sessions)"), default=0)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    timeliness = models.CharField(_("timeliness"), max_length=10, choices=StepTimeliness.choices, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("handled by"),
    )
    action = models.CharField(_("action"), max_length=50, blank=True)
    action_label = models.CharField(_("action label"), max_length=100, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    requires_signature = models.BooleanField(_("signature required"), default=False)

    class Meta:
        ordering = ["dossier", "sequence"]
        verbose_name = _("step run")
        verbose_name_plural = _("step runs")
        indexes = [
            models.Index(fields=["agency", "role", "finished_at"], name="workflow_steprun_queue_idx"),
            models.Index(fields=["assignee", "finished_at"], name="workflow_steprun_assignee_idx"),
            models.Index(fields=["finished_at", "due_at"], name="workflow_steprun_due_idx"),
        ]
        constraints = [
            # The backstop of the engine's row lock: a run has one current step at a time.
            models.UniqueConstraint(
                fields=["run"],
                condition=Q(finished_at__isnull=True, parent__isnull=True),
                name="workflow_one_current_step",
            ),
            models.UniqueConstraint(fields=["dossier", "sequence"], name="workflow_steprun_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier} #{self.sequence} {self.step_name}"

    @property
    def is_open(self) -> bool:
        return self.finished_at is None


def attachment_upload_to(instance: "StepAttachment", filename: str) -> str:
    """``workflow/<dossier id>/<our random name>``: nothing an officer typed becomes a path."""
    return f"workflow/{instance.dossier_id}/{filename}"


class StepAttachment(models.Model):
    """A file attached while handling a step: a draft, the result, an opinion.

    Kept apart from ``DossierDocument``, which lists what the applicant handed in (with counts
    of originals and copies); these are the administration's own papers, with who attached them.
    """

    class Kind(models.TextChoices):
        DRAFT = "draft", _("draft")
        RESULT = "result", _("result")
        OPINION = "opinion", _("opinion")
        OTHER = "other", _("other")

    step_run = models.ForeignKey(
        StepRun, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("step run")
    )
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="+", verbose_name=_("dossier"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OTHER)
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=255)
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("attached by")
    )
    uploaded_at = models.DateTimeField(_("attached at"))

    class Meta:
        ordering = ["step_run", "pk"]
        verbose_name = _("step attachment")
        verbose_name_plural = _("step attachments")

    def __str__(self) -> str:
        return self.original_filename or self.file.name


# --- deadlines: notices and apology letters --------------------------------------------------------


class NoticeKind(models.TextChoices):
    STEP_DUE_SOON = "step_due_soon", _("step due soon")
    STEP_OVERDUE = "step_overdue", _("step overdue")
    DOSSIER_DUE_SOON = "dossier_due_soon", _("dossier due soon")
    DOSSIER_OVERDUE = "dossier_overdue", _("dossier overdue")
    APOLOGY_NEEDED = "apology_needed", _("apology letter needed")


class Notice(models.Model):
    """An in-app notice of the deadline scan: one per step run per kind (or per dossier per kind).

    Written by ``services.scan_deadlines`` only; ``recipients`` are the holders it was sent to
    (the assignee, or everyone of the step's queue; the competent agency's leaders for an apology).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="notices", verbose_name=_("dossier"))
    step_run = models.ForeignKey(
        StepRun, null=True, blank=True, on_delete=models.CASCADE, related_name="notices", verbose_name=_("step run")
    )
    due_at = models.DateTimeField(_("due at"))
    message = models.TextField(_("message"))
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="workflow_notices", verbose_name=_("recipients")
    )
    created_at = models.DateTimeField(_("created at"))
    emailed = models.PositiveSmallIntegerField(_("e-mails sent"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("deadline notice")
        verbose_name_plural = _("deadline notices")
        constraints = [
            models.UniqueConstraint(
                fields=["step_run", "kind"], condition=Q(step_run__isnull=False), name="workflow_notice_one_per_step"
            ),
            models.UniqueConstraint(
                fields=["dossier", "kind"], condition=Q(step_run__isnull=True), name="workflow_notice_one_per_dossier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier} – {self.get_kind_display()}"


class Apology(models.Model):
    """The apology letter (thư xin lỗi) of a dossier that will be late, with its new appointment.

    The scan creates the request (``requested_at``) ahead of the due moment; the competent
    agency's leader records the letter (reason, new appointment, by, at). The dossier's official
    ``due_at`` never changes: the dossier is still late; the new appointment is kept here.
    """

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="apologies", verbose_name=_("dossier"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    due_at = models.DateTimeField(_("due at (official)"))
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    new_due_at = models.DateTimeField(_("new appointment"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        ordering = ["dossier", "pk"]
        verbose_name = _("apology letter")
        verbose_name_plural = _("apology letters")
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"], condition=Q(recorded_at__isnull=True), name="workflow_one_open_apology_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier} – {self.new_due_at or '…'}"
