"""Queries of the documents app, scoped to the caller where a caller is involved (invariant 5).

``select_template`` and the trust material (roots, CRLs) are not per-user: the template of an
agency's form and the province's trust anchors are the same whoever asks.
"""

from __future__ import annotations

import functools
from datetime import datetime

from cryptography import x509
from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.template import Template
from django.utils import timezone

from motcua.documents import pki, registry, sandbox
from motcua.documents.models import (
    DocumentSignature,
    IssuedDocument,
    RevocationList,
    SigningCertificate,
    SigningMode,
    TemplateOverride,
    TrustedRoot,
)
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.org.models import Agency
from motcua.org.selectors import scope_filter, scope_path


def select_template(form_key: str, agency: Agency | None) -> TemplateOverride | str:
    """The most specific active override for ``agency`` (its own, then its unit's, then the units
    above up to the province), else the name of the default template."""
    key = registry.FormKey(form_key)
    if agency is not None:
        own = TemplateOverride.objects.filter(form_key=key, agency=agency, is_active=True).first()
        if own is not None:
            return own
        units = agency.unit.ancestors()  # top first
        by_unit = {
            o.unit_id: o
            for o in TemplateOverride.objects.filter(form_key=key, unit__in=units, is_active=True, agency__isnull=True)
        }
        for unit in reversed(units):
            if unit.pk in by_unit:
                return by_unit[unit.pk]
    return registry.default_template(key)


@functools.lru_cache(maxsize=256)
def _compiled(pk: int, updated_at: datetime, body: str) -> Template:
    # The body was checked when saved; compiled once per version (pk and update time).
    return sandbox.engine().from_string(body)


def compiled_template(choice: TemplateOverride | str) -> Template | str:
    """What ``rendering.render_pdf`` takes: a compiled override, or the default template's name."""
    if isinstance(choice, TemplateOverride):
        template = _compiled(choice.pk, choice.updated_at, choice.body)
        # Rendered instead when real data makes the override go over the sandbox's limits.
        template.fallback = registry.default_template(registry.FormKey(choice.form_key))
        return template
    return choice


def overrides_visible_to(user) -> QuerySet[TemplateOverride]:
    if scope_path(user) is None:
        return TemplateOverride.objects.none()
    return TemplateOverride.objects.select_related("unit", "agency").filter(
        scope_filter(user, "unit") | scope_filter(user, "agency__unit")
    )


def documents_visible_to(user) -> QuerySet[IssuedDocument]:
    """Documents of agencies in the user's scope, or of dossiers the user may see."""
    if scope_path(user) is None:
        return IssuedDocument.objects.none()
    return IssuedDocument.objects.filter(
        scope_filter(user, "agency__unit") | Q(dossier__in=dossiers_visible_to(user))
    ).distinct()


def document_by_token(token: str) -> IssuedDocument | None:
    """The public verification page's lookup: the token itself is the secret of the QR link."""
    return IssuedDocument.objects.select_related("agency").filter(token=token).first()


def certificates_visible_to(user) -> QuerySet[SigningCertificate]:
    if scope_path(user) is None:
        return SigningCertificate.objects.none()
    return SigningCertificate.objects.select_related("user", "agency").filter(scope_filter(user, "user__unit"))


def usable_certificates(user, now: datetime | None = None) -> QuerySet[SigningCertificate]:
    """The user's own active, unrevoked certificates valid at ``now`` (PKCS#12 first, the usual
    demo and office mode, then token, then remote), newest first. CRLs are checked when signing."""
    moment = now or timezone.now()
    return (
        SigningCertificate.objects.filter(
            user=user, is_active=True, revoked_at__isnull=True, not_before__lte=moment, not_after__gt=moment
        )
        .annotate(
            mode_order=Case(
                When(mode=SigningMode.PKCS12, then=Value(0)),
                When(mode=SigningMode.PKCS11, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("mode_order", "-not_after")
        .select_related("agency")
    )


def trust_roots() -> list[x509.Certificate]:
    return [pki.load_certificate(r.certificate_pem) for r in TrustedRoot.objects.filter(is_active=True)]


def revocation_lists() -> list[x509.CertificateRevocationList]:
    return [pki.load_crl(r.crl_pem) for r in RevocationList.objects.all()]


def result_documents(dossier) -> QuerySet[IssuedDocument]:
    """The dossier's results signed from the workflow (not the forms issued at the counter), newest first."""
    return IssuedDocument.objects.filter(dossier=dossier, form_key="", signatures__isnull=False).distinct()


def unsealed_result(dossier, agency: Agency) -> IssuedDocument | None:
    """The newest result of ``agency`` signed by its leader that does not bear the agency seal yet."""
    return (
        result_documents(dossier)
        .filter(agency=agency, signatures__certificate__kind=SigningCertificate.Kind.PERSONAL)
        .exclude(signatures__certificate__kind=SigningCertificate.Kind.SEAL)
        .order_by("-created_at", "-pk")
        .first()
    )


def dossier_documents(user, dossier) -> list[IssuedDocument]:
    """The documents of ``dossier`` that ``user`` may see, oldest first, with their signatures and signers."""
    return list(
        documents_visible_to(user)
        .filter(dossier=dossier)
        .select_related("agency")
        .prefetch_related(
            Prefetch(
                "signatures",
                queryset=DocumentSignature.objects.select_related("signer", "certificate").order_by("signed_at", "pk"),
            )
        )
        .order_by("created_at", "pk")
    )
