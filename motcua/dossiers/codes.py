"""Dossier codes (mã hồ sơ), without Django.

The shape seen in real data (shared/reference/domain.md §3.1) is
``<receiving agency code>-<YYMMDD of receipt>-<NNNN>``, e.g. ``000.00.24.H62-261130-0001``: the
running number restarts every local day for every receiving agency and simply grows a digit past
9999. The format is a setting (``MOTCUA_DOSSIER_CODE_FORMAT``) because Circular 03/2025 may have
changed it; the parser reads whatever format is configured, so codes stay machine-readable.
"""

import re
import string
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

DEFAULT_FORMAT = "{agency}-{date:%y%m%d}-{number:04d}"
_DATE_DIRECTIVES = {"y": r"\d{2}", "Y": r"\d{4}", "m": r"\d{2}", "d": r"\d{2}"}
_NUMBER_SPEC = re.compile(r"^0?(?P<width>\d*)d?$")


@dataclass(frozen=True)
class DossierCode:
    """The three pieces of data a code joins."""

    agency: str
    day: date
    number: int


def format_code(agency: str, day: date, number: int, fmt: str = DEFAULT_FORMAT) -> str:
    """``("000.00.24.H62", 2026-11-30, 1)`` → ``000.00.24.H62-261130-0001``."""
    if number < 1:
        raise ValueError("The running number starts at 1.")
    _pattern(fmt)  # refuse a format the parser could not read back
    return fmt.format(agency=agency, date=day, number=number)


@lru_cache(maxsize=16)
def _pattern(fmt: str) -> tuple[re.Pattern[str], str]:
    """(regex, strptime format of the date) for a code format; ValueError for an unusable format."""
    parts: list[str] = []
    seen: set[str] = set()
    date_format = ""
    for literal, field, spec, conversion in string.Formatter().parse(fmt):
        parts.append(re.escape(literal))
        if field is None:
            continue
        if conversion or field in seen or field not in {"agency", "date", "number"}:
            raise ValueError(f"Unusable field {{{field}}} in the dossier code format {fmt!r}.")
        seen.add(field)
        if field == "agency":
            parts.append(r"(?P<agency>[0-9A-Za-z.]+?)")
        elif field == "date":
            date_format = spec or "%Y-%m-%d"
            parts.append(f"(?P<date>{_date_regex(date_format, fmt)})")
        else:
            match = _NUMBER_SPEC.match(spec or "")
            if match is None:
                raise ValueError(f"Unusable number format {spec!r} in {fmt!r}.")
            width = int(match["width"] or 1)
            parts.append(rf"(?P<number>\d{{{width},}})")
    if seen != {"agency", "date", "number"}:
        raise ValueError(f"The dossier code format {fmt!r} must contain {{agency}}, {{date}} and {{number}}.")
    return re.compile("^" + "".join(parts) + "$"), date_format


def _date_regex(spec: str, fmt: str) -> str:
    out, i = [], 0
    while i < len(spec):
        if spec[i] == "%":
            directive = spec[i + 1 : i + 2]
            if directive not in _DATE_DIRECTIVES:
                raise ValueError(f"Unusable date directive %{directive} in {fmt!r}; use %y, %Y, %m and %d.")
            out.append(_DATE_DIRECTIVES[directive])
            i += 2
        else:
            out.append(re.escape(spec[i]))
            i += 1
    return "".join(out)


def parse_code(value: str, fmt: str = DEFAULT_FORMAT) -> DossierCode:
    """The agency, day and number of a code; ValueError when ``value`` is not a code of ``fmt``."""
    pattern, date_format = _pattern(fmt)
    match = pattern.match((value or "").strip())
    if match is None:
        raise ValueError(
            f"“{value}” is not a dossier code of the form {format_code('000.00.24.H62', date(2026, 11, 30), 1, fmt)}."
        )
    try:
        day = datetime.strptime(match["date"], date_format).date()
    except ValueError:
        raise ValueError(f"“{value}” contains an impossible date.") from None
    return DossierCode(agency=match["agency"], day=day, number=int(match["number"]))


def is_dossier_code(value: str, fmt: str = DEFAULT_FORMAT) -> bool:
    try:
        parse_code(value, fmt)
    except ValueError:
        return False
    return True
