"""Desk pages: online targets per agency (scoped) and the indicator formulas (system administrators)."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from motcua.org.admin_scope import ADMIN_ROLES, ScopedModelAdmin
from motcua.org.models import Role
from motcua.reports import services
from motcua.reports.figures import INDICATOR_BY_KEY, INDICATORS
from motcua.reports.models import IndicatorSetting, OnlineTarget


@admin.register(OnlineTarget)
class OnlineTargetAdmin(ScopedModelAdmin):
    scope_unit_field = "agency__unit"
    list_display = ["agency", "year", "percent", "note"]
    list_filter = ["year"]
    search_fields = ["agency__name", "agency__code"]
    list_select_related = ["agency"]
    fields = ["agency", "year", "percent", "note"]

    def save_model(self, request: HttpRequest, obj: OnlineTarget, form, change: bool) -> None:
        saved = services.set_online_target(
            actor=request.user, agency=obj.agency, year=obj.year, percent=obj.percent, note=obj.note
        )
        obj.pk = saved.pk


def _variant_choices() -> list:
    return [
        (gettext(indicator.name), [(f"{indicator.key}:{v.key}", gettext(v.text)) for v in indicator.variants])
        for indicator in INDICATORS
    ]


class IndicatorSettingForm(forms.ModelForm):
    formula = forms.ChoiceField(label=_("formula"), choices=_variant_choices)

    class Meta:
        model = IndicatorSetting
        fields = ["indicator", "confirmed", "source"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["formula"].initial = f"{self.instance.indicator}:{self.instance.variant}"

    def clean(self):
        cleaned = super().clean()
        indicator, _sep, variant = str(cleaned.get("formula") or "").partition(":")
        if indicator and cleaned.get("indicator") and indicator != cleaned["indicator"]:
            self.add_error("formula", gettext("Choose a formula of the chosen indicator."))
        elif indicator in INDICATOR_BY_KEY:
            cleaned["variant"] = variant
        return cleaned


@admin.register(IndicatorSetting)
class IndicatorSettingAdmin(ScopedModelAdmin):
    form = IndicatorSettingForm
    manage_roles = (Role.SYSTEM_ADMIN,)
    view_roles = (*ADMIN_ROLES, Role.MONITOR)
    list_display = ["indicator", "variant", "confirmed", "source"]
    fields = ["indicator", "formula", "confirmed", "source"]

    def save_model(self, request: HttpRequest, obj: IndicatorSetting, form, change: bool) -> None:
        saved = services.set_indicator_formula(
            actor=request.user,
            indicator=obj.indicator,
            variant=form.cleaned_data["variant"],
            confirmed=obj.confirmed,
            source=obj.source,
        )
        obj.pk = saved.pk
