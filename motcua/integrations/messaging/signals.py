"""The dossier's event log drives the notices: one subscription instead of edits in every service.

A post_save on DossierEvent (created rows only; the log is append-only) maps the action to a
message event and calls notify() in transaction.on_commit, so a rolled-back change sends nothing
and no outside call runs inside the request's transaction (invariant 6). The event's pk is the
idempotency reference, so a repeated delivery of the same event creates no second message.
"""

from django.db import transaction
from django.db.models.signals import post_save

from motcua.dossiers.models import DossierEvent

Action = DossierEvent.Action

EVENTS = {
    Action.RECEIVED: "received",
    Action.RETURNED_FOR_COMPLETION: "completion_requested",
    Action.SUPPLEMENT_REQUESTED: "completion_requested",
    Action.RESULT_READY: "result_ready",
    Action.APOLOGY_RECORDED: "apology",
    Action.RESULT_RETURNED: "returned",
    Action.FEE_REQUESTED: "fee_requested",
}


def on_event(sender, instance: DossierEvent, created: bool, **kwargs) -> None:
    event = EVENTS.get(instance.action)
    if not created or event is None or kwargs.get("raw"):
        return
    event_id, dossier_id, data = instance.pk, instance.dossier_id, dict(instance.data or {})

    def go() -> None:
        from motcua.dossiers.models import Dossier
        from motcua.integrations.messaging.services import notify

        notify(Dossier.objects.get(pk=dossier_id), event, ref=str(event_id), data=data)

    transaction.on_commit(go)


def connect() -> None:
    post_save.connect(on_event, sender=DossierEvent, dispatch_uid="messaging.on_event")
