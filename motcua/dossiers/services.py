"""The only code that changes dossiers (invariant 1).

Every public function is one transaction that also writes exactly one ``DossierEvent`` (who,
in which role, for which agency, when, from which address). Input is validated completely before
anything is written, so bad input raises ``ValidationError`` (a dict of field → messages) and
leaves no dossier, no event, no consumed code number and no stored file behind. Status changes
lock the dossier row (``select_for_update``) and ask ``lifecycle`` first.

``now`` parameters exist so tests and imports can state the moment; by default it is the clock.
"""

import ipaddress
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua import inputs, sequences
from motcua.catalog import selectors as catalog_selectors
from motcua.catalog.formschema import build_form_class
from motcua.catalog.models import DocumentComponent, ProcedureVersion
from motcua.dossiers import codes, lifecycle, uploads
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import (
    ApplicantKind,
    Channel,
    Dossier,
    DossierCodeSequence,
    DossierDocument,
    DossierEvent,
    DossierPause,
)
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.org.models import Agency, Counter, Role, User
from motcua.phones import is_vietnamese_phone, normalize_phone
from motcua.text import BadText, check_tree
from motcua.text import clean as clean_text
from motcua.worktime.calendar import WorkCalendar
from motcua.worktime.selectors import calendar_for_agency

Action = DossierEvent.Action
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_DOSSIER_SIZE = 50 * 1024 * 1024
# ASCII digits only: "\d" also takes Arabic-Indic and full-width digits, which break look-ups by CCCD.
ID_NUMBER_RE = re.compile(r"^[0-9]{12}$")
TAX_CODE_RE = re.compile(r"^[0-9]{10}(-[0-9]{3})?$")
APPLICANT_KEYS = frozenset(
    {
        "kind",
        "full_name",
        "id_number",
        "date_of_birth",
        "phone",
        "email",
        "address",
        "accepts_sms",
        "accepts_zalo",
    }
)
MAX_COPIES = 99


def _now(now: datetime | None) -> datetime:
    moment = now or timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("Pass an aware datetime as now.")
    return moment


def _client_address(ip: str | None) -> str | None:
    """A valid IP address or None: the address comes from a header and is recorded, not trusted."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def _role_of(actor: User, *preferred: str) -> str:
    """The role in which ``actor`` acts: the first preferred one they hold, else any role they hold."""
    for role in preferred:
        if actor.has_role(role):
            return role
    if actor.is_superuser:
        return Role.SYSTEM_ADMIN
    return sorted(actor.role_codes)[0] if actor.role_codes else ""


def _record(
    dossier: Dossier,
    *,
    actor: User | None,
    role: str,
    action: str,
    from_status: str,
    at: datetime,
    ip: str | None,
    data: dict[str, Any] | None = None,
) -> DossierEvent:
    """Append one event; callers are inside the transaction that changed ``dossier``."""
    return DossierEvent.objects.create(
        dossier=dossier,
        actor=actor,
        actor_role=role,
        agency=getattr(actor, "agency", None),
        action=action,
        from_status=from_status,
        to_status=dossier.status,
        at=at,
        client_address=_client_address(ip),
        data=_jsonable(data or {}),
    )


def _jsonable(value: Any) -> Any:
    """What the JSON column will give back (dates as ISO text, decimals as text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# --- validation ----------------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(str(message))

    def text(self, field: str, value: Any, *, max_length: int | None = None, multiline: bool = False) -> str:
        """``value`` NFC and checked (no control character, not too long); "" and a message when it is not."""
        try:
            return clean_text(value, max_length=max_length, multiline=multiline)
        except BadText as error:
            self.add(field, inputs.message(error))
            return ""

    def tree(self, field: str, value: Any, **limits: int) -> bool:
        """Every string of JSON-like ``value`` checked (and its depth and size); False with a message if not."""
        try:
            check_tree(value, **limits)
        except BadText as error:
            self.add(f"{field}.{error.path}" if error.path else field, inputs.message(error))
            return False
        return True

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


MAX_REASON = 5000
#: JSON form data: how deep, how long a string, how many values (a real form is 2 levels, some 100 values).
FORM_LIMITS = {"max_depth": 8, "max_string": 20_000, "max_items": 5_000}


def _checked(field: str, value: Any, max_length: int = MAX_REASON) -> str:
    """A reason or note: NFC, checked; ValidationError on ``field`` when it has a control character or is too long."""
    errors = _Errors()
    text = errors.text(field, value or "", max_length=max_length)
    errors.raise_if_any()
    return text


def _checked_items(field: str, values: Any) -> list[str]:
    """The non-empty lines of a list (what the applicant must add), each checked as ``_checked``."""
    if values in (None, ""):
        return []
    if not isinstance(values, list | tuple):
        raise ValidationError({field: [_("Give a list of items.")]})
    errors = _Errors()
    items = [
        errors.text(f"{field}.{i}", item if item is not None else "", max_length=1000)
        for i, item in enumerate(values[:100])
    ]
    if len(values) > 100:
        errors.add(field, inputs.message(BadText("too_many", 100)))
    errors.raise_if_any()
    return [item for item in items if item]


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _clean_applicant(applicant: dict, errors: _Errors, *, require_id: bool, today: date) -> dict[str, Any]:
    """Model field values of the applicant, NFC-normalised; problems go to ``errors``."""
    if not isinstance(applicant, dict):
        errors.add("applicant", _("Enter the applicant's details."))
        return {}
    for key in sorted(set(applicant) - APPLICANT_KEYS):
        errors.add(f"applicant.{key}", _("Unknown applicant field “%(key)s”.") % {"key": key})
    kind = str(applicant.get("kind") or ApplicantKind.PERSON)
    if kind not in ApplicantKind.values:
        errors.add("applicant.kind", _("The applicant is either a person or an organisation."))
        kind = ApplicantKind.PERSON
    values: dict[str, Any] = {"applicant_kind": kind}

    name = errors.text("applicant.full_name", applicant.get("full_name") or "")
    if not name and "applicant.full_name" not in errors.by_field:
        errors.add("applicant.full_name", _("Enter the applicant's full name."))
    elif len(name) > 255:
        errors.add("applicant.full_name", _("The full name is too long (at most 255 characters)."))
    values["applicant_name"] = name

    id_number = re.sub(r"\s", "", errors.text("applicant.id_number", applicant.get("id_number") or "", max_length=40))
    if not id_number:
        if require_id:
            errors.add(
                "applicant.id_number",
                _("Enter the 12-digit personal identification number (CCCD).")
                if kind == ApplicantKind.PERSON
                else _("Enter the organisation's tax code."),
            )
    elif kind == ApplicantKind.PERSON and not ID_NUMBER_RE.match(id_number):
        errors.add("applicant.id_number", _("The CCCD number must have exactly 12 digits."))
    elif kind == ApplicantKind.ORGANISATION and not TAX_CODE_RE.match(id_number):
        errors.add("applicant.id_number", _("The tax code must have 10 digits, or 10 digits, a dash and 3 digits."))
    values["applicant_id_number"] = id_number

    try:
        birth = _parse_date(applicant.get("date_of_birth"))
    except ValueError:
        errors.add("applicant.date_of_birth", _("Enter the date of birth as dd/mm/yyyy."))
        birth = None
    if birth and birth > today:
        errors.add("applicant.date_of_birth", _("The date of birth cannot be in the future."))
    elif birth and birth < inputs.EARLIEST_DAY:
        errors.add("applicant.date_of_birth", _("The date of birth cannot be before 01/01/1900."))
    values["applicant_birth_date"] = birth

    raw_phone = errors.text("applicant.phone", applicant.get("phone") or "", max_length=40)
    phone = normalize_phone(raw_phone)
    if phone and not is_vietnamese_phone(phone):
        errors.add(
            "applicant.phone",
            _("Enter a Vietnamese phone number such as 0912345678, +84912345678 or 02113862xxx."),
        )
    values["applicant_phone"] = phone

    email = errors.text("applicant.email", applicant.get("email") or "", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.add("applicant.email", _("Enter a valid e-mail address."))
    values["applicant_email"] = email.lower()
    values["applicant_address"] = errors.text("applicant.address", applicant.get("address") or "", max_length=500)
    values["accepts_sms"] = bool(applicant.get("accepts_sms"))
    values["accepts_zalo"] = bool(applicant.get("accepts_zalo"))
    if (values["accepts_sms"] or values["accepts_zalo"]) and not phone:
        errors.add("applicant.phone", _("A phone number is needed for SMS or Zalo notices."))
    return values


def _clean_form(version: ProcedureVersion, form_data: dict, errors: _Errors) -> dict[str, Any]:
    """The application form validated by the catalogue's form builder, in JSON-friendly values."""
    if not errors.tree("form_data", form_data, **FORM_LIMITS):
        return {}
    form = build_form_class(version)(data=form_data if isinstance(form_data, dict) else {})
    if not form.is_valid():
        for field, messages in form.errors.items():
            for message in messages:
                errors.add(f"form_data.{field}", message)
        return {}
    return _jsonable(form.cleaned_data)


@dataclass
class _Document:
    component: DocumentComponent | None
    name: str
    originals: int
    copies: int
    upload: File | None = None
    filename: str = ""
    kind: uploads.FileKind | None = None
    size: int = 0


def _count(value: Any, default: int) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= MAX_COPIES else None


def _check_file(upload: Any, field: str, errors: _Errors, max_file: int) -> tuple[uploads.FileKind, int] | None:
    if not isinstance(upload, File):
        errors.add(field, _("The attachment is not a file."))
        return None
    size = upload.size or 0
    if size > max_file:
        errors.add(
            field,
            _("The file is too large: %(size)s MB, at most %(max)s MB per file.")
            % {"size": round(size / 1_048_576, 1), "max": round(max_file / 1_048_576, 1)},
        )
        return None
    if size == 0:
        errors.add(field, _("The file is empty."))
        return None
    upload.seek(0)
    head = upload.read(uploads.HEAD_BYTES)
    upload.seek(0)
    kind = uploads.sniff(head)
    if kind is None:
        errors.add(field, _("Only PDF, JPEG and PNG files are accepted; this file is none of them."))
        return None
    return kind, size


def _component_and_name(
    components: dict[int, DocumentComponent], row: dict, prefix: str, errors: _Errors
) -> tuple[DocumentComponent | None, str] | None:
    """The component a document row names (None for an extra paper) and its name; None for a foreign component."""
    component = None
    raw = row.get("component")
    if raw not in (None, ""):
        try:
            component = components.get(int(raw))
        except (TypeError, ValueError):
            component = None
        if component is None:
            errors.add(f"{prefix}.component", _("This document is not a component of the procedure."))
            return None
    name = errors.text(f"{prefix}.name", row.get("name") or (component.name if component else ""), max_length=1000)
    if not name and f"{prefix}.name" not in errors.by_field:
        errors.add(f"{prefix}.name", _("Name the document."))
    return component, name


def _clean_documents(version: ProcedureVersion, documents: Iterable[dict], errors: _Errors) -> list[_Document]:
    """Documents handed in: components of ``version`` (or extra papers), counts, scans checked by content."""
    components = {c.pk: c for c in version.components.all()}
    max_file = int(getattr(settings, "MOTCUA_MAX_FILE_SIZE", DEFAULT_MAX_FILE_SIZE))
    max_total = int(getattr(settings, "MOTCUA_MAX_DOSSIER_SIZE", DEFAULT_MAX_DOSSIER_SIZE))
    cleaned: list[_Document] = []
    total = 0
    for index, row in enumerate(documents or []):
        prefix = f"documents.{index}"
        if not isinstance(row, dict):
            errors.add(prefix, _("Each document is described by its component and counts."))
            continue
        resolved = _component_and_name(components, row, prefix, errors)
        if resolved is None:
            continue
        component, name = resolved
        originals = _count(row.get("originals"), component.originals if component else 0)
        copies = _count(row.get("copies"), component.copies if component else 0)
        if originals is None or copies is None:
            errors.add(
                prefix, _("Counts of originals and copies are whole numbers from 0 to %(max)s.") % {"max": MAX_COPIES}
            )
            continue
        doc = _Document(component=component, name=name, originals=originals, copies=copies)
        upload = row.get("file")
        if upload is not None:
            checked = _check_file(upload, f"{prefix}.file", errors, max_file)
            if checked is not None:
                doc.kind, doc.size = checked
                doc.upload = upload
                doc.filename = uploads.sanitize_filename(getattr(upload, "name", ""), doc.kind.extension)
                total += doc.size
        cleaned.append(doc)
    if total > max_total:
        errors.add(
            "documents",
            _("The attachments together are too large: %(size)s MB, at most %(max)s MB per dossier.")
            % {"size": round(total / 1_048_576, 1), "max": round(max_total / 1_048_576, 1)},
        )
    ticked = {d.component.pk for d in cleaned if d.component and (d.originals or d.copies or d.upload)}
    for component in components.values():
        if component.requirement == DocumentComponent.Requirement.MANDATORY and component.pk not in ticked:
            errors.add(
                "documents",
                _("The mandatory document “%(name)s” has not been received.") % {"name": component.name},
            )
    return cleaned


# --- who receives what ----------------------------------------------------------------------------


def _require_clerk(clerk: User) -> Agency:
    if not (clerk.is_authenticated and clerk.is_active and clerk.agency_id and clerk.has_role(Role.CLERK)):
        raise PermissionDenied(_("Only a one-stop clerk of an agency can receive dossiers."))
    return clerk.agency


def _may_receive_for(receiving: Agency, competent: Agency) -> bool:
    """A one-stop desk receives for the agencies of its own unit; a service centre (tỉnh or district
    Trung tâm Phục vụ hành chính công) for every agency in its unit's subtree, which is how a
    dossier can be received anywhere in the province since 2025."""
    if receiving.kind == Agency.Kind.SERVICE_CENTRE:
        return competent.unit.is_within(receiving.unit)
    return competent.unit_id == receiving.unit_id


def _carries_out(version: ProcedureVersion, agency: Agency) -> bool:
    """The version lists its implementing agencies; without a list, its levels decide."""
    agencies = {a.pk for a in version.agencies.all()}
    if agencies:
        return agency.pk in agencies
    levels = {level.pk for level in version.levels.all()}
    return not levels or agency.unit.level_id in levels


def _competent_agency(
    version: ProcedureVersion, receiving: Agency, requested: Agency | str | None, errors: _Errors
) -> Agency | None:
    if requested is not None:
        agency = requested
        if isinstance(requested, str):
            agency = Agency.objects.select_related("unit").filter(code=requested.strip().upper()).first()
            if agency is None:
                errors.add("competent_agency", _("No agency has the code “%(code)s”.") % {"code": requested})
                return None
        if not _carries_out(version, agency):
            errors.add("competent_agency", _("%(agency)s does not carry out this procedure.") % {"agency": agency.name})
            return None
        if not _may_receive_for(receiving, agency):
            errors.add(
                "competent_agency",
                _("Your one-stop desk cannot receive dossiers for %(agency)s.") % {"agency": agency.name},
            )
            return None
        return agency
    if _carries_out(version, receiving):
        return receiving
    listed = list(version.agencies.select_related("unit"))
    candidates = [a for a in listed if a.is_active and _may_receive_for(receiving, a)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        errors.add("competent_agency", _("Several agencies carry out this procedure here: choose the competent one."))
    else:
        errors.add(
            "procedure_code",
            _("This procedure is not carried out by your agency or the agencies your desk receives for."),
        )
    return None


def _version(procedure_code: str, errors: _Errors) -> ProcedureVersion | None:
    version = catalog_selectors.get_procedure(procedure_code or "")
    if version is None:
        errors.add(
            "procedure_code",
            _("No published procedure has the code “%(code)s”.") % {"code": procedure_code},
        )
    return version


def _due(calendar: WorkCalendar, version: ProcedureVersion, start: datetime) -> datetime | None:
    kind = version.time_kind
    if kind == ProcedureVersion.TimeKind.IMMEDIATE:
        return None
    if kind == ProcedureVersion.TimeKind.SAME_DAY:
        return calendar.same_day_due(start, version.same_day_cutoff)
    return calendar.due_moment(start, version.resolution_days)


# --- codes -------------------------------------------------------------------------------------


def code_format() -> str:
    return getattr(settings, "MOTCUA_DOSSIER_CODE_FORMAT", codes.DEFAULT_FORMAT)


def _next_number(agency: Agency, day: date) -> int:
    """The agency's next running number for ``day``, gap-free: call inside the dossier's transaction."""
    return sequences.next_number(DossierCodeSequence, agency=agency, day=day)


# --- intake --------------------------------------------------------------------------------------


def _store_files(dossier: Dossier, docs: list[_Document], stored: list[str]) -> None:
    for doc in docs:
        row = DossierDocument(
            dossier=dossier,
            component=doc.component,
            name=doc.name,
            originals_received=doc.originals,
            copies_received=doc.copies,
        )
        if doc.upload is not None and doc.kind is not None:
            doc.upload.seek(0)
            row.file.save(f"{uuid.uuid4().hex}{doc.kind.extension}", doc.upload, save=False)
            stored.append(row.file.name)
            row.original_filename = doc.filename
            row.content_type = doc.kind.content_type
            row.size = doc.size
        row.save()


def _discard(stored: list[str]) -> None:
    for name in stored:
        default_storage.delete(name)


def receive_at_counter(
    *,
    clerk: User,
    procedure_code: str,
    applicant: dict,
    form_data: dict,
    documents: list[dict],
    channel: str = Channel.COUNTER,
    competent_agency: Agency | str | None = None,
    counter: Counter | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    idempotency_key: str | None = None,
) -> Dossier:
    """Receive a complete dossier: validate everything, then give the code, start the clock, log it.

    ``documents`` rows: ``{"component": id, "originals": n, "copies": n, "file": File}`` (or a
    ``name`` instead of ``component`` for an extra paper). Raises ValidationError (nothing saved)
    or PermissionDenied for someone who is not a clerk.

    ``idempotency_key`` (1-100 visible ASCII characters, e.g. a UUID) names this intake: a repeat by
    the same clerk with the same key (a double click, a browser or network retry) returns the dossier
    the first one received, with ``replayed = True``, and writes nothing, also when both arrive at
    once (a unique constraint decides, not a look-up). The repeat's content is not compared.
    """
    moment = _now(now)
    receiving = _require_clerk(clerk)
    key = _intake_key(idempotency_key)
    if key is not None and (first := _received_with(clerk, key)) is not None:
        return first
    errors = _Errors()
    if channel not in Channel.values:
        errors.add("channel", _("Unknown channel."))
    if counter is not None and counter.agency_id != receiving.pk:
        errors.add("counter", _("The counter belongs to another agency."))
    version = _version(procedure_code, errors)
    values = _clean_applicant(applicant, errors, require_id=True, today=timezone.localdate(moment))
    competent = form = docs = None
    if version is not None:
        competent = _competent_agency(version, receiving, competent_agency, errors)
        form = _clean_form(version, form_data, errors)
        docs = _clean_documents(version, documents, errors)
    errors.raise_if_any()
    assert version is not None and competent is not None and docs is not None

    due = _due(calendar_for_agency(competent), version, moment)
    stored: list[str] = []
    try:
        with transaction.atomic():
            dossier = Dossier(
                procedure_version=version,
                status=Status.RECEIVED,
                channel=channel,
                receiving_agency=receiving,
                competent_agency=competent,
                counter=counter,
                received_by=clerk,
                form_data=form,
                submitted_at=moment,
                received_at=moment,
                valid_receipt_at=moment,
                due_at=due,
                intake_key=key,
                **values,
            )
            dossier.save()
            _store_files(dossier, docs, stored)
            # Numbered last, so the agency's sequence row stays locked only for the few statements
            # before the commit, not while files are written.
            day = timezone.localdate(moment)
            dossier.code = codes.format_code(receiving.code, day, _next_number(receiving, day), code_format())
            dossier.save(update_fields=["code"])
            _record(
                dossier,
                actor=clerk,
                role=Role.CLERK,
                action=Action.RECEIVED,
                from_status="",
                at=moment,
                ip=ip,
                data={"code": dossier.code, "due_at": due, "channel": channel, "documents": len(docs)},
            )
            # The procedure's workflow (if it has one) takes over: first step, holder, deadlines.
            from motcua.workflow import services as workflow_services

            workflow_services.start(dossier, actor=clerk, now=moment, ip=ip)
    except IntegrityError:
        _discard(stored)
        # A concurrent repeat with the same key committed first (its insert made ours wait, then fail).
        if key is not None and (first := _received_with(clerk, key)) is not None:
            return first
        raise
    except BaseException:
        _discard(stored)
        raise
    dossier.replayed = False
    return dossier


_INTAKE_KEY = re.compile(r"[\x21-\x7e]{1,100}", re.ASCII)


def _intake_key(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _INTAKE_KEY.fullmatch(value):
        raise ValidationError(
            {"idempotency_key": [_("The idempotency key is 1 to 100 visible ASCII characters, e.g. a UUID.")]}
        )
    return value


def _received_with(clerk: User, key: str) -> Dossier | None:
    dossier = Dossier.objects.filter(received_by=clerk, intake_key=key).first()
    if dossier is not None:
        dossier.replayed = True
    return dossier


def _counter_outcome(
    *,
    clerk: User,
    procedure_code: str,
    applicant: dict,
    status: str,
    action: str,
    data: dict,
    ip: str | None,
    now: datetime | None,
    errors: _Errors,
    idempotency_key: str | None = None,
) -> Dossier:
    """A guidance or refusal record: no code, no clock, but the applicant and the reason are kept.

    ``idempotency_key`` as for ``receive_at_counter``: a repeat returns the first record.
    """
    moment = _now(now)
    receiving = _require_clerk(clerk)
    key = _intake_key(idempotency_key)
    if key is not None and (first := _received_with(clerk, key)) is not None:
        return first
    version = _version(procedure_code, errors)
    values = _clean_applicant(applicant, errors, require_id=False, today=timezone.localdate(moment))
    competent = receiving
    if version is not None:
        # Refusing because the procedure belongs elsewhere is a legitimate outcome: fall back to
        # the clerk's own agency when no competent agency can be found.
        competent = _competent_agency(version, receiving, None, _Errors()) or receiving
    errors.raise_if_any()
    try:
        with transaction.atomic():
            dossier = Dossier.objects.create(
                procedure_version=version,
                status=status,
                channel=Channel.COUNTER,
                receiving_agency=receiving,
                competent_agency=competent,
                received_by=clerk,
                submitted_at=moment,
                intake_key=key,
                **values,
            )
            _record(dossier, actor=clerk, role=Role.CLERK, action=action, from_status="", at=moment, ip=ip, data=data)
    except IntegrityError:
        if key is not None and (first := _received_with(clerk, key)) is not None:
            return first
        raise
    dossier.replayed = False
    return dossier


def return_for_completion(
    *,
    clerk: User,
    procedure_code: str,
    applicant: dict,
    missing: list[str],
    reason: str = "",
    ip: str | None = None,
    now: datetime | None = None,
    idempotency_key: str | None = None,
) -> Dossier:
    """Record the guidance given to an applicant whose dossier is incomplete (Mẫu 02)."""
    errors = _Errors()
    items = _checked_items("missing", missing)
    reason = _checked("reason", reason)
    if not items and not reason:
        errors.add("missing", _("List what the applicant must add or correct."))
    return _counter_outcome(
        clerk=clerk,
        procedure_code=procedure_code,
        applicant=applicant,
        status=Status.RETURNED_FOR_COMPLETION,
        action=Action.RETURNED_FOR_COMPLETION,
        data={"missing": items, "reason": reason},
        ip=ip,
        now=now,
        errors=errors,
        idempotency_key=idempotency_key,
    )


def refuse(
    *,
    clerk: User,
    procedure_code: str,
    applicant: dict,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
    idempotency_key: str | None = None,
) -> Dossier:
    """Record a refusal to receive (Mẫu 03); the reason is mandatory."""
    errors = _Errors()
    reason = _checked("reason", reason)
    if not reason:
        errors.add("reason", _("Give the reason for refusing the dossier."))
    return _counter_outcome(
        clerk=clerk,
        procedure_code=procedure_code,
        applicant=applicant,
        status=Status.REFUSED,
        action=Action.REFUSED,
        data={"reason": reason},
        ip=ip,
        now=now,
        errors=errors,
        idempotency_key=idempotency_key,
    )


# --- status changes ------------------------------------------------------------------------------

#: Who may change a dossier's status (besides seeing it): not monitors, not unit administrators.
CHANGING_ROLES = (Role.CLERK, Role.SPECIALIST, Role.LEADER, Role.DOCUMENT_CLERK, Role.SYSTEM_ADMIN)


def _transition(
    dossier: Dossier,
    *,
    actor: User,
    to_status: str,
    action: str,
    expected_from: Iterable[str] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    data: dict | None = None,
    apply=None,
) -> Dossier:
    """Lock the row, check the lifecycle (and the caller's ``expected_from``), change, log; one transaction.

    Only staff who can see the dossier (``dossiers_visible_to``) may change it; the portal will add
    the applicant's own withdrawal. ``apply(locked, moment)`` sets the other fields and returns
    the fields it changed (and may write related rows). The caller's ``dossier`` is refreshed.
    """
    moment = _now(now)
    with transaction.atomic():
        # The applicant may make a few changes to their own online dossier (APPLICANT_ACTIONS).
        applicant = action in APPLICANT_ACTIONS and is_applicant(actor, dossier)
        if not applicant and not dossiers_visible_to(actor).filter(pk=dossier.pk).exists():
            raise PermissionDenied(_("You cannot change this dossier."))
        if not (applicant or actor.has_role(*CHANGING_ROLES) or actor.is_superuser):
            # Monitors and unit administrators see dossiers but do not handle them.
            raise PermissionDenied(_("Your role cannot change dossiers."))
        locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
        from_status = locked.status
        allowed = set(expected_from) if expected_from is not None else None
        if allowed is not None and from_status not in allowed:
            raise lifecycle.IllegalTransition(from_status, to_status)
        lifecycle.check_transition(from_status, to_status)
        locked.status = to_status
        fields = {"status"}
        if apply is not None:
            fields |= set(apply(locked, moment))
        locked.save(update_fields=fields)
        _record(
            locked,
            actor=actor,
            role=Role.CITIZEN if applicant else _role_of(actor, Role.SPECIALIST, Role.CLERK, Role.LEADER),
            action=action,
            from_status=from_status,
            at=moment,
            ip=ip,
            data=data,
        )
    dossier.refresh_from_db()
    return locked


def _require_reason(reason: str) -> str:
    reason = _checked("reason", reason)
    if not reason:
        raise ValidationError({"reason": [_("Give the reason.")]})
    return reason


def start_processing(dossier: Dossier, *, actor: User, ip: str | None = None, now: datetime | None = None) -> Dossier:
    """Hand a received dossier to the competent agency for processing."""
    return _transition(
        dossier,
        actor=actor,
        to_status=Status.IN_PROCESS,
        action=Action.PROCESSING_STARTED,
        expected_from={Status.RECEIVED},
        ip=ip,
        now=now,
    )


def request_supplement(
    dossier: Dossier, *, actor: User, reason: str, ip: str | None = None, now: datetime | None = None
) -> Dossier:
    """Ask the applicant to supplement the dossier: the clock pauses (a DossierPause opens), due_at is kept."""
    reason = _require_reason(reason)

    def apply(locked: Dossier, moment: datetime) -> list[str]:
        DossierPause.objects.create(dossier=locked, started_at=moment, reason=reason)
        locked.paused_at = moment
        return ["paused_at"]

    return _transition(
        dossier,
        actor=actor,
        to_status=Status.WAITING_FOR_SUPPLEMENT,
        action=Action.SUPPLEMENT_REQUESTED,
        expected_from={Status.IN_PROCESS},
        ip=ip,
        now=now,
        data={"reason": reason},
        apply=apply,
    )


def _close_pause(locked: Dossier, moment: datetime) -> DossierPause | None:
    pause = locked.pauses.filter(ended_at__isnull=True).first()
    if pause is not None:
        pause.ended_at = moment
        pause.save(update_fields=["ended_at"])
    locked.paused_at = None
    return pause


def supplement_received(
    dossier: Dossier, *, actor: User, ip: str | None = None, now: datetime | None = None
) -> Dossier:
    """The supplement arrived: close the pause and move the due moment by the competent agency's calendar."""
    data: dict[str, Any] = {}

    def apply(locked: Dossier, moment: datetime) -> list[str]:
        pause = _close_pause(locked, moment)
        if pause is not None and locked.due_at is not None:
            old_due = locked.due_at
            locked.due_at = calendar_for_agency(locked.competent_agency).resume_due(old_due, pause.started_at, moment)
            data.update(previous_due_at=old_due, due_at=locked.due_at)
        return ["paused_at", "due_at"]

    return _transition(
        dossier,
        actor=actor,
        to_status=Status.IN_PROCESS,
        action=Action.SUPPLEMENT_RECEIVED,
        expected_from={Status.WAITING_FOR_SUPPLEMENT},
        ip=ip,
        now=now,
        data=data,
        apply=apply,
    )


def _end_clock(locked: Dossier, moment: datetime) -> list[str]:
    _close_pause(locked, moment)
    locked.finished_at = moment
    return ["paused_at", "finished_at"]


def _end(
    dossier: Dossier, *, actor: User, reason: str, to_status: str, action: str, ip: str | None, now: datetime | None
) -> Dossier:
    """Withdrawal and stop: the clock ends without a verdict, and open workflow steps close with it."""
    reason = _require_reason(reason)
    moment = _now(now)
    with transaction.atomic():
        locked = _transition(
            dossier,
            actor=actor,
            to_status=to_status,
            action=action,
            ip=ip,
            now=moment,
            data={"reason": reason},
            apply=_end_clock,
        )
        from motcua.workflow import services as workflow_services  # the workflow app imports this module

        workflow_services.dossier_ended(locked, now=moment)
    return locked


def withdraw(
    dossier: Dossier, *, actor: User, reason: str, ip: str | None = None, now: datetime | None = None
) -> Dossier:
    """The applicant withdraws the dossier (rút hồ sơ): the clock ends, no timeliness verdict."""
    return _end(
        dossier, actor=actor, reason=reason, to_status=Status.WITHDRAWN, action=Action.WITHDRAWN, ip=ip, now=now
    )


def stop(dossier: Dossier, *, actor: User, reason: str, ip: str | None = None, now: datetime | None = None) -> Dossier:
    """Stop processing (Mẫu 05): the clock ends, no timeliness verdict."""
    return _end(dossier, actor=actor, reason=reason, to_status=Status.STOPPED, action=Action.STOPPED, ip=ip, now=now)


def mark_result_ready(dossier: Dossier, *, actor: User, ip: str | None = None, now: datetime | None = None) -> Dossier:
    """The result is ready: the clock stops and the verdict (early / on time / late) is stored once."""
    verdict: dict[str, Any] = {}

    def apply(locked: Dossier, moment: datetime) -> list[str]:
        calendar = calendar_for_agency(locked.competent_agency)
        locked.finished_at = moment
        locked.timeliness = str(calendar.classify_finish(moment, locked.due_at))
        verdict["timeliness"] = locked.timeliness
        return ["finished_at", "timeliness"]

    return _transition(
        dossier,
        actor=actor,
        to_status=Status.RESULT_READY,
        action=Action.RESULT_READY,
        expected_from={Status.IN_PROCESS},
        ip=ip,
        now=now,
        data=verdict,
        apply=apply,
    )


def return_result(dossier: Dossier, *, actor: User, ip: str | None = None, now: datetime | None = None) -> Dossier:
    """The result is handed over to the applicant."""

    def apply(locked: Dossier, moment: datetime) -> list[str]:
        locked.returned_at = moment
        return ["returned_at"]

    return _transition(
        dossier,
        actor=actor,
        to_status=Status.RETURNED,
        action=Action.RESULT_RETURNED,
        ip=ip,
        now=now,
        apply=apply,
    )


# --- online submissions (citizen portal) ----------------------------------------------------------
#
# A citizen drafts a dossier (status draft, no code, no clock), submits it (submitted_online), and
# the one-stop clerk receives it exactly as at the counter: same code sequence, same due moment
# rules, same workflow start. The owner is kept in ``portal.DossierOwner``; every citizen check
# goes through ``is_applicant``.

#: Status changes the applicant may make on their own dossier (besides submitting).
APPLICANT_ACTIONS = frozenset({Action.SUPPLEMENT_RECEIVED})
EDITABLE_ONLINE = frozenset({Status.DRAFT, Status.RETURNED_FOR_COMPLETION})


def is_applicant(user: User, dossier: Dossier) -> bool:
    """Whether ``user`` is the citizen account that submitted ``dossier`` online."""
    from motcua.portal.models import DossierOwner

    return bool(
        getattr(user, "is_authenticated", False)
        and DossierOwner.objects.filter(dossier_id=dossier.pk, user_id=user.pk).exists()
    )


def _require_citizen(user: User | None) -> User:
    if not (user is not None and user.is_authenticated and user.is_active and user.has_role(Role.CITIZEN)):
        raise PermissionDenied(_("Only a citizen account can submit dossiers online."))
    return user


def _online_agency(version: ProcedureVersion, agency: Agency | str | None, errors: _Errors) -> Agency | None:
    """The agency the online dossier goes to: one of those carrying out the procedure."""
    candidates = [a for a in version.agencies.select_related("unit") if a.is_active]
    if not candidates:
        levels = list(version.levels.all())
        candidates = list(Agency.objects.select_related("unit").filter(is_active=True, unit__level__in=levels))
    if agency not in (None, ""):
        code = agency if isinstance(agency, str) else agency.code
        chosen = next((a for a in candidates if a.code == code.strip().upper()), None)
        if chosen is None:
            errors.add("agency", _("This agency does not receive this procedure online."))
        return chosen
    if len(candidates) == 1:
        return candidates[0]
    errors.add("agency", _("Choose the agency that should handle the dossier."))
    return None


def _online_version(procedure_code: str, errors: _Errors) -> ProcedureVersion | None:
    version = _version(procedure_code, errors)
    if version is not None and version.online_level == ProcedureVersion.OnlineLevel.NONE:
        errors.add("procedure_code", _("This procedure cannot be submitted online."))
        return None
    return version


def _clean_uploads(
    version: ProcedureVersion, documents: Iterable[dict], errors: _Errors, *, files_required: bool = True
) -> list[_Document]:
    """Scans sent online: each row names a component (or a paper) and carries a file checked by content.

    Without ``files_required`` a row may be a name only (papers listed by the national portal).
    """
    components = {c.pk: c for c in version.components.all()}
    max_file = int(getattr(settings, "MOTCUA_MAX_FILE_SIZE", DEFAULT_MAX_FILE_SIZE))
    cleaned: list[_Document] = []
    for index, row in enumerate(documents or []):
        prefix = f"documents.{index}"
        if not isinstance(row, dict):
            errors.add(prefix, _("Each document is described by its component and counts."))
            continue
        resolved = _component_and_name(components, row, prefix, errors)
        if resolved is None or not resolved[1]:
            continue
        component, name = resolved
        if row.get("file") is None and not files_required:
            cleaned.append(_Document(component=component, name=name, originals=0, copies=0))
            continue
        checked = _check_file(row.get("file"), f"{prefix}.file", errors, max_file)
        if checked is None:
            continue
        kind, size = checked
        doc = _Document(component=component, name=name, originals=0, copies=0, upload=row["file"], kind=kind, size=size)
        doc.filename = uploads.sanitize_filename(getattr(row["file"], "name", ""), kind.extension)
        cleaned.append(doc)
    return cleaned


def _owned_for_update(citizen: User, draft: Dossier, statuses: Iterable[str]) -> Dossier:
    locked = Dossier.objects.select_for_update().filter(pk=draft.pk, owner__user=citizen).first()
    if locked is None:
        raise Dossier.DoesNotExist
    if locked.status not in set(statuses):
        raise lifecycle.IllegalTransition(locked.status, Status.SUBMITTED_ONLINE)
    return locked


def save_draft(
    citizen: User,
    *,
    procedure_code: str = "",
    draft: Dossier | None = None,
    agency: Agency | str | None = None,
    applicant: dict | None = None,
    form_data: dict | None = None,
    documents: list[dict] | None = None,
    now: datetime | None = None,
) -> Dossier:
    """Create or update the citizen's draft: formats are checked, completeness only on submission.

    A draft is the applicant's own workspace (no code, no clock, no event); uploads are checked
    by content now and replace an earlier scan of the same component. Raises ValidationError.
    """
    from motcua.portal.models import DossierOwner

    _require_citizen(citizen)
    moment = _now(now)
    errors = _Errors()
    version = draft.procedure_version if draft is not None else _online_version(procedure_code, errors)
    values = _clean_applicant(applicant or {}, errors, require_id=False, today=timezone.localdate(moment))
    target = docs = None
    fields: dict[str, Any] = {}
    if version is not None:
        target = _online_agency(version, agency if agency or draft is None else draft.competent_agency, errors)
        names = set(build_form_class(version)().fields)
        raw = form_data if isinstance(form_data, dict) else {}
        fields = {
            k: errors.text(f"form_data.{k}", v, max_length=5000)
            for k, v in raw.items()
            if k in names and v not in (None, "")
        }
        docs = _clean_uploads(version, documents or [], errors)
    errors.raise_if_any()
    assert version is not None and target is not None and docs is not None
    stored: list[str] = []
    old_files: list[str] = []
    try:
        with transaction.atomic():
            if draft is not None:
                dossier = _owned_for_update(citizen, draft, EDITABLE_ONLINE)
            else:
                dossier = Dossier(procedure_version=version, status=Status.DRAFT, channel=Channel.ONLINE)
            dossier.receiving_agency = dossier.competent_agency = target
            dossier.form_data = fields
            for key, value in values.items():
                setattr(dossier, key, value)
            dossier.save()
            if draft is None:
                DossierOwner.objects.create(dossier=dossier, user=citizen)
            replaced = {d.component.pk for d in docs if d.component}
            for old in dossier.documents.filter(component__in=replaced):
                if old.file:
                    old_files.append(old.file.name)
                old.delete()
            _store_files(dossier, docs, stored)
    except BaseException:
        _discard(stored)
        raise
    transaction.on_commit(lambda: _discard(old_files))
    return dossier


def _missing_scans(dossier: Dossier) -> list[str]:
    have = {d.component_id for d in dossier.documents.all() if d.file}
    return [
        c.name
        for c in dossier.procedure_version.components.all()
        if c.requirement == DocumentComponent.Requirement.MANDATORY and c.pk not in have
    ]


def submit_online(
    citizen: User | None,
    draft: Dossier | None = None,
    *,
    procedure_code: str = "",
    applicant: dict | None = None,
    receiving_agency: Agency | None = None,
    form_data: dict | None = None,
    documents: list[dict] | None = None,
    submitted_at: datetime | None = None,
    event_data: dict | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Dossier:
    """Send a dossier to the one-stop queue (status ``submitted_online``, no code yet, no clock).

    With ``draft``: the citizen's own draft (or a dossier returned for completion) is checked for
    completeness (applicant with CCCD, the form, a scan of every mandatory document) and sent.
    Without: a dossier arriving from elsewhere (the national portal's sync passes
    ``citizen=None`` and ``receiving_agency``) is created directly, validated like the counter.
    Raises ValidationError (nothing saved), PermissionDenied, or Dossier.DoesNotExist for a
    draft that is not the citizen's.
    """
    moment = _now(now)
    if draft is None:
        return _submit_direct(
            citizen,
            procedure_code=procedure_code,
            applicant=applicant or {},
            receiving_agency=receiving_agency,
            form_data=form_data,
            documents=documents or [],
            submitted_at=submitted_at or moment,
            event_data=event_data,
            ip=ip,
            moment=moment,
        )
    _require_citizen(citizen)
    with transaction.atomic():
        locked = _owned_for_update(citizen, draft, EDITABLE_ONLINE)
        errors = _Errors()
        if locked.procedure_version.status != ProcedureVersion.Status.PUBLISHED:
            errors.add("procedure_code", _("This procedure version is no longer in force: start a new dossier."))
        elif locked.procedure_version.online_level == ProcedureVersion.OnlineLevel.NONE:
            errors.add("procedure_code", _("This procedure cannot be submitted online."))
        stored_applicant = {
            "kind": locked.applicant_kind,
            "full_name": locked.applicant_name,
            "id_number": locked.applicant_id_number,
            "date_of_birth": locked.applicant_birth_date,
            "phone": locked.applicant_phone,
            "email": locked.applicant_email,
            "address": locked.applicant_address,
            "accepts_sms": locked.accepts_sms,
            "accepts_zalo": locked.accepts_zalo,
        }
        _clean_applicant(stored_applicant, errors, require_id=True, today=timezone.localdate(moment))
        cleaned_form = _clean_form(locked.procedure_version, locked.form_data, errors)
        for name in _missing_scans(locked):
            errors.add("documents", _("Attach a scan of “%(name)s”.") % {"name": name})
        errors.raise_if_any()
        from_status = locked.status
        lifecycle.check_transition(from_status, Status.SUBMITTED_ONLINE)
        locked.status = Status.SUBMITTED_ONLINE
        locked.form_data = cleaned_form
        locked.submitted_at = moment
        locked.save(update_fields=["status", "form_data", "submitted_at"])
        _record(
            locked,
            actor=citizen,
            role=Role.CITIZEN,
            action=Action.SUBMITTED_ONLINE,
            from_status=from_status,
            at=moment,
            ip=ip,
            data={"documents": locked.documents.count(), **(event_data or {})},
        )
    draft.refresh_from_db()
    return locked


def _submit_direct(
    citizen: User | None,
    *,
    procedure_code: str,
    applicant: dict,
    receiving_agency: Agency | None,
    form_data: dict | None,
    documents: list[dict],
    submitted_at: datetime,
    event_data: dict | None,
    ip: str | None,
    moment: datetime,
) -> Dossier:
    from motcua.portal.models import DossierOwner

    if citizen is not None:
        _require_citizen(citizen)
    errors = _Errors()
    version = _version(procedure_code, errors)
    values = _clean_applicant(applicant, errors, require_id=False, today=timezone.localdate(moment))
    if not values.get("applicant_name") and "applicant.full_name" not in errors.by_field:
        errors.add("applicant.full_name", _("Enter the applicant's full name."))
    competent = docs = None
    if version is not None:
        if receiving_agency is not None:
            competent = _competent_agency(version, receiving_agency, None, errors)
        else:
            competent = _online_agency(version, None, errors)
        docs = _clean_uploads(version, documents, errors, files_required=False)
    if not isinstance(form_data or {}, dict):
        errors.add("form_data", _("The form data must be an object."))
    elif form_data:
        # Stored as it came (another system's fields): checked for what the database and a page can hold.
        errors.tree("form_data", form_data, **FORM_LIMITS)
    errors.raise_if_any()
    assert version is not None and competent is not None and docs is not None
    stored: list[str] = []
    try:
        with transaction.atomic():
            dossier = Dossier.objects.create(
                procedure_version=version,
                status=Status.SUBMITTED_ONLINE,
                channel=Channel.ONLINE,
                receiving_agency=receiving_agency or competent,
                competent_agency=competent,
                form_data=_jsonable(form_data or {}),
                submitted_at=submitted_at,
                **values,
            )
            if citizen is not None:
                DossierOwner.objects.create(dossier=dossier, user=citizen)
            _store_files(dossier, docs, stored)
            _record(
                dossier,
                actor=citizen,
                role=Role.CITIZEN if citizen is not None else "",
                action=Action.SUBMITTED_ONLINE,
                from_status="",
                at=moment,
                ip=ip,
                data={"documents": len(docs), **(event_data or {})},
            )
    except BaseException:
        _discard(stored)
        raise
    return dossier


def _number_and_due(locked: Dossier, receiving: Agency, moment: datetime) -> dict[str, Any]:
    """What receipt gives a dossier, as at the counter: the agency's next code and the due moment."""
    version = locked.procedure_version
    locked.due_at = _due(calendar_for_agency(locked.competent_agency), version, moment)
    day = timezone.localdate(moment)
    locked.code = codes.format_code(receiving.code, day, _next_number(receiving, day), code_format())
    return {"code": locked.code, "due_at": locked.due_at, "channel": locked.channel}


def _require_online_clerk(dossier: Dossier, clerk: User) -> Agency:
    receiving = _require_clerk(clerk)
    if not _may_receive_for(receiving, dossier.competent_agency):
        raise PermissionDenied(
            _("Your one-stop desk cannot receive dossiers for %(agency)s.") % {"agency": dossier.competent_agency.name}
        )
    return receiving


def receive_online(dossier: Dossier, clerk: User, *, ip: str | None = None, now: datetime | None = None) -> Dossier:
    """The clerk accepts an online submission: code, clock and workflow exactly as ``receive_at_counter``."""
    receiving = _require_online_clerk(dossier, clerk)
    moment = _now(now)
    data: dict[str, Any] = {}

    def apply(locked: Dossier, at: datetime) -> list[str]:
        data.update(_number_and_due(locked, receiving, at))
        data["documents"] = locked.documents.count()
        locked.receiving_agency = receiving
        locked.received_by = clerk
        locked.received_at = locked.valid_receipt_at = at
        return ["code", "due_at", "receiving_agency", "received_by", "received_at", "valid_receipt_at"]

    with transaction.atomic():
        locked = _transition(
            dossier,
            actor=clerk,
            to_status=Status.RECEIVED,
            action=Action.RECEIVED,
            expected_from={Status.SUBMITTED_ONLINE},
            ip=ip,
            now=moment,
            data=data,
            apply=apply,
        )
        from motcua.workflow import services as workflow_services

        workflow_services.start(locked, actor=clerk, now=moment, ip=ip)
    dossier.refresh_from_db()
    return dossier


def return_online_for_completion(
    dossier: Dossier,
    clerk: User,
    *,
    missing: list[str],
    reason: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Dossier:
    """Send an online submission back to the applicant with what to add (Mẫu 02); they can resend it."""
    _require_online_clerk(dossier, clerk)
    items = _checked_items("missing", missing)
    reason = _checked("reason", reason)
    if not items and not reason:
        raise ValidationError({"missing": [_("List what the applicant must add or correct.")]})
    return _transition(
        dossier,
        actor=clerk,
        to_status=Status.RETURNED_FOR_COMPLETION,
        action=Action.RETURNED_FOR_COMPLETION,
        expected_from={Status.SUBMITTED_ONLINE},
        ip=ip,
        now=now,
        data={"missing": items, "reason": reason},
    )


def refuse_online(
    dossier: Dossier, clerk: User, *, reason: str, ip: str | None = None, now: datetime | None = None
) -> Dossier:
    """Refuse an online submission (Mẫu 03); the reason is mandatory."""
    _require_online_clerk(dossier, clerk)
    reason = _checked("reason", reason)
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for refusing the dossier.")]})
    return _transition(
        dossier,
        actor=clerk,
        to_status=Status.REFUSED,
        action=Action.REFUSED,
        expected_from={Status.SUBMITTED_ONLINE},
        ip=ip,
        now=now,
        data={"reason": reason},
    )


def answer_supplement(
    citizen: User, dossier: Dossier, *, documents: list[dict], ip: str | None = None, now: datetime | None = None
) -> Dossier:
    """The applicant uploads the missing papers: files stored, then the clock resumes (workflow-aware)."""
    _require_citizen(citizen)
    if not is_applicant(citizen, dossier):
        raise Dossier.DoesNotExist
    moment = _now(now)
    errors = _Errors()
    docs = _clean_uploads(dossier.procedure_version, documents, errors)
    if not docs and not errors.by_field:
        errors.add("documents", _("Attach at least one file."))
    if dossier.status != Status.WAITING_FOR_SUPPLEMENT:
        errors.add("documents", _("This dossier is not waiting for a supplement."))
    errors.raise_if_any()
    stored: list[str] = []
    try:
        with transaction.atomic():
            _store_files(dossier, docs, stored)
            from motcua.workflow.models import WorkflowRun

            if WorkflowRun.objects.filter(dossier=dossier).exists():
                from motcua.workflow import services as workflow_services

                workflow_services.supplement_received(dossier, actor=citizen, ip=ip, now=moment)
            else:
                supplement_received(dossier, actor=citizen, ip=ip, now=moment)
    except BaseException:
        _discard(stored)
        raise
    dossier.refresh_from_db()
    return dossier
