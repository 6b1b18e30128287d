"""Django forms built from a version's form schema (its ``FormField`` rows).

The counter screen and the citizen portal render the same schema, so the rules for each type
(a 12-digit personal identification number, a Vietnamese phone number, NFC text) live here once.
Cleaned values are plain Python (str, int, Decimal, date, bool, list of str); the dossier decides
how to store them.
"""

import re
from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from motcua import inputs
from motcua.catalog.models import FormField, ProcedureVersion
from motcua.phones import is_vietnamese_phone, normalize_phone
from motcua.text import ascii_int, text_problem

# ASCII digits: "\d" takes Arabic-Indic and full-width digits too, which break look-ups by CCCD.
ID_NUMBER_RE = re.compile(r"^[0-9]{12}$")
#: Whole numbers of a form (copies, people, square metres): not negative, and what a person could mean.
MAX_INTEGER = 999_999_999
# Mobile numbers have 10 digits (0 + 9), landlines 11 (0 + 2xx area code + 7 or 8 digits).


def _checked(value: str, multiline: bool) -> str:
    # Django's CharField refuses NUL only; other controls and lone surrogates would reach the database.
    return inputs.clean_text(value, multiline=multiline)


class TextField(forms.CharField):
    """One line of text, NFC-normalised with spaces collapsed (invariant 7); no control characters."""

    def to_python(self, value):
        value = super().to_python(value)
        return _checked(value, multiline=False) if value else value


class LongTextField(forms.CharField):
    """Several lines: NFC, lines kept, surrounding blanks dropped; no control characters."""

    widget = forms.Textarea

    def to_python(self, value):
        value = super().to_python(value)
        return _checked(value, multiline=True) if value else value


class WholeNumberField(forms.IntegerField):
    """A whole number in ASCII digits from 0 to MAX_INTEGER ("٣", "²", "-1" and 10**30 are refused)."""

    default_error_messages = {
        "invalid": _("Enter a whole number from 0 to %(max)s."),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_INTEGER)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = ascii_int(value if isinstance(value, int) else str(value).strip())
        if number is None:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"max": f"{MAX_INTEGER:,}".replace(",", ".")}
            )
        return number


class PlausibleDateField(forms.DateField):
    """A date between 01/01/1900 and 31/12/2199 (a year 0001 or 9999 is a typo, and 9999 overflows)."""

    def validate(self, value) -> None:
        super().validate(value)
        if value and not inputs.plausible_day(value):
            raise ValidationError(inputs.day_message(), code="out_of_range")


class IdNumberField(forms.CharField):
    """Personal identification number (số định danh cá nhân / CCCD): exactly 12 digits."""

    default_error_messages = {
        "invalid": _("Enter the 12-digit personal identification number."),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value and text_problem(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return re.sub(r"\s", "", value) if value else value

    def validate(self, value) -> None:
        super().validate(value)
        if value and not ID_NUMBER_RE.match(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")


class PhoneField(forms.CharField):
    """A Vietnamese phone number, 0xxxxxxxxx or +84xxxxxxxxx; stored as 0xxxxxxxxx."""

    default_error_messages = {
        "invalid": _("Enter a Vietnamese phone number such as 0912345678 or +84912345678."),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return value
        if text_problem(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return normalize_phone(value)

    def validate(self, value) -> None:
        super().validate(value)
        if value and not is_vietnamese_phone(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")


def _date_field(**kwargs) -> forms.DateField:
    return PlausibleDateField(
        input_formats=["%d/%m/%Y", "%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"}), **kwargs
    )


def build_field(spec: FormField) -> forms.Field:
    """The Django form field for one schema row."""
    common = {"label": spec.label or spec.name, "required": spec.required, "help_text": spec.help_text}
    kind = spec.type
    choices = [(choice, choice) for choice in spec.choice_list]
    if kind == FormField.Type.TEXT:
        return TextField(max_length=500, **common)
    if kind == FormField.Type.TEXTAREA:
        return LongTextField(max_length=5000, **common)
    if kind == FormField.Type.INTEGER:
        return WholeNumberField(**common)
    if kind == FormField.Type.DECIMAL:
        return forms.DecimalField(max_digits=18, decimal_places=4, **common)
    if kind == FormField.Type.DATE:
        return _date_field(**common)
    if kind == FormField.Type.CHOICE:
        blank = [] if spec.required else [("", "---------")]
        return forms.ChoiceField(choices=blank + choices, **common)
    if kind == FormField.Type.MULTICHOICE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if kind == FormField.Type.CHECKBOX:
        return forms.BooleanField(**common)
    if kind == FormField.Type.EMAIL:
        return forms.EmailField(**common)
    if kind == FormField.Type.PHONE:
        return PhoneField(**common)
    if kind == FormField.Type.ID_NUMBER:
        return IdNumberField(**common)
    raise ValueError(f"unknown form field type {kind!r}")


def build_form_class(source: ProcedureVersion | Iterable[FormField], name: str | None = None) -> type[forms.Form]:
    """A ``forms.Form`` subclass with one field per schema row, in the schema's order.

    ``source`` is a version (its ``form_fields`` are read, prefetched or not) or the rows themselves.
    """
    if isinstance(source, ProcedureVersion):
        rows = sorted(source.form_fields.all(), key=lambda row: (row.order, row.pk or 0))
        name = name or f"ProcedureForm_{source.procedure.code.replace('.', '_')}_v{source.number}"
    else:
        rows = sorted(source, key=lambda row: (row.order, row.pk or 0))
    attrs = {row.name: build_field(row) for row in rows}
    return type(name or "ProcedureForm", (forms.Form,), attrs)
