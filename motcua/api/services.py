"""Token services: the only code that creates, revokes or touches API tokens."""

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua.api.models import ApiToken
from motcua.api.selectors import TOKEN_PREFIX, hash_secret

#: How stale ``last_used_at`` may get before a request writes it again: one write a minute at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8


def issue_token(
    user, name: str, *, days: int | None = None, expires_at: datetime | None = None, by=None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the plaintext, which is never stored or shown again.

    ``by`` is the person asking (the desk passes it): a token is minted only for oneself, as whoever
    holds it acts as its owner. Only the system operator's ``manage.py issue_api_token`` passes none.
    """
    if by is not None and by.pk != user.pk:
        raise PermissionDenied(_("An API token can only be issued to yourself."))
    if expires_at is None and days:
        expires_at = timezone.now() + timedelta(days=days)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=(name or "").strip()[:100],
        prefix=plaintext[:PREFIX_LENGTH],
        secret_hash=hash_secret(plaintext),
        expires_at=expires_at,
    )
    return token, plaintext


@transaction.atomic
def revoke(token: ApiToken, by=None) -> bool:
    """Revoke ``token`` (kept for the audit trail); False when it was already revoked."""
    now = timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by if by is not None and by.pk else None
    )
    if changed:
        token.revoked_at = now
        token.revoked_by = by
    return bool(changed)


def touch(token: ApiToken, now: datetime | None = None) -> None:
    """Record a use, writing at most once per ``LAST_USED_RESOLUTION`` (no write per API call)."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
