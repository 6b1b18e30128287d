"""Official documents: template overrides, trusted roots and CRLs, signing certificates, and the
documents the system issued with their signatures.

The services are the only code that writes these rows. Secrets (PKCS#12 passphrases, token PINs,
remote-signing credentials) never live here: a certificate row names where to find them
(``secret_ref``: an environment variable or a file under the PKI folder).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from motcua.documents.registry import FormKey
from motcua.org.models import AdministrativeUnit, Agency


def new_token() -> str:
    """128 random bits, URL-safe: the QR link of a document cannot be guessed."""
    return secrets.token_urlsafe(16)


class TemplateOverride(models.Model):
    """A province's, unit's or agency's own HTML for one form, checked in the sandbox when saved.

    Exactly one of ``unit`` and ``agency`` is set. For a given agency, the most specific active
    override wins: the agency's own, then its unit's, then the units above (up to the province);
    without one the default template applies. Rolling back means deactivating; every saved
    version stays in the history.
    """

    form_key = models.CharField(_("form"), max_length=20, choices=FormKey.choices)
    unit = models.ForeignKey(
        AdministrativeUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("administrative unit"),
        help_text=_("Applies to every agency of this unit and of the units below it."),
    )
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agency"),
        help_text=_("Applies to this agency only."),
    )
    body = models.TextField(
        _("template (HTML)"),
        help_text=_(
            'Django template language, usually {% extends "documents/base_official.html" %} with '
            "{% block content %}…{% endblock %}. Only the documented data can be used."
        ),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("updated by")
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["form_key", "-updated_at"]
        verbose_name = _("form template override")
        verbose_name_plural = _("form template overrides")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=True) & Q(agency__isnull=False))
                | (Q(unit__isnull=False) & Q(agency__isnull=True)),
                name="documents_override_one_scope",
            ),
            models.UniqueConstraint(
                fields=["form_key", "unit"],
                condition=Q(is_active=True, unit__isnull=False),
                name="documents_one_active_override_per_unit",
            ),
            models.UniqueConstraint(
                fields=["form_key", "agency"],
                condition=Q(is_active=True, agency__isnull=False),
                name="documents_one_active_override_per_agency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_form_key_display()} – {self.scope_name}"

    @property
    def scope_name(self) -> str:
        return str(self.agency.name if self.agency_id else self.unit.name if self.unit_id else "")


class TrustedRoot(models.Model):
    """A root certificate the province trusts: a signature is "trusted" when its certificate
    chains to an active root (the national root CA, the government CA, or the demo root)."""

    name = models.CharField(_("name"), max_length=255)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=500, editable=False)
    not_after = models.DateTimeField(_("valid until"), editable=False)
    unit = models.ForeignKey(
        AdministrativeUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("configured by"),
        help_text=_("The province (or unit) that added this root."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("trusted root certificate")
        verbose_name_plural = _("trusted root certificates")

    def __str__(self) -> str:
        return self.name


class RevocationList(models.Model):
    """The latest CRL of a certificate authority, used before signing and when verifying."""

    issuer = models.CharField(_("issuer"), max_length=500)
    issuer_key = models.CharField(max_length=64, unique=True, editable=False)
    crl_pem = models.TextField(_("CRL (PEM)"))
    this_update = models.DateTimeField(_("issued at"))
    next_update = models.DateTimeField(_("next update"), null=True, blank=True)
    revoked_count = models.PositiveIntegerField(_("revoked certificates"), default=0)

    class Meta:
        ordering = ["issuer"]
        verbose_name = _("certificate revocation list")
        verbose_name_plural = _("certificate revocation lists")

    def __str__(self) -> str:
        return self.issuer


class SigningMode(models.TextChoices):
    PKCS12 = "pkcs12", _("PKCS#12 file on the server")
    PKCS11 = "pkcs11", _("PKCS#11 token or HSM")
    REMOTE = "remote", _("Remote signing service")


class SigningCertificate(models.Model):
    """A certificate a person signs with, and how its private key is reached."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("personal signature")
        SEAL = "seal", _("agency seal")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signing_certificates", verbose_name=_("user")
    )
    label = models.CharField(_("label"), max_length=255)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSONAL)
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agency"),
        help_text=_("For an agency seal: the agency it stands for."),
    )
    mode = models.CharField(_("signing mode"), max_length=10, choices=SigningMode.choices)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    subject_name = models.CharField(_("signer name"), max_length=255, editable=False)
    organisation = models.CharField(_("organisation"), max_length=255, blank=True, editable=False)
    issuer_name = models.CharField(_("issuer"), max_length=500, editable=False)
    serial_number = models.CharField(_("serial number"), max_length=64, editable=False)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True, editable=False)
    not_before = models.DateTimeField(_("valid from"), editable=False)
    not_after = models.DateTimeField(_("valid until"), editable=False)
    key_file = models.CharField(
        _("PKCS#12 file"),
        max_length=500,
        blank=True,
        help_text=_("PKCS#12 mode: a path relative to MOTCUA_PKI_DIR, or absolute."),
    )
    secret_ref = models.CharField(
        _("where the secret is"),
        max_length=255,
        blank=True,
        help_text=_(
            "“env:NAME” (an environment variable) or “file:name” (a file under MOTCUA_PKI_DIR) holding the "
            "PKCS#12 passphrase or the token PIN. Never the secret itself."
        ),
    )
    token_label = models.CharField(
        _("key label on the token"), max_length=255, blank=True, help_text=_("PKCS#11 mode.")
    )
    remote_user_id = models.CharField(
        _("remote-signing account"),
        max_length=64,
        blank=True,
        help_text=_("Remote mode: the signer's identifier at the service (e.g. their ID number)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(_("revocation reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["user", "-not_after"]
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")

    def __str__(self) -> str:
        return f"{self.label} ({self.get_mode_display()})"


def document_upload_to(instance: "IssuedDocument", filename: str) -> str:
    return f"documents/{timezone.localdate():%Y/%m}/{instance.token}-{filename}"


class IssuedDocument(models.Model):
    """A PDF the system issued (a form) or a result to be signed; the file is replaced by each
    signed version, which contains the earlier revisions (incremental updates)."""

    token = models.CharField(_("verification token"), max_length=32, unique=True, default=new_token, editable=False)
    title = models.CharField(_("title"), max_length=500)
    form_key = models.CharField(_("form"), max_length=20, choices=FormKey.choices, blank=True)
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issued_documents",
        verbose_name=_("dossier"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="issued_documents", verbose_name=_("issuing agency")
    )
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    is_pdf_a = models.BooleanField(_("PDF/A"), default=False)
    template_override = models.ForeignKey(
        TemplateOverride,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("template override used"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")

    def __str__(self) -> str:
        return self.title


class DocumentSignature(models.Model):
    """One signature added to an issued document, in order."""

    document = models.ForeignKey(
        IssuedDocument, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("document")
    )
    certificate = models.ForeignKey(
        SigningCertificate, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("certificate")
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    field_name = models.CharField(_("signature field"), max_length=100)
    mode = models.CharField(_("signing mode"), max_length=10, choices=SigningMode.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    signed_at = models.DateTimeField(_("signed at"))
    sha256_before = models.CharField(max_length=64, editable=False)
    sha256_after = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["document", "signed_at", "pk"]
        verbose_name = _("document signature")
        verbose_name_plural = _("document signatures")
        constraints = [
            models.UniqueConstraint(fields=["document", "field_name"], name="documents_signature_field_unique")
        ]

    def __str__(self) -> str:
        return f"{self.field_name}: {self.certificate.subject_name}"
