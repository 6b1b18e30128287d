"""The Vietnamese messages of the input checks of ``motcua.text`` (which stays free of Django), and the
bounds of dates a person may type. Services, forms and selectors use these so every way in refuses
bad input with the same words, and never with a 500."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from motcua import text

#: Dates typed by people (dates of birth, search ranges, submission dates): anything else is a typo.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)


def message(error: text.BadText) -> str:
    if error.reason == text.CONTROL:
        return _("The text contains a control character (such as NUL); remove it and try again.")
    if error.reason == text.SURROGATE:
        return _("The text contains an invalid character (a broken Unicode character); type it again.")
    if error.reason == text.TOO_LONG:
        return _("Too long: at most %(limit)s characters.") % {"limit": error.limit}
    if error.reason == text.TOO_DEEP:
        return _("The data is nested too deeply (at most %(limit)s levels).") % {"limit": error.limit}
    return _("The data has too many values (at most %(limit)s).") % {"limit": error.limit}


def day_message() -> str:
    return _("Enter a date between %(first)s and %(last)s.") % {
        "first": EARLIEST_DAY.strftime("%d/%m/%Y"),
        "last": LATEST_DAY.strftime("%d/%m/%Y"),
    }


def plausible_day(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def clean_text(value: object, *, max_length: int | None = None, multiline: bool = False) -> str:
    """``text.clean`` for a form field: ValidationError with the Vietnamese message."""
    try:
        return text.clean(value, max_length=max_length, multiline=multiline)
    except text.BadText as error:
        raise ValidationError(message(error), code=error.reason) from None
