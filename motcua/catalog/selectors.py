"""Queries over the catalogue.

The catalogue is public (the portal and the API show it to anyone), so unlike the organisation
selectors these are not scoped to a caller. Only current published versions are listed; a
procedure has at most one published version (a database constraint), its ``current_version``.
"""

from django.db.models import Prefetch, Q, QuerySet

from motcua.catalog import codes
from motcua.catalog.models import Field, Procedure, ProcedureVersion
from motcua.org.models import AdministrativeLevel, Agency
from motcua.text import fold


def versions_with_content() -> QuerySet[ProcedureVersion]:
    """Versions with everything a detail page, an export or a dossier form reads, in few queries."""
    return ProcedureVersion.objects.select_related("procedure", "field").prefetch_related(
        Prefetch("levels", queryset=AdministrativeLevel.objects.order_by("rank")),
        Prefetch("agencies", queryset=Agency.objects.order_by("code")),
        "components",
        "fees",
        "form_fields",
    )


def current_versions() -> QuerySet[ProcedureVersion]:
    return ProcedureVersion.objects.filter(status=ProcedureVersion.Status.PUBLISHED)


def _code_of(value) -> str:
    return value if isinstance(value, str) else value.code


def search_procedures(
    q: str | None = None,
    field: Field | str | None = None,
    level: AdministrativeLevel | str | None = None,
    agency: Agency | str | None = None,
    online_level: str | None = None,
) -> QuerySet[ProcedureVersion]:
    """Current versions matching every filter given, ordered by code.

    ``q`` ignores diacritics and case ("dang ky khai sinh" finds "Đăng ký khai sinh"): every word
    must occur in the folded code and name. A local code (``1.001193.000.00.00.H62``) finds its
    procedure. ``field``, ``level`` and ``agency`` take an object or its code.
    """
    versions = (
        current_versions()
        .select_related("procedure", "field")
        .prefetch_related(Prefetch("levels", queryset=AdministrativeLevel.objects.order_by("rank")))
    )
    if q and q.strip():
        national = codes.national_code(q)
        if national:
            versions = versions.filter(procedure__code=national)
        else:
            for word in fold(q).split():
                versions = versions.filter(search_text__contains=word)
    if field:
        versions = versions.filter(field__code=_code_of(field))
    if level:
        versions = versions.filter(levels__code=_code_of(level))
    if agency:
        versions = versions.filter(agencies__code=_code_of(agency))
    if online_level:
        versions = versions.filter(online_level=online_level)
    if level or agency:
        versions = versions.distinct()
    return versions.order_by("procedure__code")


def get_procedure(code: str) -> ProcedureVersion | None:
    """The current published version of the procedure with ``code`` (national or local form), or None."""
    national = codes.national_code(code)
    if national is None:
        return None
    return versions_with_content().filter(status=ProcedureVersion.Status.PUBLISHED, procedure__code=national).first()


def procedures_for_admin(q: str) -> Q:
    """A Q over Procedure matching ``q`` like ``search_procedures`` does, for the desk's search box."""
    condition = Q()
    for word in fold(q).split():
        condition &= Q(code__contains=word) | Q(versions__search_text__contains=word)
    return condition


def has_published(procedure: Procedure) -> bool:
    return procedure.versions.exclude(status=ProcedureVersion.Status.DRAFT).exists()
