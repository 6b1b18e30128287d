"""Forms of the citizen accounts that django-allauth renders: the sign-up's extra field, the phone field."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from motcua.text import normalize


class VietnameseMobileField(forms.CharField):
    """A Vietnamese mobile number in any usual spelling (``+84 912 345 678``, ``0912.345.678``), cleaned to
    ``0912345678``; allauth uses it wherever it asks for a phone (sign-up, log-in, phone change)."""

    def __init__(self, **kwargs) -> None:
        kwargs.pop("validators", None)
        kwargs.setdefault("label", _("Mobile phone"))
        kwargs.setdefault("max_length", 20)
        kwargs["widget"] = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"})
        super().__init__(**kwargs)

    def clean(self, value):
        from motcua.portal import services

        value = super().clean(value)
        if not value:
            return value
        try:
            return services.clean_mobile(value)
        except ValidationError as error:
            raise ValidationError(error.messages[0], code="invalid_phone") from None


class CitizenSignupForm(forms.Form):
    """The citizen's name at sign-up (allauth adds e-mail, phone and password), and one of e-mail or phone."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)

    def clean_full_name(self) -> str:
        name = normalize(self.cleaned_data.get("full_name") or "")
        if not name:
            raise ValidationError(_("Enter your full name (at most 150 characters)."))
        return name

    def clean(self):
        cleaned = super().clean()
        # allauth's fields are cleaned first; with both empty (and no other error on them) ask for one.
        if not cleaned.get("email") and not cleaned.get("phone") and not {"email", "phone"} & set(self.errors):
            raise ValidationError(_("Enter an e-mail address or a mobile phone number."), code="no_contact")
        return cleaned

    def signup(self, request, user) -> None:
        """Called by allauth after the user is saved; the adapter already set up the citizen."""
