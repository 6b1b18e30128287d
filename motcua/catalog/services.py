"""The only code that changes the catalogue. Each public function runs in one transaction.

Content is passed as keyword arguments named like the ``ProcedureVersion`` fields, plus
``levels`` and ``agencies`` (objects or codes) and ``components``, ``fees`` and ``form_fields``
(lists of dicts with the keys of ``transfer.CHILD_COLUMNS``; ``order`` defaults to the position).
Problems are raised as one ``ValidationError`` whose messages are whole, translated sentences,
and nothing is written: a half-saved procedure would be worse than none.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.catalog import codes, selectors, transfer
from motcua.catalog.models import (
    DocumentComponent,
    FeeLine,
    Field,
    FormField,
    Procedure,
    ProcedureVersion,
)
from motcua.org.models import AdministrativeLevel, Agency, User
from motcua.text import fold, normalize

CHILD_MODELS: dict[str, type[models.Model]] = {
    "components": DocumentComponent,
    "fees": FeeLine,
    "form_fields": FormField,
}
CHILD_FIELDS = {
    "components": ("order", "name", "originals", "copies", "requirement", "condition_note", "template"),
    "fees": ("order", "name", "kind", "amount", "exemption_note"),
    "form_fields": ("order", "name", "label", "type", "required", "choices", "help_text"),
}
CHILD_LABELS = {
    "components": gettext_lazy("Document %(number)s: %(message)s"),
    "fees": gettext_lazy("Fee %(number)s: %(message)s"),
    "form_fields": gettext_lazy("Form field %(number)s: %(message)s"),
}
SCALAR_FIELDS = frozenset(ProcedureVersion.CONTENT_FIELDS)
Draft = ProcedureVersion.Status.DRAFT


# --- errors ------------------------------------------------------------------------------------


def messages_of(exc: ValidationError, model: type[models.Model] | None = None) -> list[str]:
    """Flat, readable messages: a field's errors are prefixed with its label."""
    if not hasattr(exc, "error_dict"):
        return [str(message) for message in exc.messages]
    out = []
    for name, errors in exc.message_dict.items():
        label = None
        if model is not None and name != NON_FIELD_ERRORS:
            try:
                # Reverse relations ("components") have no verbose name: their messages say what they are.
                verbose = getattr(model._meta.get_field(name), "verbose_name", None)
            except FieldDoesNotExist:
                verbose = None
            label = capfirst(verbose) if verbose else None
        out.extend(f"{label}: {message}" if label else str(message) for message in errors)
    return out


class _Errors:
    """Collects problems by key so one ValidationError can report them all."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[str]] = {}

    def add(self, key: str, *messages: str) -> None:
        self.by_key.setdefault(key, []).extend(str(m) for m in messages)

    def add_exc(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                self.add(name, *errors)
        else:
            self.add(NON_FIELD_ERRORS, *exc.messages)

    def raise_if_any(self) -> None:
        if self.by_key:
            raise ValidationError(self.by_key)


def _ensure_draft(version: ProcedureVersion) -> None:
    if version.status != Draft:
        raise ValidationError(
            _("Version %(number)s of %(code)s is published and cannot be changed; create a new version.")
            % {"number": version.number, "code": version.procedure.code}
        )


# --- content -----------------------------------------------------------------------------------


def _resolve(model: type[models.Model], values: Iterable, errors: _Errors, key: str, unknown_message) -> list:
    """Objects for ``values`` given as objects or codes; unknown codes are reported under ``key``."""
    objects, wanted = [], []
    for value in values:
        if isinstance(value, model):
            objects.append(value)
        elif str(value).strip():
            wanted.append(str(value).strip())
    if wanted:
        found = {obj.code: obj for obj in model.objects.filter(code__in=wanted)}
        missing = [code for code in wanted if code not in found]
        if missing:
            errors.add(key, unknown_message % {"codes": ", ".join(missing)})
        objects.extend(found[code] for code in wanted if code in found)
    return list(dict.fromkeys(objects))


def _build_children(version: ProcedureVersion, kind: str, rows: Iterable, errors: _Errors) -> list[models.Model]:
    """Unsaved, validated child rows; every problem is reported with the row's position."""
    model, allowed, label = CHILD_MODELS[kind], CHILD_FIELDS[kind], CHILD_LABELS[kind]
    built = []
    for number, row in enumerate(rows, 1):
        if isinstance(row, model):
            data = {name: getattr(row, name) for name in allowed}
        elif isinstance(row, Mapping):
            data = dict(row)
        else:
            errors.add(
                kind, label % {"number": number, "message": _("each entry must be an object with named values.")}
            )
            continue
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            errors.add(
                kind, label % {"number": number, "message": _("unknown keys %(keys)s.") % {"keys": ", ".join(unknown)}}
            )
            continue
        if isinstance(data.get("choices"), list | tuple):
            data["choices"] = "\n".join(str(choice) for choice in data["choices"])
        # A blank cell means "the default", not "nothing".
        data = {name: value for name, value in data.items() if value is not None and value != ""}
        data.setdefault("order", number)
        obj = model(version=version, **data)
        obj.normalize_text()
        try:
            obj.full_clean(exclude=["version"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.add(kind, *(label % {"number": number, "message": m} for m in messages_of(exc, model)))
            continue
        built.append(obj)
    if kind == "form_fields":
        seen: set[str] = set()
        for obj in built:
            if obj.name in seen:
                errors.add(kind, _("The form field key “%(name)s” is used more than once.") % {"name": obj.name})
            seen.add(obj.name)
    return built


def _write(version: ProcedureVersion, content: dict[str, Any]) -> ProcedureVersion:
    """Validate ``content`` into ``version`` (a draft) and save it; replaces the children given."""
    unknown = set(content) - SCALAR_FIELDS - {"levels", "agencies"} - set(CHILD_MODELS)
    if unknown:
        raise TypeError(f"unknown procedure content: {sorted(unknown)}")
    errors = _Errors()
    for name in SCALAR_FIELDS & set(content):
        value = content[name]
        if name == "field" and isinstance(value, str):
            value = Field.objects.filter(code=value.strip()).first()
            if value is None and content[name].strip():
                errors.add("field", _("Unknown field of activity “%(code)s”.") % {"code": content[name]})
        elif value is None and name not in ("field", "same_day_cutoff", "resolution_days"):
            value = ""
        setattr(version, name, value)
    version.normalize_text()
    levels = agencies = None
    if "levels" in content:
        levels = _resolve(
            AdministrativeLevel,
            content["levels"],
            errors,
            "levels",
            _("Unknown administrative level codes: %(codes)s."),
        )
    if "agencies" in content:
        agencies = _resolve(Agency, content["agencies"], errors, "agencies", _("Unknown agency codes: %(codes)s."))
    try:
        version.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors.add_exc(exc)
    children = {kind: _build_children(version, kind, content[kind], errors) for kind in CHILD_MODELS if kind in content}
    errors.raise_if_any()

    version.save()
    if levels is not None:
        version.levels.set(levels)
    if agencies is not None:
        version.agencies.set(agencies)
    for kind, objects in children.items():
        CHILD_MODELS[kind].objects.filter(version=version).delete()
        for obj in objects:
            obj.version = version
            obj.save()
    return version


def _next_number(procedure: Procedure) -> int:
    return (procedure.versions.aggregate(top=Max("number"))["top"] or 0) + 1


@transaction.atomic
def save_procedure(procedure: Procedure) -> Procedure:
    """Save a procedure's identity (its code) as entered in the desk; the content lives in versions."""
    procedure.code = codes.clean_code(procedure.code)
    procedure.full_clean()
    procedure.save()
    return procedure


@transaction.atomic
def create_procedure(code: str, *, actor: User | None = None, publish: bool = False, **content) -> ProcedureVersion:
    """A new procedure with its first version (a draft, or published when ``publish``)."""
    procedure = Procedure(code=codes.clean_code(code))
    try:
        procedure.full_clean()
    except ValidationError as exc:
        raise ValidationError({"code": messages_of(exc)}) from None
    procedure.save()
    version = _write(ProcedureVersion(procedure=procedure, number=1, created_by=actor), content)
    return publish_version(version, actor) if publish else version


@transaction.atomic
def add_version(
    procedure: Procedure, *, actor: User | None = None, publish: bool = False, **content
) -> ProcedureVersion:
    """A new draft of ``procedure`` with the given content (not copied), published when ``publish``."""
    procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
    _refuse_second_draft(procedure)
    version = ProcedureVersion(procedure=procedure, number=_next_number(procedure), created_by=actor)
    version = _write(version, content)
    return publish_version(version, actor) if publish else version


@transaction.atomic
def update_draft(version: ProcedureVersion, **content) -> ProcedureVersion:
    """Change a draft; the parts not given stay as they are."""
    version = ProcedureVersion.objects.select_related("procedure").select_for_update().get(pk=version.pk)
    _ensure_draft(version)
    return _write(version, content)


@transaction.atomic
def save_draft(version: ProcedureVersion, actor: User | None = None) -> ProcedureVersion:
    """Save a draft edited in the desk (already validated by its form); assigns the next number."""
    if version.pk:
        stored = ProcedureVersion.objects.select_for_update().get(pk=version.pk)
        _ensure_draft(stored)
    else:
        procedure = Procedure.objects.select_for_update().get(pk=version.procedure_id)
        _refuse_second_draft(procedure)
        version.number = _next_number(procedure)
        version.created_by = actor
        version.status = Draft
    version.full_clean(validate_constraints=False)
    version.save()
    return version


def _refuse_second_draft(procedure: Procedure) -> None:
    draft = procedure.versions.filter(status=Draft).first()
    if draft is not None:
        raise ValidationError(
            _("Version %(number)s of %(code)s is already a draft: edit or publish it first.")
            % {"number": draft.number, "code": procedure.code}
        )


@transaction.atomic
def new_draft(procedure: Procedure, actor: User | None = None) -> ProcedureVersion:
    """A draft copying the current version (or the latest one) with its documents, fees and form."""
    procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
    _refuse_second_draft(procedure)
    source = procedure.current_version or procedure.versions.order_by("-number").first()
    if source is None:
        raise ValidationError(_("The procedure %(code)s has no version to copy.") % {"code": procedure.code})
    copy = ProcedureVersion(procedure=procedure, number=_next_number(procedure), created_by=actor, status=Draft)
    for name in ProcedureVersion.CONTENT_FIELDS:
        setattr(copy, name, getattr(source, name))
    copy.save()
    copy.levels.set(source.levels.all())
    copy.agencies.set(source.agencies.all())
    for kind, model in CHILD_MODELS.items():
        for row in model.objects.filter(version=source).order_by("order", "pk"):
            model.objects.create(version=copy, **{name: getattr(row, name) for name in CHILD_FIELDS[kind]})
    # The new version keeps its workflows (province-wide and units' own). One that no longer
    # validates (an agency closed meanwhile) is left out rather than blocking the draft; the
    # desk then shows the version without it.
    from motcua.workflow import services as workflow_services
    from motcua.workflow import transfer as workflow_transfer

    for workflow in source.workflows.filter(revision__gt=0).select_related("unit"):
        try:
            with transaction.atomic():
                workflow_services.replace_definition(
                    copy, workflow.unit, workflow_transfer.export_data(workflow), by=actor, copied_from=workflow
                )
        except workflow_services.DefinitionInvalid:
            continue
    return copy


def publish_errors(version: ProcedureVersion) -> dict[str, list[str]]:
    """Why ``version`` cannot be published yet, by field; empty when it can."""
    errors = _Errors()
    try:
        version.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors.add_exc(exc)
    if not version.field_id:
        errors.add("field", _("Choose the field of activity before publishing."))
    if not version.levels.exists() and not version.agencies.exists():
        errors.add("agencies", _("Choose at least one implementing agency or administrative level."))
    for kind, model in CHILD_MODELS.items():
        rows = list(model.objects.filter(version=version).order_by("order", "pk"))
        _build_children(version, kind, rows, errors)
    return errors.by_key


@transaction.atomic
def publish_version(version: ProcedureVersion, actor: User | None = None) -> ProcedureVersion:
    """Publish a draft: it becomes the procedure's current version and the previous one is retired."""
    procedure = Procedure.objects.select_for_update().get(pk=version.procedure_id)
    version = ProcedureVersion.objects.select_related("procedure").select_for_update().get(pk=version.pk)
    _ensure_draft(version)
    problems = publish_errors(version)
    if problems:
        raise ValidationError(problems)
    previous = procedure.current_version
    if previous is not None:
        previous.status = ProcedureVersion.Status.RETIRED
        previous.save(update_fields=["status"])
    version.status = ProcedureVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["status", "published_at", "published_by"])
    procedure.current_version = version
    procedure.save(update_fields=["current_version"])
    version.procedure = procedure
    return version


#: The brief's name for it; ``publish`` reads well at call sites (``services.publish(version)``).
publish = publish_version


@transaction.atomic
def delete_draft(version: ProcedureVersion) -> None:
    """Remove a draft (and the procedure when it never had another version)."""
    version = ProcedureVersion.objects.select_related("procedure").select_for_update().get(pk=version.pk)
    _ensure_draft(version)
    procedure = version.procedure
    version.delete()
    if not procedure.versions.exists():
        procedure.delete()


# --- export ------------------------------------------------------------------------------------


def export_catalogue(fmt: str) -> bytes:
    """Every procedure's current version as a JSON, CSV or XLSX file (see ``transfer``)."""
    versions = selectors.versions_with_content().filter(status=ProcedureVersion.Status.PUBLISHED)
    return transfer.dump([transfer.version_to_record(v) for v in versions.order_by("procedure__code")], fmt)


# --- import ------------------------------------------------------------------------------------


class Outcome(models.TextChoices):
    CREATED = "created", gettext_lazy("created")
    NEW_VERSION = "new_version", gettext_lazy("new version")
    UNCHANGED = "unchanged", gettext_lazy("unchanged")
    ERROR = "error", gettext_lazy("error")


@dataclass
class RowResult:
    row: int
    code: str
    outcome: Outcome
    messages: list[str] = field(default_factory=list)
    version: int | None = None

    @property
    def outcome_label(self) -> str:
        return str(self.outcome.label)


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome.value: self.count(outcome) for outcome in Outcome}

    @property
    def errors(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == Outcome.ERROR]


def _alias_map(choices: type[models.TextChoices], extra: dict[str, str]) -> dict[str, str]:
    aliases = {fold(value): value for value in choices.values}
    aliases.update({fold(key): value for key, value in extra.items()})
    return aliases


# Besides the codes, the labels people write in a spreadsheet, compared after folding.
TIME_KIND_ALIASES = _alias_map(
    ProcedureVersion.TimeKind,
    {
        "immediate result": "immediate",
        "trả kết quả ngay": "immediate",
        "trả ngay": "immediate",
        "giải quyết ngay": "immediate",
        "same day": "same_day",
        "same working day": "same_day",
        "trong ngày": "same_day",
        "trong ngày làm việc": "same_day",
        "working days": "working_days",
        "ngày làm việc": "working_days",
        "theo ngày làm việc": "working_days",
    },
)
ONLINE_LEVEL_ALIASES = _alias_map(
    ProcedureVersion.OnlineLevel,
    {
        "toàn trình": "full",
        "full online": "full",
        "một phần": "partial",
        "partly online": "partial",
        "không": "none",
        "not online": "none",
    },
)
TRUE_WORDS = {"1", "true", "yes", "x", "co", "bat buoc"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _codes(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [_text(item).strip() for item in value if _text(item).strip()]
    return [part for part in _text(value).replace(",", ";").replace("\n", ";").split(";") if part.strip()]


def _days(value: Any, problems: list[str]) -> Decimal | None:
    text = _text(value).strip().replace(",", ".")
    if not text:
        problems.append(_("The resolution time (resolution_days) is missing."))
        return None
    try:
        days = Decimal(text)
    except InvalidOperation:
        problems.append(_("The resolution time “%(value)s” is not a number of days.") % {"value": value})
        return None
    return days if days.is_finite() else None


def _cutoff(value: Any, problems: list[str]) -> time | None:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    text = _text(value).strip()
    if not text:
        return time(15, 0)
    for pattern in ("%H:%M", "%H:%M:%S", "%Hh%M", "%H giờ %M"):
        try:
            return datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    problems.append(_("The cut-off time “%(value)s” is not a time such as 15:00.") % {"value": text})
    return None


def _children(value: Any, kind: str, problems: list[str]) -> list:
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            problems.append(_("The column “%(column)s” does not hold a valid JSON list.") % {"column": kind})
            return []
    if not isinstance(value, list):
        problems.append(_("The column “%(column)s” must hold a list.") % {"column": kind})
        return []
    rows = []
    for item in value:
        if isinstance(item, Mapping):
            item = dict(item)
            if kind == "form_fields":
                if "required" in item and not isinstance(item["required"], bool):
                    item["required"] = fold(_text(item["required"])) in TRUE_WORDS
                if isinstance(item.get("choices"), str):
                    item["choices"] = item["choices"].replace("\r\n", "\n")
            for key in ("originals", "copies", "amount"):
                if isinstance(item.get(key), float) and item[key].is_integer():
                    item[key] = int(item[key])
        rows.append(item)
    return rows


def _content_from_row(data: Any) -> tuple[str, str, str, dict[str, Any]]:
    """(code, field code, field name, service content) of one file row; ValidationError with all problems."""
    if not isinstance(data, Mapping):
        raise ValidationError(_("Each procedure must be an object with named values."))
    problems: list[str] = []
    raw_code = _text(data.get("code")).strip()
    code = codes.national_code(raw_code)
    if not raw_code:
        problems.append(_("The procedure code is missing."))
    elif code is None:
        problems.append(
            _("“%(code)s” is not a procedure code: use the national form D.NNNNNN, e.g. 1.001193.") % {"code": raw_code}
        )
    field_code = normalize(_text(data.get("field_code")))
    if not field_code:
        problems.append(_("The field of activity (field_code) is missing."))
    time_kind = TIME_KIND_ALIASES.get(fold(_text(data.get("time_kind"))))
    if time_kind is None:
        problems.append(
            _("Unknown kind of time limit “%(value)s”: use immediate, same_day or working_days.")
            % {"value": _text(data.get("time_kind"))}
        )
    online_level = ONLINE_LEVEL_ALIASES.get(fold(_text(data.get("online_level"))))
    if online_level is None:
        problems.append(
            _("Unknown online level “%(value)s”: use full, partial or none.")
            % {"value": _text(data.get("online_level"))}
        )
    content: dict[str, Any] = {
        "name": _text(data.get("name")),
        "levels": _codes(data.get("levels")),
        "agencies": _codes(data.get("agencies")),
        "time_kind": time_kind or "",
        "resolution_days": _days(data.get("resolution_days"), problems),
        "same_day_cutoff": _cutoff(data.get("same_day_cutoff"), problems),
        "online_level": online_level or "",
    }
    for name in ("legal_basis", "result_type", "description", "requirements"):
        content[name] = _text(data.get(name)).replace("\r\n", "\n")
    for kind in CHILD_MODELS:
        content[kind] = _children(data.get(kind), kind, problems)
    if problems:
        raise ValidationError(problems)
    return code or raw_code, field_code, normalize(_text(data.get("field_name"))), content


class _Unchanged(Exception):
    def __init__(self, version: ProcedureVersion) -> None:
        self.version = version


def _import_row(data: Any, actor: User | None) -> tuple[str, Outcome, int]:
    code, field_code, field_name, content = _content_from_row(data)
    field_obj = Field.objects.filter(code=field_code).first()
    if field_obj is None:
        if not field_name:
            raise ValidationError(
                _("Unknown field of activity “%(code)s”: give its name in field_name to create it.")
                % {"code": field_code}
            )
        field_obj = Field(code=field_code, name=field_name)
        field_obj.full_clean()
        field_obj.save()
    content["field"] = field_obj
    procedure = Procedure.objects.filter(code=code).first()
    if procedure is None:
        version = create_procedure(code, actor=actor, publish=True, **content)
        return code, Outcome.CREATED, version.number
    current = procedure.current_version
    try:
        with transaction.atomic():
            version = add_version(procedure, actor=actor, **content)
            if current is not None:
                fresh = selectors.versions_with_content().get(pk=version.pk)
                old = selectors.versions_with_content().get(pk=current.pk)
                if transfer.version_to_record(fresh, with_number=False) == transfer.version_to_record(
                    old, with_number=False
                ):
                    raise _Unchanged(old)
            publish_version(version, actor)
    except _Unchanged as same:
        return code, Outcome.UNCHANGED, same.version.number
    return code, Outcome.NEW_VERSION, version.number


@transaction.atomic
def import_catalogue(
    data: bytes, *, filename: str | None = None, fmt: str | None = None, actor: User | None = None
) -> ImportReport:
    """Import a catalogue file row by row and report each row.

    A file that cannot be read as a whole raises ``transfer.CatalogueFileError`` before anything
    is written. Each row is saved in its own savepoint: a bad row is reported (with the file's row
    number) and leaves nothing behind, the good rows are kept. A known code with different content
    gets a new published version; the same content changes nothing.
    """
    return import_rows(transfer.load(data, transfer.detect_format(filename, fmt)), actor=actor)


@transaction.atomic
def import_records(records: list[dict], actor: User | None = None) -> ImportReport:
    """Import records shaped like the JSON file's items (numbered from 1), e.g. the demo catalogue."""
    return import_rows([transfer.SourceRow(number, record) for number, record in enumerate(records, 1)], actor=actor)


@transaction.atomic
def import_rows(rows: list[transfer.SourceRow], actor: User | None = None) -> ImportReport:
    """Save each row in its own savepoint and report it; see ``import_catalogue``."""
    report = ImportReport()
    for source in rows:
        raw_code = _text(source.data.get("code")).strip() if isinstance(source.data, Mapping) else ""
        try:
            with transaction.atomic():
                code, outcome, number = _import_row(source.data, actor)
        except ValidationError as exc:
            report.rows.append(RowResult(source.number, raw_code, Outcome.ERROR, messages_of(exc, ProcedureVersion)))
        except IntegrityError as exc:
            report.rows.append(
                RowResult(
                    source.number,
                    raw_code,
                    Outcome.ERROR,
                    [_("The row could not be saved: %(error)s") % {"error": exc}],
                )
            )
        else:
            report.rows.append(RowResult(source.number, code, outcome, version=number))
    return report
