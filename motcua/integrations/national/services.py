"""The only code that changes national-portal state: configuration, outbox, dead letters, inbox, catalogue.

The outbox (invariant 1: the ``DossierEvent`` log *is* the outbox; ``NationalSyncItem`` holds
only the delivery state of each event):

1. ``enqueue_missing`` gives every event that has no sync item one (an anti-join, not an
   "id > cursor" scan, so an event committed late by a slow transaction is not skipped; a
   floor below which everything is known to be covered keeps the scan short).
   ``record_event`` does the same for one event inside its own transaction — the hook
   ``dossiers.services._record`` can call.
2. ``claim_batch`` takes, in one short transaction, the *first* unfinished item of up to
   ``batch_size`` dossiers (never a later event of a dossier while an earlier one is not
   acknowledged) and marks them sent with a lease; rows of a worker that died are taken over
   when the lease ends.
3. ``send_batch`` talks to the portal outside any transaction (invariant 6): ``DongBoHoSoMC``
   for the dossiers whose status changed or that the portal does not know yet, then
   ``CapNhatTienDoHoSoMC`` for every event; each item carries its idempotency key, so sending
   again after a lost reply does no harm (a portal that ignores the key and refuses a second
   creation is asked with ``TraCuuHoSo``, and the event goes as an update). Only a reply
   moves an item to acknowledged, and only if the worker still holds the claim. A batch the
   portal refuses is split in halves until the refused items are alone; those count a try
   and, after ``max_attempts``, wait in the dead-letter list with the portal's message. An
   unreachable portal never dead-letters anything: it is retried with backoff without limit.

The client (``client.py``) never runs inside a database transaction here.
"""

import hmac
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from motcua import inputs as dossier_inputs
from motcua.catalog import selectors as catalog_selectors
from motcua.catalog import services as catalog_services
from motcua.catalog.models import Field, Procedure
from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import FINAL, Status
from motcua.dossiers.models import Channel, Dossier, DossierEvent
from motcua.integrations.models import (
    NationalDossierLink,
    NationalInboundLog,
    NationalPortalConfig,
    NationalProcedureChange,
    NationalStatusCode,
    NationalSyncCursor,
    NationalSyncItem,
    SyncState,
)
from motcua.integrations.national import mapping
from motcua.integrations.national.client import (
    AuthError,
    ClientSettings,
    NationalPortalClient,
    PortalError,
    Rejected,
    ServiceNames,
    TransportError,
)
from motcua.org.models import Agency, Role, User
from motcua.org.selectors import is_system_admin
from motcua.text import BadText, check_tree, normalize, scrub

log = logging.getLogger(__name__)
Action = DossierEvent.Action
UNFINISHED = (SyncState.PENDING, SyncState.SENT, SyncState.FAILED, SyncState.DEAD)
ACTIVE = (SyncState.PENDING, SyncState.SENT, SyncState.FAILED)
#: Transactions are assumed to last less than this: the outbox floor only passes event ids
#: observed at least this long ago (see ``enqueue_missing``).
DEFAULT_OUTBOX_GRACE_SECONDS = 600
#: How long an item of a dossier that has no code yet waits before it is looked at again.
NO_CODE_RETRY_SECONDS = 60


class NotConfigured(Exception):
    """The connection cannot be used: off, no address, or a credential missing from the environment."""


def _now(now: datetime | None = None) -> datetime:
    return now or timezone.now()


def _require_admin(actor: User | None) -> None:
    """Province (system) administrators configure the connection and handle its dead letters."""
    if actor is None or not is_system_admin(actor):
        raise PermissionDenied(_("Only a province administrator can do this."))


# --- configuration ---------------------------------------------------------------------------


def get_config() -> NationalPortalConfig:
    """The connection row (created with the defaults on first use) with its status table filled in."""
    config = NationalPortalConfig.objects.select_related("default_receiving_agency").filter(pk=1).first()
    if config is None:
        try:
            with transaction.atomic():
                config = NationalPortalConfig.objects.create(pk=1)
        except IntegrityError:
            config = NationalPortalConfig.objects.get(pk=1)
    _fill_status_codes(config)
    return config


def _fill_status_codes(config: NationalPortalConfig) -> None:
    present = set(config.status_codes.values_list("status", flat=True))
    missing = [status for status in Status.values if status not in present]
    if missing:
        NationalStatusCode.objects.bulk_create(
            [
                NationalStatusCode(
                    config=config,
                    status=status,
                    code=mapping.DEFAULT_STATUS_CODES.get(status, ""),
                    note=_("Default from public code; unconfirmed.") if status in mapping.DEFAULT_STATUS_CODES else "",
                )
                for status in missing
            ],
            ignore_conflicts=True,
        )


def status_table(config: NationalPortalConfig) -> dict[str, str]:
    return dict(config.status_codes.values_list("status", "code"))


def _codes(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(text or "").split(",") if part.strip())


def config_errors(config: NationalPortalConfig) -> dict[str, list[str]]:
    """Problems that would make every call fail, by field (the desk shows them on save)."""
    errors: dict[str, list[str]] = {}
    if config.enabled and not config.base_url:
        errors.setdefault("base_url", []).append(_("Enter the platform's address before turning synchronisation on."))
    for name in ("connect_timeout", "read_timeout", "retry_base_seconds", "retry_max_seconds"):
        if getattr(config, name) is not None and getattr(config, name) <= 0:
            errors.setdefault(name, []).append(_("Enter a number of seconds greater than 0."))
    if config.batch_size < 1 or config.batch_size > 500:
        errors.setdefault("batch_size", []).append(_("A batch holds from 1 to 500 items."))
    if config.max_attempts < 1:
        errors.setdefault("max_attempts", []).append(_("Allow at least one try."))
    if not _codes(config.success_codes):
        errors.setdefault("success_codes", []).append(_("Enter at least one success code, e.g. 0,00."))
    for name in ("field_overrides", "inbound_fields"):
        value = getattr(config, name)
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            errors.setdefault(name, []).append(_('Enter an object of names, e.g. {"MaHoSo": "SoHoSo"}.'))
    return errors


def save_config(config: NationalPortalConfig, *, actor: User) -> NationalPortalConfig:
    """Save the connection edited in the desk; ValidationError with every problem, nothing saved."""
    _require_admin(actor)
    errors = config_errors(config)
    try:
        config.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    config.pk = 1
    config.save()
    _fill_status_codes(config)
    return config


def save_status_code(row: NationalStatusCode, *, actor: User) -> NationalStatusCode:
    """A row of the status table edited in the desk: a code is one of the national codes, or empty."""
    _require_admin(actor)
    row.code = str(row.code or "").strip()
    if row.code and not mapping.is_valid_national_status(row.code):
        # Allowed, because a province's platform may use other codes; said loudly in the note.
        row.note = row.note or _("Not one of the ten codes seen in public code.")
    row.full_clean()
    row.save()
    return row


def missing_credentials(config: NationalPortalConfig, environ: dict[str, str] | None = None) -> list[str]:
    """Names of the environment variables the configured authentication needs but does not find."""
    env = os.environ if environ is None else environ
    needed = {
        "session": [config.username_env, config.password_env],
        "oauth2": [config.client_id_env, config.client_secret_env],
        "bearer": [config.bearer_token_env],
        "none": [],
    }[config.auth_mode]
    return [name for name in needed if not env.get(name)]


def client_settings(config: NationalPortalConfig, environ: dict[str, str] | None = None) -> ClientSettings:
    """The client's settings: the desk's configuration plus the credentials from the environment."""
    env = os.environ if environ is None else environ
    if not config.base_url:
        raise NotConfigured(_("The national portal's address is not set."))
    missing = missing_credentials(config, env)
    if missing:
        raise NotConfigured(
            _("Set the environment variables %(names)s for the national portal's credentials.")
            % {"names": ", ".join(missing)}
        )
    return ClientSettings(
        base_url=config.base_url,
        auth_mode=config.auth_mode,
        auth_path=config.auth_path,
        token_url=config.token_url,
        integration_path=config.integration_path,
        share_path=config.share_path,
        unit_code=config.unit_code,
        username=env.get(config.username_env, ""),
        password=env.get(config.password_env, ""),
        client_id=env.get(config.client_id_env, ""),
        client_secret=env.get(config.client_secret_env, ""),
        scope=config.oauth_scope,
        bearer_token=env.get(config.bearer_token_env, ""),
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        success_codes=_codes(config.success_codes) or ("0", "00"),
        auth_error_codes=_codes(config.auth_error_codes),
        verify=os.environ.get("MOTCUA_NATIONAL_CA_BUNDLE") or True,
        services=ServiceNames(
            sync_dossiers=config.service_sync_dossiers,
            push_progress=config.service_push_progress,
            find_dossier=config.service_find_dossier,
            get_procedure=config.service_get_procedure,
            list_procedures=config.service_list_procedures,
            fetch_inbox=config.service_fetch_inbox,
        ),
    )


_CLIENTS: dict[ClientSettings, NationalPortalClient] = {}
_CLIENTS_LOCK = threading.Lock()


def make_client(config: NationalPortalConfig | None = None) -> NationalPortalClient:
    """A client for the current configuration, reused while the configuration stays the same."""
    settings_ = client_settings(config or get_config())
    with _CLIENTS_LOCK:
        found = _CLIENTS.get(settings_)
        if found is None:
            found = _CLIENTS[settings_] = NationalPortalClient(settings_)
        return found


# --- outbox: one sync item per event -----------------------------------------------------------


def _key(config: NationalPortalConfig, event_id: int) -> str:
    return f"{config.unit_code or 'motcua'}-{event_id}"


def _new_item(
    config: NationalPortalConfig, table: dict[str, str], event: DossierEvent, link: NationalDossierLink, now: datetime
) -> NationalSyncItem:
    """An unsaved item for ``event``: pending, or skipped with the reason in ``note``."""
    item = NationalSyncItem(
        event_id=event.pk,
        dossier_id=event.dossier_id,
        due_at=now,
        idempotency_key=_key(config, event.pk),
    )
    if config.sync_since and event.at < config.sync_since:
        item.state, item.note = SyncState.SKIPPED, "before sync start"
    elif link.origin == NationalDossierLink.Origin.NATIONAL and event.action == Action.SUBMITTED_ONLINE:
        item.state, item.note = SyncState.SKIPPED, "came from the national portal"
    elif mapping.status_code(event.to_status, table) is None:
        item.state, item.note = SyncState.SKIPPED, "status without a national code"
    return item


def record_event(event: DossierEvent, now: datetime | None = None) -> NationalSyncItem | None:
    """The outbox hook: give ``event`` its sync item in the caller's transaction (None when sync is off).

    Meant for ``motcua.dossiers.services._record``; until it calls this, ``enqueue_missing``
    catches every event within a minute anyway.
    """
    config = get_config()
    if not config.enabled:
        return None
    link, _created = NationalDossierLink.objects.get_or_create(dossier_id=event.dossier_id)
    item = _new_item(config, status_table(config), event, link, _now(now))
    item.save()
    return item


def _outbox_grace() -> float:
    return float(getattr(settings, "MOTCUA_NATIONAL_OUTBOX_GRACE_SECONDS", DEFAULT_OUTBOX_GRACE_SECONDS))


def enqueue_missing(now: datetime | None = None, limit: int = 5000) -> int:
    """Create the sync items of events that have none; returns how many were created.

    The scan starts above a floor: an event id observed as the newest at least the grace period
    ago (no transaction lasts that long, so every event at or below it has committed — or
    never will — and was seen by a complete scan made after that). Duplicated work by two
    workers scanning at once is harmless: the event is unique in the item table.
    """
    config = get_config()
    if not config.enabled:
        return 0
    moment = _now(now)
    cursor, _created = NationalSyncCursor.objects.get_or_create(pk=1)
    events = list(
        DossierEvent.objects.filter(pk__gt=cursor.outbox_floor, national_sync__isnull=True)
        .order_by("pk")
        .only("pk", "dossier_id", "action", "to_status", "at")[:limit]
    )
    created = 0
    if events:
        dossier_ids = {event.dossier_id for event in events}
        NationalDossierLink.objects.bulk_create(
            [NationalDossierLink(dossier_id=pk) for pk in dossier_ids], ignore_conflicts=True
        )
        links = NationalDossierLink.objects.filter(dossier_id__in=dossier_ids).in_bulk(field_name="dossier_id")
        table = status_table(config)
        items = [_new_item(config, table, event, links[event.dossier_id], moment) for event in events]
        before = NationalSyncItem.objects.filter(event_id__in=[e.pk for e in events]).count()
        NationalSyncItem.objects.bulk_create(items, ignore_conflicts=True)
        created = NationalSyncItem.objects.filter(event_id__in=[e.pk for e in events]).count() - before
        _refresh_links(dossier_ids)
    if len(events) < limit:
        _advance_floor(moment)
    return created


def _advance_floor(moment: datetime) -> None:
    with transaction.atomic():
        cursor = NationalSyncCursor.objects.select_for_update().get(pk=1)
        grace = timedelta(seconds=_outbox_grace())
        if cursor.outbox_candidate_at is not None and moment - cursor.outbox_candidate_at >= grace:
            cursor.outbox_floor = max(cursor.outbox_floor, cursor.outbox_candidate)
            cursor.outbox_candidate_at = None
        if cursor.outbox_candidate_at is None:
            newest = DossierEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            cursor.outbox_candidate = newest
            cursor.outbox_candidate_at = moment
        cursor.save()


def _refresh_links(dossier_ids: Iterable[int]) -> None:
    """Each dossier's sync state: the state of its first unfinished item, else acknowledged."""
    ids = set(dossier_ids)
    if not ids:
        return
    heads: dict[int, tuple[str, str]] = {}
    rows = (
        NationalSyncItem.objects.filter(dossier_id__in=ids, state__in=UNFINISHED)
        .order_by("dossier_id", "event_id")
        .values_list("dossier_id", "state", "last_error")
    )
    for dossier_id, state, error in rows:
        heads.setdefault(dossier_id, (state, error))
    groups: dict[tuple[str, str], list[int]] = {}
    for dossier_id in ids:
        state, error = heads.get(dossier_id, (SyncState.ACKNOWLEDGED, ""))
        groups.setdefault((state, error if state in (SyncState.FAILED, SyncState.DEAD) else ""), []).append(dossier_id)
    acknowledged = set(
        NationalSyncItem.objects.filter(dossier_id__in=ids, state=SyncState.ACKNOWLEDGED).values_list(
            "dossier_id", flat=True
        )
    )
    for (state, error), members in groups.items():
        if state == SyncState.ACKNOWLEDGED:
            # A dossier whose items were all skipped was never sent: say so rather than "acknowledged".
            skipped_only = [pk for pk in members if pk not in acknowledged]
            if skipped_only:
                NationalDossierLink.objects.filter(dossier_id__in=skipped_only).update(
                    sync_state=SyncState.SKIPPED, last_error="", updated_at=timezone.now()
                )
            members = [pk for pk in members if pk in acknowledged]
        NationalDossierLink.objects.filter(dossier_id__in=members).update(
            sync_state=state, last_error=error, updated_at=timezone.now()
        )


# --- outbox: claiming and sending --------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


def effective_lease(config: NationalPortalConfig) -> float:
    """At least long enough for the three calls of one batch to time out."""
    return max(float(config.lease_seconds), 3 * (config.connect_timeout + config.read_timeout) + 1)


def claim_batch(
    config: NationalPortalConfig, *, worker: str, now: datetime | None = None, size: int | None = None
) -> tuple[str, list[NationalSyncItem]]:
    """(claim token, items) — the first unfinished item of each of up to ``size`` dossiers, now sent."""
    moment = _now(now)
    token = uuid.uuid4().hex
    earlier = NationalSyncItem.objects.filter(
        dossier_id=OuterRef("dossier_id"), event_id__lt=OuterRef("event_id"), state__in=UNFINISHED
    )
    candidates = (
        NationalSyncItem.objects.filter(state__in=ACTIVE, due_at__lte=moment)
        .filter(~Exists(earlier))
        .order_by("event_id")
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[: size or config.batch_size])
        if not ids:
            return token, []
        NationalSyncItem.objects.filter(pk__in=ids).update(
            state=SyncState.SENT,
            claimed_by=worker[:100],
            claim_token=token,
            sent_at=moment,
            due_at=moment + timedelta(seconds=effective_lease(config)),
        )
    items = list(
        NationalSyncItem.objects.filter(pk__in=ids, claim_token=token)
        .select_related(
            "event__actor__department",
            "event__agency",
            "dossier__procedure_version__procedure",
            "dossier__procedure_version__field",
            "dossier__competent_agency",
            "dossier__national_link",
        )
        .prefetch_related("dossier__documents", "dossier__procedure_version__fees")
        .order_by("event_id")
    )
    return token, items


def _label(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value)) if value else ""


def _snapshots(item: NationalSyncItem, code: str) -> tuple[mapping.DossierSnapshot, mapping.ProgressSnapshot]:
    """The dossier and the event as the portal is told (labels in Vietnamese, whatever the language)."""
    dossier, event = item.dossier, item.event
    version = dossier.procedure_version
    with translation.override("vi"):
        action = _label(DossierEvent.Action.choices, event.action)
        reason = str((event.data or {}).get("reason") or "")
        actor = event.actor
        if actor is not None:
            officer = actor.full_name
        elif event.action == Action.SUBMITTED_ONLINE:
            officer = _("Applicant (online)")
        else:
            officer = _("System")
        title = _label(Role.choices, event.actor_role)
    department = ""
    if actor is not None and actor.department_id:
        department = actor.department.name
    elif event.agency_id:
        department = event.agency.name
    snapshot = mapping.DossierSnapshot(
        code=code,
        procedure_code=version.procedure.code,
        procedure_name=version.name,
        field_code=version.field.code if version.field_id else "",
        field_name=version.field.name if version.field_id else "",
        receipt_number=dossier.code or "",
        applicant_name=dossier.applicant_name,
        applicant_kind=dossier.applicant_kind,
        applicant_id=dossier.applicant_id_number,
        email=dossier.applicant_email,
        phone=dossier.applicant_phone,
        summary=f"{version.name} – {dossier.applicant_name}",
        received_at=dossier.received_at,
        due_at=dossier.due_at,
        returned_at=dossier.returned_at,
        finished_at=dossier.finished_at,
        processing_agency=dossier.competent_agency.name,
        note=reason,
        by_post=dossier.channel == Channel.POST,
        documents=tuple(
            mapping.DocumentInfo(doc.pk, doc.name, str(doc.component_id or "")) for doc in dossier.documents.all()
        ),
        fees=tuple(mapping.FeeInfo(fee.name, fee.amount, fee.kind, str(fee.pk)) for fee in version.fees.all()),
    )
    progress = mapping.ProgressSnapshot(
        code=code,
        officer=officer,
        title=title,
        at=event.at,
        department=department,
        content=f"{action}: {reason}" if reason else action,
        started_at=dossier.received_at or dossier.submitted_at,
        due_at=dossier.due_at,
    )
    return snapshot, progress


@dataclass
class _Prepared:
    item: NationalSyncItem
    link: NationalDossierLink
    dossier_item: dict[str, Any] | None
    progress_item: dict[str, Any]


@dataclass
class BatchReport:
    acknowledged: int = 0
    failed: int = 0
    rejected: int = 0
    dead: int = 0
    deferred: int = 0
    skipped: int = 0
    lost_claims: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: "BatchReport") -> None:
        for name in ("acknowledged", "failed", "rejected", "dead", "deferred", "skipped", "lost_claims", "calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    @property
    def unreachable(self) -> bool:
        return self.failed > 0 and self.acknowledged == 0


def _finish(item: NationalSyncItem, token: str, **values: Any) -> bool:
    """Record an outcome only while this worker still holds the claim (a taken-over item is not ours)."""
    return bool(NationalSyncItem.objects.filter(pk=item.pk, claim_token=token, state=SyncState.SENT).update(**values))


def _prepare(
    config: NationalPortalConfig, table: dict[str, str], items: list[NationalSyncItem], token: str, report: BatchReport
) -> list[_Prepared]:
    prepared = []
    moment = timezone.now()
    overrides = config.field_overrides or {}
    for item in items:
        link = getattr(item.dossier, "national_link", None)
        if link is None:
            link, _created = NationalDossierLink.objects.get_or_create(dossier=item.dossier)
        code = link.national_code or item.dossier.code or ""
        status = mapping.status_code(item.event.to_status, table)
        if status is None:
            _finish(item, token, state=SyncState.SKIPPED, note="status without a national code", claim_token="")
            report.skipped += 1
            continue
        if not code:
            if item.dossier.status in FINAL:
                _finish(item, token, state=SyncState.SKIPPED, note="dossier without a code", claim_token="")
                report.skipped += 1
            else:  # an online dossier not received yet: it gets its code at receipt
                _finish(
                    item,
                    token,
                    state=SyncState.PENDING,
                    due_at=moment + timedelta(seconds=NO_CODE_RETRY_SECONDS),
                    note="waiting for the dossier code",
                    claim_token="",
                )
                report.deferred += 1
            continue
        snapshot, progress = _snapshots(item, code)
        needs_dossier = not link.remote_created or item.event.from_status != item.event.to_status
        dossier_item = (
            mapping.with_key(
                mapping.rename(mapping.dossier_item(snapshot, status), overrides),
                config.idempotency_field,
                item.idempotency_key,
            )
            if needs_dossier
            else None
        )
        progress_item = mapping.with_key(
            mapping.rename(mapping.progress_item(progress, status), overrides),
            config.idempotency_field,
            item.idempotency_key,
        )
        prepared.append(_Prepared(item, link, dossier_item, progress_item))
    return prepared


def _mark_created(links: Iterable[NationalDossierLink]) -> None:
    ids = [link.pk for link in links if not link.remote_created]
    if ids:
        NationalDossierLink.objects.filter(pk__in=ids).update(remote_created=True)
    for link in links:
        link.remote_created = True


def _deliver(client: NationalPortalClient, batch: list[_Prepared], report: BatchReport) -> None:
    """The calls for ``batch``; raises the client's errors. Creation before update before progress."""
    creates = [p for p in batch if p.dossier_item is not None and not p.link.remote_created]
    updates = [p for p in batch if p.dossier_item is not None and p.link.remote_created]
    if creates:
        report.calls += 1
        client.sync_dossiers([p.dossier_item for p in creates], updating=False)
        _mark_created([p.link for p in creates])
    if updates:
        report.calls += 1
        client.sync_dossiers([p.dossier_item for p in updates], updating=True)
    report.calls += 1
    client.push_progress([p.progress_item for p in batch])


def _created_before(client: NationalPortalClient, p: _Prepared, report: BatchReport) -> bool:
    """A lone creation the portal refused: did an earlier try create it before its reply was lost?

    A portal that deduplicates by idempotency key (the simulator) never gets here; one that does
    not refuses the second creation ("already exists") — then we ask (``TraCuuHoSo``) and, if it
    is there, send the event as an update instead of counting a refusal.
    """
    if p.dossier_item is None or p.link.remote_created or not (p.item.failures or p.item.attempts):
        return False
    report.calls += 1
    try:
        found = client.find_dossier(p.link.remote_code) is not None
    except PortalError:
        return False
    if found:
        _mark_created([p.link])
    return found


def _send(
    client: NationalPortalClient,
    config: NationalPortalConfig,
    batch: list[_Prepared],
    token: str,
    report: BatchReport,
) -> None:
    moment = timezone.now()
    try:
        _deliver(client, batch, report)
    except Rejected as exc:
        if len(batch) > 1:
            middle = len(batch) // 2
            _send(client, config, batch[:middle], token, report)
            _send(client, config, batch[middle:], token, report)
            return
        (p,) = batch
        if _created_before(client, p, report):
            _send(client, config, batch, token, report)
            return
        attempts = p.item.attempts + 1
        dead = attempts >= config.max_attempts
        delay = mapping.backoff_seconds(attempts, config.retry_base_seconds, config.retry_max_seconds)
        kept = _finish(
            p.item,
            token,
            state=SyncState.DEAD if dead else SyncState.FAILED,
            attempts=attempts,
            due_at=moment + timedelta(seconds=delay),
            last_error=exc.message[:2000],
            last_error_kind="rejected",
            claim_token="",
        )
        report.rejected += 1
        report.dead += int(dead and kept)
        report.lost_claims += int(not kept)
        report.errors.append(exc.message)
        return
    except (TransportError, AuthError) as exc:
        kind = "auth" if isinstance(exc, AuthError) else "transport"
        for p in batch:
            failures = p.item.failures + 1
            delay = mapping.backoff_seconds(failures, config.retry_base_seconds, config.retry_max_seconds)
            kept = _finish(
                p.item,
                token,
                state=SyncState.FAILED,
                failures=failures,
                due_at=moment + timedelta(seconds=delay),
                last_error=exc.message[:2000],
                last_error_kind=kind,
                claim_token="",
            )
            report.failed += 1
            report.lost_claims += int(not kept)
        report.errors.append(exc.message)
        return
    done = NationalSyncItem.objects.filter(
        pk__in=[p.item.pk for p in batch], claim_token=token, state=SyncState.SENT
    ).update(
        state=SyncState.ACKNOWLEDGED,
        acknowledged_at=moment,
        last_error="",
        last_error_kind="",
        note="",
        claim_token="",
    )
    report.acknowledged += done
    report.lost_claims += len(batch) - done
    NationalDossierLink.objects.filter(pk__in={p.link.pk for p in batch}).update(last_acknowledged_at=moment)


def send_batch(
    client: NationalPortalClient, config: NationalPortalConfig, items: list[NationalSyncItem], token: str
) -> BatchReport:
    """Deliver claimed ``items`` (see the module docstring); no transaction is open during the calls."""
    report = BatchReport()
    table = status_table(config)
    prepared = _prepare(config, table, items, token, report)
    if prepared:
        _send(client, config, prepared, token, report)
    _refresh_links({item.dossier_id for item in items})
    return report


@dataclass
class SenderReport(BatchReport):
    batches: int = 0
    enqueued: int = 0
    disabled: bool = False

    def summary(self) -> str:
        if self.disabled:
            return "national sync is off"
        return (
            f"{self.batches} batches, {self.acknowledged} acknowledged, {self.failed} failed deliveries, "
            f"{self.rejected} refusals ({self.dead} to the dead-letter list), {self.deferred} deferred, "
            f"{self.skipped} skipped, {self.enqueued} new items"
        )


def run_sender(
    *,
    budget_seconds: float = 50.0,
    idle_wait: float = 0.0,
    worker: str | None = None,
    stop: Callable[[], bool] | None = None,
    scan_every: float = 2.0,
) -> SenderReport:
    """Send until the outbox is drained (or, with ``idle_wait``, until the budget is spent).

    The scheduled task calls this every minute with the defaults; ``manage.py
    national_sync_worker`` loops with ``idle_wait`` for sub-second delivery.
    """
    report = SenderReport()
    worker = worker or worker_name()
    deadline = time.monotonic() + budget_seconds
    last_scan = -scan_every
    pause = 0.0
    while time.monotonic() < deadline and not (stop and stop()):
        if not connection.in_atomic_block:  # a long-lived worker: drop broken or aged connections
            close_old_connections()
        config = get_config()
        if not config.enabled:
            report.disabled = True
            break
        client = make_client(config)
        if time.monotonic() - last_scan >= scan_every:
            report.enqueued += enqueue_missing()
            last_scan = time.monotonic()
        token, items = claim_batch(config, worker=worker)
        if not items:
            if idle_wait <= 0:
                if time.monotonic() - last_scan > 0.05:  # one more scan: maybe new events arrived
                    report.enqueued += enqueue_missing()
                    last_scan = time.monotonic()
                    continue
                break
            time.sleep(max(0.0, min(idle_wait, deadline - time.monotonic())))
            continue
        outcome = send_batch(client, config, items, token)
        report.batches += 1
        report.merge(outcome)
        if outcome.unreachable:
            # The portal is down or failing: do not hammer it; the items themselves back off.
            pause = min(max(pause * 2, 0.2), config.retry_base_seconds, 5.0)
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
        else:
            pause = 0.0
    return report


# --- dead letters ------------------------------------------------------------------------------


def replay(items: QuerySet[NationalSyncItem] | Iterable[NationalSyncItem], *, actor: User) -> int:
    """Put dead letters back in the outbox (tries counted afresh); returns how many."""
    _require_admin(actor)
    ids = [item.pk for item in items]
    moment = timezone.now()
    with transaction.atomic():
        count = NationalSyncItem.objects.filter(pk__in=ids, state=SyncState.DEAD).update(
            state=SyncState.PENDING,
            attempts=0,
            failures=0,
            due_at=moment,
            replays=F("replays") + 1,
            replayed_by=actor,
            claim_token="",
        )
        dossier_ids = set(NationalSyncItem.objects.filter(pk__in=ids).values_list("dossier_id", flat=True))
    _refresh_links(dossier_ids)
    return count


def replay_all(*, actor: User) -> int:
    return replay(NationalSyncItem.objects.filter(state=SyncState.DEAD), actor=actor)


def skip(items: Iterable[NationalSyncItem], *, actor: User, reason: str) -> int:
    """Give up on dead letters (the dossier's later events then go on); the reason is kept."""
    _require_admin(actor)
    reason = normalize(str(reason or ""))
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for not sending these events.")]})
    ids = [item.pk for item in items]
    count = NationalSyncItem.objects.filter(pk__in=ids, state=SyncState.DEAD).update(
        state=SyncState.SKIPPED, note=f"{actor.email}: {reason}"[:255], claim_token=""
    )
    _refresh_links(NationalSyncItem.objects.filter(pk__in=ids).values_list("dossier_id", flat=True))
    return count


# --- inbound dossiers ----------------------------------------------------------------------------


class InboundRefused(Exception):
    """A national dossier we do not take; ``status`` is the HTTP status the endpoint answers."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def _problem_message(field_name: str, code: str, params: dict[str, Any]) -> str:
    messages = {
        "required": _("“%(field)s” is required."),
        "too_long": _("“%(field)s” is too long (at most %(max)s characters)."),
        "applicant_kind": _("“%(field)s” must be 1 (a person) or 2 (an organisation), not “%(value)s”."),
        "date": _("“%(field)s” must be a date in the form yyyyMMddHHmmss, not “%(value)s”."),
        "list": _("“%(field)s” must be a list."),
        "not_an_object": _("“%(field)s” must be a JSON object."),
    }
    template = messages.get(code, _("“%(field)s” is not valid."))
    return template % {"field": field_name or _("the dossier"), **params}


def check_inbound_token(header: str | None, config: NationalPortalConfig | None = None) -> None:
    """The portal's ``Authorization: Bearer <token>``; InboundRefused(401) unless it matches the environment's."""
    config = config or get_config()
    expected = os.environ.get(config.inbound_token_env, "")
    scheme, _sep, value = str(header or "").strip().partition(" ")
    if not expected:
        raise InboundRefused(
            401, _("Receiving dossiers from the national portal is not set up (no inbound token in the environment).")
        )
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), expected.encode()):
        raise InboundRefused(
            401, _("Wrong credentials: send the national portal's token as “Authorization: Bearer …”.")
        )


#: What an inbound dossier may be: a real one is 3 levels deep, its form data a few KB.
INBOUND_LIMITS = {"max_depth": 12, "max_string": 1_000_000, "max_items": 20_000}


def _loggable(payload: Any) -> dict:
    """What the inbound log can store of ``payload``: itself, its text scrubbed of characters PostgreSQL's
    JSON refuses (NUL, lone surrogates), or only a note when its shape is absurd (5 000 levels deep)."""
    try:
        check_tree(payload, check_text=False, **INBOUND_LIMITS)
    except BadText as error:
        return {"not_stored": error.reason, "limit": error.limit}
    cleaned = scrub(payload)
    return cleaned if isinstance(cleaned, dict) else {"value": cleaned}


def _log_inbound(channel: str, payload: Any, outcome: str, message: str = "", dossier: Dossier | None = None) -> None:
    code = ""
    if isinstance(payload, dict):
        code = str(scrub(str(payload.get(mapping.INBOUND_FIELDS["national_code"]) or "")))[:60]
    NationalInboundLog.objects.create(
        received_at=timezone.now(),
        channel=channel,
        national_code=code,
        outcome=outcome,
        message=str(scrub(message)),
        dossier=dossier,
        payload=_loggable(payload),
    )


def _refuse_absurd(payload: Any, moment: datetime) -> None:
    """InboundRefused (422) for what no dossier can hold: a shape too deep or large, a control character or
    lone surrogate in any text, a submission moment in the future."""
    try:
        check_tree(payload, **INBOUND_LIMITS)
    except BadText as error:
        message = dossier_inputs.message(error)
        field_name = error.path or _("the dossier")
        raise InboundRefused(
            422,
            _("The dossier is not valid: %(problems)s") % {"problems": f"{field_name}: {message}"},
            [{"field": error.path, "message": message}],
        ) from None
    if not isinstance(payload, dict):
        return
    for key in ("submitted_at", "received_at"):
        name = mapping.INBOUND_FIELDS[key]
        try:
            submitted = mapping.parse_moment(payload.get(name))
        except ValueError:
            continue  # parse_inbound says what is wrong with it
        if submitted is not None and not (
            datetime(2000, 1, 1, tzinfo=submitted.tzinfo) <= submitted <= moment + timedelta(days=1)
        ):
            message = _("“%(field)s” is not a possible submission moment (from 2000 until now).") % {"field": name}
            raise InboundRefused(
                422,
                _("The dossier is not valid: %(problems)s") % {"problems": message},
                [{"field": name, "message": message}],
            )


def receive_national_dossier(
    payload: Any, *, channel: str = NationalInboundLog.Channel.PUSH, ip: str | None = None, now: datetime | None = None
) -> Dossier:
    """Take a dossier submitted on the national portal into our online queue, its national code kept.

    All or nothing: InboundRefused (400/404/409/422) leaves no dossier, event or link behind;
    every outcome is written to the inbound log.
    """
    config = get_config()
    moment = _now(now)
    try:
        _refuse_absurd(payload, moment)  # before parsing: parse_inbound recurses into the form data
        parsed, problems = mapping.parse_inbound(payload, config.inbound_fields or {})
        if parsed is None:
            if problems and problems[0][1] == "not_an_object" and not problems[0][0]:
                raise InboundRefused(400, _("The dossier must be a JSON object."))
            errors = [{"field": f, "message": _problem_message(f, c, p)} for f, c, p in problems]
            raise InboundRefused(
                422,
                _("The dossier is not valid: %(problems)s") % {"problems": " ".join(e["message"] for e in errors)},
                errors,
            )
        if NationalDossierLink.objects.filter(national_code=parsed.national_code).exists():
            raise InboundRefused(
                409,
                _("The national dossier %(code)s has already been received.") % {"code": parsed.national_code},
                [{"field": "MaHoSo", "message": _("Already received.")}],
            )
        if catalog_selectors.get_procedure(parsed.procedure_code) is None:
            raise InboundRefused(
                422,
                _("Unknown procedure code “%(code)s”: no published procedure of our catalogue has it.")
                % {"code": parsed.procedure_code},
                [{"field": "MaTTHC", "message": _("Unknown procedure code.")}],
            )
        agency = None
        if parsed.agency_code:
            agency = Agency.objects.select_related("unit").filter(code=parsed.agency_code, is_active=True).first()
            if agency is None:
                raise InboundRefused(
                    422,
                    _("No agency of ours has the code “%(code)s”.") % {"code": parsed.agency_code},
                    [{"field": "MaDonViTiepNhan", "message": _("Unknown agency code.")}],
                )
        agency = agency or config.default_receiving_agency
        if agency is None:
            raise InboundRefused(
                422,
                _("The dossier names no receiving agency and no default receiving agency is configured."),
                [{"field": "MaDonViTiepNhan", "message": _("Receiving agency required.")}],
            )
        try:
            with transaction.atomic():
                dossier = dossier_services.submit_online(
                    None,
                    procedure_code=parsed.procedure_code,
                    applicant=parsed.applicant,
                    receiving_agency=agency,
                    form_data=parsed.form_data,
                    documents=parsed.documents,
                    submitted_at=parsed.submitted_at or moment,
                    event_data={"source": "national_portal", "national_code": parsed.national_code},
                    ip=ip,
                    now=moment,
                )
                NationalDossierLink.objects.create(
                    dossier=dossier,
                    origin=NationalDossierLink.Origin.NATIONAL,
                    national_code=parsed.national_code,
                    remote_created=True,
                    sync_state=SyncState.SKIPPED,
                    payload=payload,
                )
                event = dossier.events.get()
                NationalSyncItem.objects.create(
                    event=event,
                    dossier=dossier,
                    state=SyncState.SKIPPED,
                    note="came from the national portal",
                    due_at=moment,
                    idempotency_key=_key(config, event.pk),
                )
        except ValidationError as exc:
            errors = [
                {"field": name, "message": str(message)}
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
            raise InboundRefused(
                422,
                _("The dossier is not valid: %(problems)s") % {"problems": " ".join(e["message"] for e in errors)},
                errors,
            ) from None
        except IntegrityError:
            raise InboundRefused(
                409, _("The national dossier %(code)s has already been received.") % {"code": parsed.national_code}
            ) from None
    except InboundRefused as refused:
        outcome = NationalInboundLog.Outcome.DUPLICATE if refused.status == 409 else NationalInboundLog.Outcome.REFUSED
        _log_inbound(channel, payload, outcome, refused.detail)
        raise
    _log_inbound(channel, payload, NationalInboundLog.Outcome.ACCEPTED, dossier=dossier)
    return dossier


@dataclass
class FetchReport:
    fetched: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.fetched} fetched, {self.accepted} accepted, {self.duplicates} already known, {self.refused} refused"
        )


def fetch_inbox(now: datetime | None = None) -> FetchReport:
    """Fetch the dossiers submitted on the national portal since the last fetch (with a day of overlap)."""
    config = get_config()
    report = FetchReport()
    if not config.enabled:
        return report
    client = make_client(config)
    moment = _now(now)
    cursor, _created = NationalSyncCursor.objects.get_or_create(pk=1)
    since = mapping.format_moment(cursor.inbox_since - timedelta(days=1)) if cursor.inbox_since else ""
    records = client.fetch_inbox(since)
    report.fetched = len(records)
    for record in records:
        try:
            receive_national_dossier(record, channel=NationalInboundLog.Channel.FETCH, now=moment)
            report.accepted += 1
        except InboundRefused as refused:
            if refused.status == 409:
                report.duplicates += 1
            else:
                report.refused += 1
                report.messages.append(refused.detail)
    NationalSyncCursor.objects.filter(pk=1).update(inbox_since=moment)
    return report


# --- the national procedure database -------------------------------------------------------------


def _our_catalogue() -> dict[str, dict[str, str]]:
    return {
        version.procedure.code: {
            "name": version.name,
            "field_code": version.field.code if version.field_id else "",
            "field_name": version.field.name if version.field_id else "",
        }
        for version in catalog_selectors.current_versions().select_related("procedure", "field")
    }


@dataclass
class CatalogueReport:
    national: int = 0
    new: int = 0
    changed: int = 0
    superseded: int = 0

    def summary(self) -> str:
        return f"{self.national} national procedures, {self.new} new, {self.changed} changed to review"


def refresh_catalogue(now: datetime | None = None) -> CatalogueReport:
    """Compare the national procedure database with ours; store the differences for review (never apply)."""
    config = get_config()
    client = make_client(config)
    national = client.list_procedures()
    moment = _now(now)
    diffs = mapping.diff_procedures(national, _our_catalogue())
    report = CatalogueReport(national=len(national))
    wanted = {diff.code for diff in diffs}
    with transaction.atomic():
        stale = NationalProcedureChange.objects.filter(state=NationalProcedureChange.State.PENDING).exclude(
            code__in=wanted
        )
        report.superseded = stale.update(state=NationalProcedureChange.State.SUPERSEDED, decided_at=moment)
        for diff in diffs:
            pending = NationalProcedureChange.objects.filter(
                code=diff.code, state=NationalProcedureChange.State.PENDING
            ).first()
            if pending is not None and pending.proposed == diff.proposed:
                continue
            if NationalProcedureChange.objects.filter(
                code=diff.code, state=NationalProcedureChange.State.REJECTED, proposed=diff.proposed
            ).exists():
                continue  # the administrator already said no to exactly this
            if pending is not None:
                pending.state = NationalProcedureChange.State.SUPERSEDED
                pending.decided_at = moment
                pending.save(update_fields=["state", "decided_at"])
            NationalProcedureChange.objects.create(
                code=diff.code, kind=diff.kind, current=diff.current, proposed=diff.proposed, detected_at=moment
            )
            if diff.kind == "new":
                report.new += 1
            else:
                report.changed += 1
    return report


def _field_for(proposed: dict[str, str], current: Field | None) -> Field | None:
    """Our field of activity for the proposal: same name (diacritics and case ignored), else a new one."""
    from motcua.text import fold

    name = normalize(proposed.get("field_name", ""))
    if not name:
        return current
    if current is not None and fold(current.name) == fold(name):
        return current
    for candidate in Field.objects.all():
        if fold(candidate.name) == fold(name):
            return candidate
    code = normalize(proposed.get("field_code", "")) or fold(name).upper().replace(" ", "_")[:50]
    found = Field.objects.filter(code=code).first()
    if found is not None:
        return found
    created = Field(code=code, name=name)
    created.full_clean()
    created.save()
    return created


def accept_change(change: NationalProcedureChange, *, actor: User) -> str:
    """Apply a reviewed difference through the catalogue services; returns what was done.

    A new procedure becomes a *draft* (the national database does not say which of our
    agencies carry it out, so a person completes and publishes it); a changed one gets a new
    version with the national name and field, published when it passes the publishing checks.
    """
    _require_admin(actor)
    with transaction.atomic():
        change = NationalProcedureChange.objects.select_for_update().get(pk=change.pk)
        if change.state != NationalProcedureChange.State.PENDING:
            raise ValidationError(_("This change has already been decided."))
        proposed = change.proposed
        procedure = Procedure.objects.filter(code=change.code).first()
        if procedure is None:
            with translation.override("vi"):
                note = _(
                    "Taken from the national procedure database on %(date)s. The time limit (1 working day here) "
                    "is a placeholder: set it, the implementing agencies and the documents before publishing."
                ) % {"date": timezone.localdate().strftime("%d/%m/%Y")}
            version = catalog_services.create_procedure(
                change.code,
                actor=actor,
                name=proposed["name"],
                field=_field_for(proposed, None),
                resolution_days=1,
                description=note,
            )
            message = _(
                "Procedure %(code)s created as draft version %(number)s: add its agencies, time limit and "
                "documents, then publish it."
            ) % {"code": change.code, "number": version.number}
        else:
            current = procedure.current_version
            draft = catalog_services.new_draft(procedure, actor=actor)
            draft = catalog_services.update_draft(
                draft, name=proposed["name"], field=_field_for(proposed, current.field if current else None)
            )
            try:
                with transaction.atomic():
                    catalog_services.publish_version(draft, actor)
                message = _("Version %(number)s of %(code)s published with the national name and field.") % {
                    "number": draft.number,
                    "code": change.code,
                }
            except ValidationError as exc:
                message = _("Draft version %(number)s of %(code)s created but not published: %(problems)s") % {
                    "number": draft.number,
                    "code": change.code,
                    "problems": " ".join(catalog_services.messages_of(exc)),
                }
        change.state = NationalProcedureChange.State.ACCEPTED
        change.decided_at = timezone.now()
        change.decided_by = actor
        change.outcome_message = message
        change.save(update_fields=["state", "decided_at", "decided_by", "outcome_message"])
    return message


def reject_change(change: NationalProcedureChange, *, actor: User) -> None:
    _require_admin(actor)
    updated = NationalProcedureChange.objects.filter(pk=change.pk, state=NationalProcedureChange.State.PENDING).update(
        state=NationalProcedureChange.State.REJECTED, decided_at=timezone.now(), decided_by=actor
    )
    if not updated:
        raise ValidationError(_("This change has already been decided."))


# --- health ---------------------------------------------------------------------------------------


def check_connection() -> str:
    """Log in afresh (or fetch a token): a sentence saying it worked; the client's error otherwise."""
    config = get_config()
    client = make_client(config)
    try:
        client.check_credentials()
    except PortalError as exc:
        raise NotConfigured(exc.message) from exc
    return _("The national portal accepted our credentials (%(mode)s).") % {"mode": config.get_auth_mode_display()}
