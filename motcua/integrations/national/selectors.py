"""Queries over the national-portal sync, scoped to the caller (invariant 5).

A dossier's sync state, its items and its dead letters are visible to whoever may see the
dossier (``dossiers_visible_to``); the province-wide outbox figures only to system administrators
and monitors of the province.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from motcua.dossiers.models import Dossier
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.integrations.models import NationalDossierLink, NationalSyncItem, SyncState
from motcua.org.selectors import scope_path


def links_visible_to(user) -> QuerySet[NationalDossierLink]:
    return NationalDossierLink.objects.filter(dossier__in=dossiers_visible_to(user)).select_related(
        "dossier", "dossier__procedure_version__procedure"
    )


def items_visible_to(user) -> QuerySet[NationalSyncItem]:
    return NationalSyncItem.objects.filter(dossier__in=dossiers_visible_to(user)).select_related(
        "dossier", "event", "dossier__national_link"
    )


def dead_letters_visible_to(user) -> QuerySet[NationalSyncItem]:
    return items_visible_to(user).filter(state=SyncState.DEAD)


@dataclass(frozen=True)
class DossierSyncState:
    """What a dossier page shows: the state, its label, the portal's last error, the national code."""

    state: str
    label: str
    error: str
    national_code: str
    remote_code: str
    last_acknowledged_at: datetime | None


def sync_state(user, dossier: Dossier) -> DossierSyncState | None:
    """The national sync state of ``dossier`` if ``user`` may see it and it has one."""
    link = links_visible_to(user).filter(dossier=dossier).first()
    if link is None:
        return None
    return DossierSyncState(
        state=link.sync_state,
        label=str(link.get_sync_state_display()),
        error=link.last_error,
        national_code=link.national_code or "",
        remote_code=link.remote_code,
        last_acknowledged_at=link.last_acknowledged_at,
    )


def outbox_counts(user) -> dict[str, int]:
    """Items per state, province-wide (empty for anyone but a system administrator)."""
    if scope_path(user) != "":
        return {}
    return outbox_totals()


def outbox_totals() -> dict[str, int]:
    """Items per state, unscoped: only for pages that system administrators alone can open."""
    rows = NationalSyncItem.objects.values("state").annotate(n=Count("pk")).order_by()
    counts = {state: 0 for state in SyncState.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts
