"""The shapes of the API's parameters: one pattern or bound per kind of value, declared in the OpenAPI
document and enforced by the same declaration (pydantic), so a request valid by the schema is one the
server accepts, and one the schema calls invalid is refused with a 422 (never a 500 from the database).

Patterns are written for three regex engines at once — pydantic's (Rust), the clients' (ECMA-262, as
JSON Schema says) and Python's (schemathesis, hypothesis) — so they use ``[0-9]``, never ``\\d``
(which is every script's digits in Rust and Python), and no look-arounds. ``PATTERN_MESSAGES`` gives
each pattern its readable sentence for ``motcua.api.errors``.
"""

import re
from collections.abc import Callable
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field
from pydantic import AfterValidator, StringConstraints, WithJsonSchema

#: Pages of a list: ``page`` ≤ MAX_PAGE and ``page_size`` ≤ MAX_PAGE_SIZE keep the offset a small number.
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
#: Largest id of a row (PostgreSQL bigint).
MAX_ID = 2**63 - 1

# --- text ------------------------------------------------------------------------------------------

#: One line of text: no control characters (C0, DEL, C1) — a NUL cannot even be stored by PostgreSQL.
LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
#: Free text over several lines: tab and line breaks allowed, other control characters not.
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
#: A mandatory reason: free text with something other than blanks.
REASON = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# --- codes -----------------------------------------------------------------------------------------

#: National procedure code (1.001193) or the province's local form (1.001193.000.00.00.H62):
#: exactly what ``motcua.catalog.codes.national_code`` reads.
PROCEDURE_CODE = r"^[1-9]\.[0-9]{6}(\.000\.00\.00\.[A-Z][0-9]{2})?$"
#: Electronic identification code of an agency (QCVN 102:2016), as ``motcua.org.codes`` checks it.
AGENCY_CODE = r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}$"
#: A dossier code: the characters ``motcua.dossiers.codes`` lets a code format produce (URL-safe, at
#: most 50), starting with a letter or digit so that no code reads as a path segment "." or "..".
DOSSIER_CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$"
#: Codes of the catalogue's fields of activity and administrative levels (letters, digits, _ and -).
CATALOGUE_CODE = r"^[A-Za-z0-9_-]{0,50}$"

# --- dates and moments -----------------------------------------------------------------------------
# Only real calendar days: regexes that know month lengths and leap years, so that "2026-02-30" or
# "9999-12-31" is refused by the schema itself. Days typed by people (search ranges) are 1900–2199, the
# bounds of ``motcua.inputs``; moments the working calendar counts from are 1901–2100, its range.

_MONTH_DAY = r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
_DAY_MONTH = r"((0[1-9]|1[0-9]|2[0-8])/(0[1-9]|1[0-2])|(29|30)/(0[13-9]|1[0-2])|31/(0[13578]|1[02]))"
_LEAP = r"(0[48]|[2468][048]|[13579][26])"  # the leap years of a century but its first (1900, 2100)
_DAY_YEAR = r"(19[0-9][0-9]|2[01][0-9][0-9])"  # 1900–2199
_DAY_LEAP_YEAR = rf"((19|21){_LEAP}|20([02468][048]|[13579][26]))"
_CALENDAR_YEAR = r"(19(0[1-9]|[1-9][0-9])|20[0-9][0-9]|2100)"  # 1901–2100
_CALENDAR_LEAP_YEAR = rf"(19{_LEAP}|20([02468][048]|[13579][26]))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
# A "+" left unencoded in a query string arrives as a space: the offset may start with one.
_OFFSET = r"(Z|[+ -]([01][0-9]|2[0-3]):?[0-5][0-9])"

#: A local day: YYYY-MM-DD (or dd/mm/yyyy), 1900–2199.
DAY = (
    rf"^({_DAY_YEAR}-{_MONTH_DAY}|{_DAY_LEAP_YEAR}-02-29"
    rf"|{_DAY_MONTH}/{_DAY_YEAR}|29/02/{_DAY_LEAP_YEAR})$"
)
#: A moment: YYYY-MM-DD[THH:MM[:SS[.ffffff]][offset]], 1901–2100; without an offset it is Vietnam time.
MOMENT = rf"^({_CALENDAR_YEAR}-{_MONTH_DAY}|{_CALENDAR_LEAP_YEAR}-02-29)(T{_TIME}{_OFFSET}?)?$"
#: A moment with its offset, in a JSON body: YYYY-MM-DDTHH:MM[:SS[.ffffff]](Z|±HH:MM), 1901–2100.
AWARE_MOMENT = (
    rf"^({_CALENDAR_YEAR}-{_MONTH_DAY}|{_CALENDAR_LEAP_YEAR}-02-29)T{_TIME}(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])$"
)
#: A time of day, HH:MM[:SS] (empty: none).
TIME_OF_DAY = r"^(([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$"
#: A number of working days, in half days, 0–365 (the calendar's MAX_DAYS).
DAYS = r"^((36[0-4]|3[0-5][0-9]|[12][0-9][0-9]|[1-9]?[0-9])(\.[05]0*)?|365(\.0+)?)$"


def _messages() -> dict[str, Callable[[str], str]]:
    # Sentences are built when asked, in the request's language.
    return {
        LINE: lambda value: _("Control characters (such as NUL or line breaks) are not allowed here."),
        TEXT: lambda value: _("Control characters (such as NUL) are not allowed in the text."),
        REASON: lambda value: _("Give the reason."),
        PROCEDURE_CODE: lambda value: (
            _(
                "“%(value)s” is not a procedure code: use the national form D.NNNNNN, e.g. 1.001193, "
                "or the local form 1.001193.000.00.00.H62."
            )
            % {"value": value}
        ),
        AGENCY_CODE: lambda value: _("“%(value)s” is not an agency code of the form 000.00.24.H62.") % {"value": value},
        DOSSIER_CODE: lambda value: _("“%(value)s” is not a dossier code.") % {"value": value},
        CATALOGUE_CODE: lambda value: (
            _("“%(value)s” is not a code: use letters, digits, “_” and “-”.") % {"value": value}
        ),
        DAY: lambda value: _("“%(value)s” is not a date between 1900 and 2199: use YYYY-MM-DD.") % {"value": value},
        AWARE_MOMENT: lambda value: (
            _("“%(value)s” is not a date and time with its offset in 1901–2100, e.g. 2026-12-10T17:00:00+07:00.")
            % {"value": value}
        ),
        TIME_OF_DAY: lambda value: _("“%(value)s” is not a time of day; use the form 15:00.") % {"value": value},
    }


#: Extra sentences registered by routers for their own patterns (``register_message``).
_EXTRA: dict[str, Callable[[str], str]] = {}


def register_message(pattern: str, message: Callable[[str], str]) -> str:
    """Give ``pattern`` its readable sentence (built from the refused value); returns the pattern."""
    _EXTRA[pattern] = message
    return pattern


def pattern_message(pattern: str, value: object) -> str | None:
    """The readable sentence for ``value`` not matching ``pattern``, or None for an unknown pattern."""
    message = _EXTRA.get(pattern) or _messages().get(pattern)
    return message(str(value)) if message else None


# --- annotated types for Query/Path/Schema fields --------------------------------------------------


def text(max_length: int, pattern: str = LINE) -> type[str]:
    """A string of at most ``max_length`` characters matching ``pattern`` (one line by default)."""
    return Annotated[str, StringConstraints(max_length=max_length, pattern=pattern)]  # type: ignore[return-value]


def reason(max_length: int, blank: Callable[[], str]) -> type[str]:
    """A mandatory reason: one ``REASON`` pattern and ``max_length`` in the OpenAPI, checked here with the
    caller's own sentence for a blank one (``blank()``, e.g. "Give the reason for cancelling the receipt.")."""

    def check(value: str) -> str:
        if _CONTROL.search(value):
            raise ValueError(_("Control characters (such as NUL) are not allowed in the text."))
        if not value.strip():
            raise ValueError(blank())
        if len(value) > max_length:
            raise ValueError(_("At most %(max_length)s characters.") % {"max_length": max_length})
        return value

    schema = {"type": "string", "pattern": REASON, "maxLength": max_length}
    return Annotated[str, AfterValidator(check), WithJsonSchema(schema)]  # type: ignore[return-value]


def declared(schema: dict) -> object:
    """Declare ``schema`` in the OpenAPI for a value the services check themselves (with their own words)."""
    return WithJsonSchema(schema)


ProcedureCode = Annotated[str, StringConstraints(pattern=PROCEDURE_CODE)]
AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_CODE)]
DossierCode = Annotated[str, StringConstraints(pattern=DOSSIER_CODE)]
Day = Annotated[str, StringConstraints(pattern=DAY)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
