"""The organisation: administrative units, agencies, departments, counters and staff.

Levels are data, not code, so the four-level structure of 2020 (national, province,
district, commune) and the two-level one in force since 1 July 2025 (province, commune)
are the same tables with different rows.
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from motcua.org.codes import is_agency_code


class AdministrativeLevel(models.Model):
    """A tier of government such as province or commune; ``rank`` orders them top-down."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("0 for the top level, larger further down."))

    class Meta:
        ordering = ["rank"]
        verbose_name = _("administrative level")
        verbose_name_plural = _("administrative levels")

    def __str__(self) -> str:
        return self.name


class AdministrativeUnit(models.Model):
    """A node of the administrative tree (a province, a district, a commune…).

    ``path`` is a materialised path of primary keys (``/1/4/9/``) kept by the services, so a
    subtree is one indexed prefix query on SQLite and PostgreSQL alike.
    """

    level = models.ForeignKey(AdministrativeLevel, on_delete=models.PROTECT, verbose_name=_("level"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent unit")
    )
    name = models.CharField(_("name"), max_length=200)
    statistical_code = models.CharField(
        _("statistical code"), max_length=10, blank=True, help_text=_("Administrative-unit code (mã ĐVHC), e.g. 26.")
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    successor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predecessors",
        verbose_name=_("successor"),
        help_text=_("The unit that took over after a merger; old dossiers keep this one."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["path"]
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.parent_id and self.parent.level.rank >= self.level.rank:
            raise ValidationError({"parent": _("The parent unit must be at a higher level than the unit.")})
        if self.pk and self.parent_id and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("A unit cannot be placed under itself or its own sub-unit.")})

    def is_within(self, other: "AdministrativeUnit") -> bool:
        """True when this unit is ``other`` or lies below it."""
        return bool(self.path) and self.path.startswith(other.path)

    def ancestors(self) -> list["AdministrativeUnit"]:
        """This unit and the units above it, top first."""
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        by_id = AdministrativeUnit.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]


class Agency(models.Model):
    """A body that receives or resolves dossiers (cơ quan), placed in one unit.

    ``parent`` is the line it belongs to (a district branch of the Land Registration Office
    belongs to the provincial department); ``supervising_units`` are further lines of
    accountability (the same branch is supervised by its district), and its results count
    for each of them.
    """

    class Kind(models.TextChoices):
        PEOPLES_COMMITTEE = "committee", _("People's Committee")
        SERVICE_CENTRE = "service_centre", _("Public Administration Service Centre")
        DEPARTMENT = "department", _("Specialised department")
        BRANCH = "branch", _("Branch")
        VERTICAL = "vertical", _("Central vertical agency")
        OTHER = "other", _("Other")

    unit = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="agencies", verbose_name=_("administrative unit")
    )
    code = models.CharField(
        _("identification code"),
        max_length=13,
        unique=True,
        help_text=_("Electronic identification code per QCVN 102:2016, e.g. 000.00.24.H62."),
    )
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
        verbose_name=_("parent agency"),
    )
    supervising_units = models.ManyToManyField(
        AdministrativeUnit,
        blank=True,
        related_name="supervised_agencies",
        verbose_name=_("also accountable to"),
        help_text=_("Units that also supervise this agency; its results count for each of them."),
    )
    tax_code = models.CharField(_("tax code"), max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["unit__path", "name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        if self.code and not is_agency_code(self.code):
            raise ValidationError(
                {"code": _("“%(code)s” is not an agency code of the form 000.00.24.H62.") % {"code": self.code}}
            )
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("An agency cannot be its own parent.")})


class Department(models.Model):
    """A division inside an agency (phòng, bộ phận) that holds workflow steps and queues."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="departments", verbose_name=_("agency"))
    name = models.CharField(_("name"), max_length=255)
    code = models.SlugField(_("code"), max_length=50)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agency", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="org_department_code_per_agency")]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return f"{self.name} – {self.agency.name}"


class Counter(models.Model):
    """A one-stop reception counter (quầy) of an agency."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="counters", verbose_name=_("agency"))
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["agency", "number"]
        constraints = [models.UniqueConstraint(fields=["agency", "number"], name="org_counter_number_per_agency")]
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return _("Counter %(number)s – %(agency)s") % {"number": self.number, "agency": self.agency.name}


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    UNIT_ADMIN = "unit_admin", _("Unit administrator")
    CLERK = "clerk", _("One-stop clerk")
    SPECIALIST = "specialist", _("Specialist")
    LEADER = "leader", _("Leader")
    DOCUMENT_CLERK = "document_clerk", _("Document clerk")
    MONITOR = "monitor", _("Monitor")
    CITIZEN = "citizen", _("Citizen")


STAFF_ROLES = frozenset(Role) - {Role.CITIZEN}


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        user = self.create_user(email, password, **fields)
        UserRole.objects.get_or_create(user=user, role=Role.SYSTEM_ADMIN)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: staff with their official e-mail, or a citizen.

    Staff belong to a unit (their scope) and usually an agency and department; roles are
    rows of ``UserRole`` so one officer may be both specialist and leader.
    """

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    unit = models.ForeignKey(
        AdministrativeUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("unit"),
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("agency")
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff", verbose_name=_("department")
    )
    is_staff = models.BooleanField(_("can use the desk"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    is_absent = models.BooleanField(
        _("absent"), default=False, help_text=_("On leave: automatic assignment skips this person.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if self.agency_id and self.unit_id and not self.agency.unit.is_within(self.unit):
            # An agency sits in one unit; its staff's scope must include it.
            raise ValidationError({"agency": _("The agency must belong to the user's unit or a unit below it.")})
        if self.department_id and self.department.agency_id != self.agency_id:
            raise ValidationError({"department": _("The department must belong to the user's agency.")})

    @property
    def role_codes(self) -> frozenset[str]:
        """The user's roles, cached for the request (permission checks ask many times)."""
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("role", flat=True)) if self.pk else frozenset()
            self._role_codes = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes.intersection(roles))


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="org_userrole_unique")]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.get_role_display()
