"""The message log of a dossier, for whoever may see the dossier."""

from django.db.models import QuerySet

from motcua.dossiers.selectors import dossiers_visible_to
from motcua.integrations.messaging.models import Outgoing
from motcua.org.models import User


def messages_of_dossier(user: User, dossier_id: int) -> QuerySet[Outgoing]:
    if not dossiers_visible_to(user).filter(pk=dossier_id).exists():
        return Outgoing.objects.none()
    return Outgoing.objects.filter(dossier_id=dossier_id).prefetch_related("attempt_log")
