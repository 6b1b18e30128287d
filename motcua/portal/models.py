"""The citizen's side: who owns an online dossier, the citizen profile and the service ratings."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from motcua.dossiers.models import Dossier


class Citizen(models.Model):
    """A citizen's profile; the national SSO's citizen ID number (CCCD) is the key when present."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen", verbose_name=_("user")
    )
    id_number = models.CharField(_("ID number"), max_length=12, unique=True, null=True, blank=True)
    full_name = models.CharField(_("full name"), max_length=255, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=15, blank=True)
    #: The mobile number the citizen logs in with (normalised, 0xxxxxxxxx); unique among accounts.
    login_phone = models.CharField(_("log-in phone"), max_length=10, unique=True, null=True, blank=True)
    #: When the citizen entered the SMS code django-allauth sent to ``login_phone``.
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")

    def __str__(self) -> str:
        return self.full_name or str(self.user)


class DossierOwner(models.Model):
    """The account that drafted and submitted an online dossier: "my dossiers" and every citizen check."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="owner", verbose_name=_("dossier"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("citizen")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dossier owner")
        verbose_name_plural = _("dossier owners")

    def __str__(self) -> str:
        return f"{self.dossier_id} → {self.user_id}"


class Rating(models.Model):
    """Satisfaction with one returned dossier (1–5), given once; the reports read it."""

    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="rating", verbose_name=_("dossier"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="portal_rating_score_1_5")
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.score}/5"
