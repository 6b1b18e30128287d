"""Token queries: find the token of a presented secret, list the tokens a desk user may see."""

import hashlib

from django.db.models import QuerySet

from motcua.api.models import ApiToken

TOKEN_PREFIX = "mc_"


def hash_secret(secret: str) -> str:
    """SHA-256 of the whole presented token: what is stored and looked up, never the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_for_secret(secret: str) -> ApiToken | None:
    """The token row of ``secret`` with its user, usable or not (the caller decides), or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    return ApiToken.objects.select_related("user").filter(secret_hash=hash_secret(secret)).first()


def tokens_visible_to(user) -> QuerySet[ApiToken]:
    """Tokens of users in ``user``'s administrative scope (everything for a system administrator)."""
    from motcua.org import selectors as org_selectors

    users = org_selectors.users_in_scope(user)
    return ApiToken.objects.select_related("user", "revoked_by").filter(user__in=users)


def component_ids_by_order(procedure_code: str) -> dict[int, list[int]]:
    """``order`` → ids of the document components of the procedure's current version, in one query.

    Clients name components by the ``order`` that ``GET /api/v1/procedures/{code}`` shows them;
    the services take ids. Empty when there is no such published procedure (the services say so).
    """
    from motcua.catalog import codes as catalog_codes
    from motcua.catalog.models import DocumentComponent, ProcedureVersion

    national = catalog_codes.national_code(procedure_code or "")
    if national is None:
        return {}
    rows = DocumentComponent.objects.filter(
        version__status=ProcedureVersion.Status.PUBLISHED, version__procedure__code=national
    ).values_list("order", "pk")
    by_order: dict[int, list[int]] = {}
    for order, pk in rows:
        by_order.setdefault(order, []).append(pk)
    return by_order
