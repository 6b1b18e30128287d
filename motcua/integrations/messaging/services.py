"""notify(): one Outgoing per consented channel; send_outgoing(): one attempt, retried with backoff.

Nothing here calls outside inside a web request's transaction (invariant 6): notify() only writes
rows and enqueues after the commit; the task does the outside call.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from motcua.dossiers.models import Dossier
from motcua.integrations.messaging import adapters
from motcua.integrations.messaging.models import Attempt, Channel, Event, MessageTemplate, Outgoing
from motcua.integrations.messaging.rendering import compile_text, render_text

log = logging.getLogger("motcua.messaging")
DEFAULT_BACKOFF = [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600]


def _local(moment) -> str:
    if isinstance(moment, str):  # event data holds moments as ISO text
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return date_format(timezone.localtime(moment), "d/m/Y H:i") if moment else ""


def context_for(dossier: Dossier, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plain values only; no ID numbers or addresses leave in messages."""
    data = data or {}
    return {
        "code": dossier.code or "",
        "applicant_name": dossier.applicant_name,
        "procedure": str(dossier.procedure_version.name),
        "due_at": _local(dossier.due_at),
        "status": str(dossier.get_status_display()),
        "reason": str(data.get("reason", "")),
        "amount": str(data.get("amount", "")),
        "new_due_at": _local(data.get("new_due_at") or None),
    }


def channels_for(dossier: Dossier) -> list[tuple[str, str]]:
    """(channel, recipient) by consent: e-mail when there is an address; Zalo else SMS on the phone."""
    out = []
    if dossier.applicant_email:
        out.append((Channel.EMAIL, dossier.applicant_email))
    if dossier.applicant_phone and dossier.accepts_zalo:
        out.append((Channel.ZALO, dossier.applicant_phone))
    if dossier.applicant_phone and dossier.accepts_sms:
        out.append((Channel.SMS, dossier.applicant_phone))
    return out


def _key(dossier: Dossier, event: str, channel: str, ref: str) -> str:
    return f"{dossier.pk}-{event}-{channel}-{ref}"


def _create(dossier: Dossier, event: str, channel: str, recipient: str, ctx: dict, ref: str) -> Outgoing | None:
    template = MessageTemplate.objects.filter(event=event, channel=channel, active=True).first()
    if template is None:
        return None
    try:
        with transaction.atomic():
            return Outgoing.objects.create(
                dossier=dossier,
                event=event,
                channel=channel,
                recipient=recipient,
                subject=render_text(template.subject, ctx) if template.subject else "",
                body=render_text(template.body, ctx),
                params={**ctx, "_zns_template_id": template.zns_template_id},
                idempotency_key=_key(dossier, event, channel, ref),
            )
    except IntegrityError:
        return None  # already created for this event: notify() is idempotent


def notify(dossier: Dossier, event: str, *, ref: str = "", data: dict | None = None) -> list[Outgoing]:
    """Create the messages of ``event`` for each consented channel and enqueue them after the commit."""
    if event not in Event.values:
        raise ValueError(event)
    ctx = context_for(dossier, data)
    created = []
    for channel, recipient in channels_for(dossier):
        row = _create(dossier, event, channel, recipient, ctx, ref or "once")
        if row is not None:
            created.append(row)
    for row in created:
        _enqueue_on_commit(row.pk)
    return created


#: Longer than any provider call (their timeouts are seconds): an attempt still "sending" after this
#: was cut short. The provider gets the same idempotency key again, so HTTP gateways do not send twice.
SENDING_TIMEOUT = timedelta(minutes=10)
INTERRUPTED = "interrupted: the worker stopped during the attempt"


def _enqueue_on_commit(outgoing_id: int, delay: float = 0) -> None:
    from motcua.integrations.messaging import tasks

    def go() -> None:
        task = tasks.send_message
        if delay:
            task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
        task.enqueue(outgoing_id)

    transaction.on_commit(go)


def _backoff(attempts: int) -> float:
    steps = adapters.conf().get("backoff", DEFAULT_BACKOFF)
    return float(steps[min(attempts - 1, len(steps) - 1)])


def _max_attempts() -> int:
    return int(adapters.conf().get("max_attempts", 12))


def send_outgoing(outgoing_id: int) -> str:
    """One attempt: claim the row (no double send), call the provider, record the outcome."""
    with transaction.atomic():
        row = Outgoing.objects.select_for_update().get(pk=outgoing_id)
        if row.status not in (Outgoing.Status.QUEUED,):
            return row.status
        row.status = Outgoing.Status.SENDING
        row.attempts += 1
        # The attempt's deadline: if the worker dies during the call, resend_due takes the row back then.
        row.next_attempt_at = timezone.now() + SENDING_TIMEOUT
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
    message = adapters.Message(
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        params={k: v for k, v in row.params.items() if not k.startswith("_")},
        key=row.idempotency_key,
        zns_template_id=row.params.get("_zns_template_id", ""),
    )
    try:
        provider_id = adapters.sender_for(row.channel).send(message)
    except adapters.NoZaloAccount as exc:
        return _fell_back(row, str(exc))
    except adapters.SendError as exc:
        return _failed(row, str(exc), exc.transient)
    except Exception as exc:  # a bug or an unexpected reply must not lose the message
        log.exception("sending %s", row.pk)
        return _failed(row, f"{exc.__class__.__name__}: {exc}", True)
    with transaction.atomic():
        Outgoing.objects.filter(pk=row.pk).update(
            status=Outgoing.Status.SENT, provider_id=provider_id[:100], sent_at=timezone.now(), last_error=""
        )
        Attempt.objects.create(outgoing=row, ok=True, detail=f"sent {provider_id}"[:500])
    return Outgoing.Status.SENT


def _failed(row: Outgoing, error: str, transient: bool) -> str:
    retry = transient and row.attempts < _max_attempts()
    delay = _backoff(row.attempts)
    with transaction.atomic():
        Attempt.objects.create(outgoing=row, ok=False, detail=error[:500])
        Outgoing.objects.filter(pk=row.pk).update(
            status=Outgoing.Status.QUEUED if retry else Outgoing.Status.FAILED,
            last_error=error[:500],
            next_attempt_at=timezone.now() + timedelta(seconds=delay) if retry else None,
        )
        if retry:
            _enqueue_on_commit(row.pk, delay)
    log.warning("message %s attempt %s failed: %s", row.pk, row.attempts, error)
    return Outgoing.Status.QUEUED if retry else Outgoing.Status.FAILED


def _fell_back(row: Outgoing, error: str) -> str:
    """No Zalo account: the same text by SMS, under the SMS key (no duplicate if SMS was consented too)."""
    with transaction.atomic():
        Attempt.objects.create(outgoing=row, ok=False, detail=error[:500])
        Outgoing.objects.filter(pk=row.pk).update(status=Outgoing.Status.FELL_BACK, last_error=error[:500])
        ref = row.idempotency_key.rsplit("-", 1)[-1]
        dossier = row.dossier
        ctx = {k: v for k, v in row.params.items() if not k.startswith("_")}
        sms = _create(dossier, row.event, Channel.SMS, row.recipient, ctx, ref)
        if sms is not None:
            _enqueue_on_commit(sms.pk)
    return Outgoing.Status.FELL_BACK


def resend_due(now=None) -> int:
    """Periodic sweep: re-enqueue queued messages whose time has come (a lost enqueue loses nothing),
    and take back those whose attempt outlived its deadline (the worker died while sending)."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            Outgoing.objects.select_for_update(skip_locked=True).filter(
                status=Outgoing.Status.SENDING, next_attempt_at__lte=now
            )
        )
        for row in stale:
            Attempt.objects.create(outgoing=row, ok=False, detail=INTERRUPTED)
        Outgoing.objects.filter(pk__in=[row.pk for row in stale]).update(
            status=Outgoing.Status.QUEUED, last_error=INTERRUPTED
        )
    ids = list(
        Outgoing.objects.filter(status=Outgoing.Status.QUEUED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        _enqueue_on_commit(pk)
    return len(ids)


def save_template(template: MessageTemplate) -> MessageTemplate:
    """Refuse a template that does not compile in the sandbox; nothing is saved then."""
    compile_text(template.body)
    if template.subject:
        compile_text(template.subject)
    if not template.body.strip():
        raise ValidationError({"body": [_("The text is empty.")]})
    template.save()
    return template


def seed_defaults() -> int:
    """Create the missing default templates (existing, possibly edited, ones are kept)."""
    from motcua.integrations.messaging import defaults

    created = 0
    for row in defaults.rows():
        _obj, made = MessageTemplate.objects.get_or_create(
            event=row["event"], channel=row["channel"], defaults={"subject": row["subject"], "body": row["body"]}
        )
        created += made
    return created
