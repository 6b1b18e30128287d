"""The procedure catalogue: fields, procedures and their versions, documents, fees and form schemas.

A ``Procedure`` is only an identity (its national code). Everything a citizen and a clerk rely
on lives in a ``ProcedureVersion``; dossiers will point at the version they were received under,
so a published version never changes again (invariant 2). Changing a procedure means a new draft,
which is published in its turn and retires the previous version. The services are the only code
that moves a version through draft → published → retired; the guards in ``save()`` below stop
any other code from rewriting a published version by accident.
"""

import re
from datetime import time
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from motcua.catalog import codes
from motcua.org.codes import province_part
from motcua.org.models import AdministrativeLevel, Agency
from motcua.text import fold, normalize

#: Longest time limit accepted, in working days; anything longer is a typing mistake.
MAX_RESOLUTION_DAYS = Decimal(365)
HALF_DAY = Decimal("0.5")
FORM_FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def normalize_block(value: str | None) -> str:
    """NFC text that keeps its line breaks: each line normalised, blank lines at both ends dropped."""
    lines = [normalize(line) for line in str(value or "").splitlines()]
    return "\n".join(lines).strip("\n")


def validate_procedure_code(value: str) -> None:
    if not codes.is_procedure_code(value):
        raise ValidationError(
            _("“%(code)s” is not a procedure code: use the national form D.NNNNNN, e.g. 1.001193."),
            code="invalid_procedure_code",
            params={"code": value},
        )


validate_form_field_name = RegexValidator(
    FORM_FIELD_NAME_RE,
    _("Use lower-case Latin letters, digits and underscores, starting with a letter (e.g. ho_ten)."),
    code="invalid_form_field_name",
)


def time_errors(time_kind: str, days, cutoff) -> dict[str, list]:
    """Problems with a version's time limit, by field; empty when it is consistent.

    Time limits are kept in working half-days (DESIGN.md "Default time rules"): 0 only for an
    immediate procedure, a same-day procedure takes at most one day, any other at most 365.
    """
    errors: dict[str, list] = {}
    if days in (None, ""):
        return {"resolution_days": [_("Enter the resolution time in working days.")]}
    try:
        value = days if isinstance(days, Decimal) else Decimal(str(days))
    except (InvalidOperation, ValueError):
        return {"resolution_days": [_("The resolution time must be a number of working days.")]}
    if not value.is_finite():
        return {"resolution_days": [_("The resolution time must be a number of working days.")]}
    problems = []
    if value < 0:
        problems.append(_("The resolution time cannot be negative."))
    elif value > MAX_RESOLUTION_DAYS:
        problems.append(
            _("The resolution time cannot be longer than %(max)s working days.") % {"max": MAX_RESOLUTION_DAYS}
        )
    elif value % HALF_DAY:
        problems.append(_("The resolution time is counted in half days: enter a multiple of 0.5 (0.5, 1, 1.5…)."))
    elif time_kind == ProcedureVersion.TimeKind.IMMEDIATE and value != 0:
        problems.append(_("An immediate procedure has a resolution time of 0 days."))
    elif time_kind != ProcedureVersion.TimeKind.IMMEDIATE and value == 0:
        problems.append(_("Only an immediate procedure can have a resolution time of 0 days."))
    elif time_kind == ProcedureVersion.TimeKind.SAME_DAY and value > 1:
        problems.append(_("A same-day procedure is resolved within one working day: enter 0.5 or 1."))
    if problems:
        errors["resolution_days"] = problems
    if time_kind == ProcedureVersion.TimeKind.SAME_DAY and cutoff is None:
        errors["same_day_cutoff"] = [_("Enter the cut-off time of a same-day procedure.")]
    return errors


class ImmutableVersionError(ValidationError):
    """Raised when code tries to rewrite a version that is no longer a draft."""


class Field(models.Model):
    """A field of activity (lĩnh vực) that groups procedures, e.g. civil status or land."""

    code = models.CharField(_("code"), max_length=50, unique=True, help_text=_("For example G03-GD10."))
    name = models.CharField(_("name"), max_length=255)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("field of activity")
        verbose_name_plural = _("fields of activity")

    def __str__(self) -> str:
        return self.name

    def normalize_text(self) -> None:
        self.code = normalize(str(self.code or ""))
        self.name = normalize(str(self.name or ""))

    def clean(self) -> None:
        self.normalize_text()


class Procedure(models.Model):
    """An administrative procedure (thủ tục hành chính) identified by its national code."""

    code = models.CharField(
        _("procedure code"),
        max_length=8,
        unique=True,
        validators=[validate_procedure_code],
        help_text=_("National code from the national procedure database, e.g. 1.001193."),
    )
    current_version = models.OneToOneField(
        "ProcedureVersion",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="current_of",
        verbose_name=_("current version"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative procedure")
        verbose_name_plural = _("administrative procedures")

    def __str__(self) -> str:
        if self.current_version_id:
            return f"{self.code} – {self.current_version.name}"
        return self.code

    def clean(self) -> None:
        self.code = codes.clean_code(self.code)


class ProcedureVersion(models.Model):
    """One version of a procedure: what to submit, what it costs, how long it takes, the form."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        RETIRED = "retired", _("retired")

    class TimeKind(models.TextChoices):
        IMMEDIATE = "immediate", _("immediate result")
        SAME_DAY = "same_day", _("same working day")
        WORKING_DAYS = "working_days", _("working days")

    class OnlineLevel(models.TextChoices):
        FULL = "full", _("Full online")
        PARTIAL = "partial", _("Partly online")
        NONE = "none", _("Not online")

    #: Content fields: what a new version copies and what a published version never changes.
    CONTENT_FIELDS = (
        "name",
        "field",
        "legal_basis",
        "time_kind",
        "resolution_days",
        "same_day_cutoff",
        "result_type",
        "online_level",
        "description",
        "requirements",
    )
    #: What publishing and retiring may still write on a version that is not a draft.
    LIFECYCLE_FIELDS = frozenset({"status", "published_at", "published_by"})

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="versions", verbose_name=_("procedure")
    )
    number = models.PositiveIntegerField(_("version"), editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False)
    name = models.CharField(_("name"), max_length=1000)
    field = models.ForeignKey(
        Field,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("field of activity"),
    )
    levels = models.ManyToManyField(
        AdministrativeLevel, blank=True, related_name="procedure_versions", verbose_name=_("levels of implementation")
    )
    agencies = models.ManyToManyField(
        Agency,
        blank=True,
        related_name="procedure_versions",
        verbose_name=_("implementing agencies"),
        help_text=_("The agencies that carry the procedure out."),
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    time_kind = models.CharField(
        _("kind of time limit"), max_length=15, choices=TimeKind.choices, default=TimeKind.WORKING_DAYS
    )
    resolution_days = models.DecimalField(
        _("resolution time (working days)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal(0),
        help_text=_("In working days, in steps of half a day; 0 only for an immediate result."),
    )
    same_day_cutoff = models.TimeField(
        _("same-day cut-off"),
        null=True,
        blank=True,
        default=time(15, 0),
        help_text=_("Dossiers received after this time are resolved on the next working day."),
    )
    result_type = models.TextField(_("result"), blank=True, help_text=_("What the applicant receives."))
    online_level = models.CharField(
        _("online public service"), max_length=10, choices=OnlineLevel.choices, default=OnlineLevel.NONE
    )
    description = models.TextField(_("description"), blank=True)
    requirements = models.TextField(_("conditions"), blank=True)
    search_text = models.TextField(editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["procedure__code", "-number"]
        verbose_name = _("procedure version")
        verbose_name_plural = _("procedure versions")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="catalog_version_number_unique"),
            models.UniqueConstraint(
                fields=["procedure"],
                condition=Q(status="published"),
                name="catalog_one_published_version",
                violation_error_message=_("This procedure already has a published version."),
            ),
            models.UniqueConstraint(
                fields=["procedure"],
                condition=Q(status="draft"),
                name="catalog_one_draft_version",
                violation_error_message=_("This procedure already has a draft version."),
            ),
            models.CheckConstraint(
                condition=Q(resolution_days__gte=0) & Q(resolution_days__lte=365),
                name="catalog_resolution_days_range",
                violation_error_message=_("The resolution time must be between 0 and 365 working days."),
            ),
        ]
        indexes = [models.Index(fields=["status", "online_level"], name="catalog_version_status_idx")]

    def __str__(self) -> str:
        return f"{self.procedure.code} – {self.name} (v{self.number})"

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if self.pk and (update_fields is None or set(update_fields) - self.LIFECYCLE_FIELDS):
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored not in (None, self.Status.DRAFT):
                raise ImmutableVersionError(
                    _("Version %(number)s of %(code)s is no longer a draft and cannot be changed.")
                    % {"number": self.number, "code": self.procedure.code}
                )
        self.search_text = fold(f"{self.procedure.code} {self.name}")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def code(self) -> str:
        return self.procedure.code

    def local_code(self) -> str | None:
        """The province's form of the code (``1.001193.000.00.00.H62``), from the first agency's province group."""
        agencies = list(self.agencies.all())
        if not agencies:
            return None
        try:
            return codes.local_code(self.procedure.code, province_part(agencies[0].code))
        except ValueError:
            return None

    def normalize_text(self) -> None:
        """NFC input (invariant 7); services call it before validating, the desk through clean()."""
        self.name = normalize(str(self.name or ""))
        for name in ("legal_basis", "result_type", "description", "requirements"):
            setattr(self, name, normalize_block(getattr(self, name)))

    def clean(self) -> None:
        self.normalize_text()
        errors = time_errors(self.time_kind, self.resolution_days, self.same_day_cutoff)
        if errors:
            raise ValidationError(errors)


class VersionChild(models.Model):
    """Rows that belong to a version: they are frozen with it once it is published."""

    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        status = ProcedureVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        if status not in (None, ProcedureVersion.Status.DRAFT):
            raise ImmutableVersionError(_("The rows of a published version cannot be changed; create a new version."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        status = ProcedureVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        if status not in (None, ProcedureVersion.Status.DRAFT):
            raise ImmutableVersionError(_("The rows of a published version cannot be changed; create a new version."))
        return super().delete(*args, **kwargs)


class DocumentComponent(VersionChild):
    """A document the applicant submits (thành phần hồ sơ), with how many originals and copies."""

    class Requirement(models.TextChoices):
        MANDATORY = "mandatory", _("mandatory")
        CONDITIONAL = "conditional", _("conditional")

    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.CASCADE, related_name="components", verbose_name=_("procedure version")
    )
    name = models.CharField(_("document"), max_length=1000)
    originals = models.PositiveSmallIntegerField(_("originals"), default=1)
    copies = models.PositiveSmallIntegerField(_("copies"), default=0)
    requirement = models.CharField(
        _("requirement"), max_length=12, choices=Requirement.choices, default=Requirement.MANDATORY
    )
    condition_note = models.TextField(_("condition"), blank=True, help_text=_("When a conditional document is needed."))
    template = models.FileField(_("form template"), upload_to="catalog/templates/%Y/", blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("document component")
        verbose_name_plural = _("document components")

    def __str__(self) -> str:
        return self.name

    def normalize_text(self) -> None:
        self.name = normalize(str(self.name or ""))
        self.condition_note = normalize_block(self.condition_note)

    def clean(self) -> None:
        self.normalize_text()
        if self.requirement == self.Requirement.CONDITIONAL and not self.condition_note:
            raise ValidationError({"condition_note": _("Say when a conditional document is needed.")})


class FeeLine(VersionChild):
    """A fee (phí) or charge (lệ phí) of a version, in VND, with any exemption."""

    class Kind(models.TextChoices):
        FEE = "fee", _("fee")
        CHARGE = "charge", _("charge")

    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.CASCADE, related_name="fees", verbose_name=_("procedure version")
    )
    name = models.CharField(_("name"), max_length=500)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CHARGE)
    amount = models.DecimalField(
        _("amount (VND)"), max_digits=12, decimal_places=0, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    exemption_note = models.TextField(_("exemption"), blank=True, help_text=_("Who is exempted and on what basis."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("fee line")
        verbose_name_plural = _("fees and charges")

    def __str__(self) -> str:
        return self.name

    def normalize_text(self) -> None:
        self.name = normalize(str(self.name or ""))
        self.exemption_note = normalize_block(self.exemption_note)

    def clean(self) -> None:
        self.normalize_text()


class FormField(VersionChild):
    """One field of the version's application form: the form schema is data, not code."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        TEXTAREA = "textarea", _("long text")
        INTEGER = "integer", _("whole number")
        DECIMAL = "decimal", _("decimal number")
        DATE = "date", _("date")
        CHOICE = "choice", _("one choice")
        MULTICHOICE = "multichoice", _("several choices")
        CHECKBOX = "checkbox", _("checkbox")
        EMAIL = "email", _("e-mail")
        PHONE = "phone", _("phone number")
        ID_NUMBER = "id_number", _("personal identification number")

    CHOICE_TYPES = frozenset({Type.CHOICE, Type.MULTICHOICE})

    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.CASCADE, related_name="form_fields", verbose_name=_("procedure version")
    )
    name = models.CharField(
        _("key"),
        max_length=50,
        validators=[validate_form_field_name],
        help_text=_("Lower-case key used in the data, e.g. ho_ten."),
    )
    label = models.CharField(_("label"), max_length=255)
    type = models.CharField(_("type"), max_length=12, choices=Type.choices, default=Type.TEXT)
    required = models.BooleanField(_("required"), default=True)
    choices = models.TextField(_("choices"), blank=True, help_text=_("One choice per line."))
    help_text = models.CharField(_("help text"), max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order", "pk"]
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="catalog_form_field_name_unique")]

    def __str__(self) -> str:
        return self.label or self.name

    @property
    def choice_list(self) -> list[str]:
        return [line for line in (self.choices or "").splitlines() if line.strip()]

    def normalize_text(self) -> None:
        self.name = str(self.name or "").strip()
        self.label = normalize(str(self.label or ""))
        self.help_text = normalize(str(self.help_text or ""))
        self.choices = "\n".join(normalize(line) for line in str(self.choices or "").splitlines() if line.strip())

    def clean(self) -> None:
        self.normalize_text()
        if self.type in self.CHOICE_TYPES and not self.choices:
            raise ValidationError({"choices": _("A choice field needs its choices, one per line.")})
        lines = self.choice_list
        if len(set(lines)) != len(lines):
            raise ValidationError({"choices": _("Each choice must appear only once.")})
