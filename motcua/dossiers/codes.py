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
#: A code travels in URLs (/dossiers/<code>/, /api/v1/dossiers/{code}) and file names: only these.
URL_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")
MAX_LENGTH = 50  # Dossier.code's column
_SAMPLE_AGENCY = "000.00.24.H62"
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
    code = fmt.format(agency=agency, date=day, number=number)
    if not URL_SAFE.match(code):
        # Refused before anything is saved: a code no URL can carry makes its dossier unreachable.
        raise ValueError(f"The dossier code {code!r} has characters other than A-Z, a-z, 0-9, '.', '_' and '-'.")
    return code


def format_problems(fmt: object) -> list[str]:
    """Why ``fmt`` cannot be the dossier code format (empty when it can), for the start-up check.

    It must name {agency}, {date} and {number} once each, be readable back by the parser, and give
    codes of URL-safe characters ([A-Za-z0-9._-]) that fit the code column (50).
    """
    if not isinstance(fmt, str) or not fmt:
        return [f"The dossier code format must be a non-empty string, not {fmt!r}."]
    try:
        _pattern(fmt)
        samples = [fmt.format(agency=_SAMPLE_AGENCY, date=date(2026, 12, 31), number=n) for n in (1, 99999)]
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as error:
        return [str(error) or f"The dossier code format {fmt!r} cannot be rendered."]
    problems = []
    for sample in samples:
        if not URL_SAFE.match(sample):
            problems.append(
                f"The dossier code format {fmt!r} gives codes such as {sample!r}: a code may only have the "
                "characters A-Z, a-z, 0-9, '.', '_' and '-', because it is part of web addresses."
            )
            break
    longest = max(samples, key=len)
    if len(longest) > MAX_LENGTH:
        problems.append(f"The dossier code format {fmt!r} gives codes longer than {MAX_LENGTH} characters.")
    if not problems:
        for n, sample in zip((1, 99999), samples, strict=True):
            try:
                parsed = parse_code(sample, fmt)
            except ValueError as error:
                problems.append(str(error))
                break
            if parsed.number != n or parsed.agency != _SAMPLE_AGENCY:
                problems.append(f"Codes of the format {fmt!r} cannot be read back unambiguously.")
                break
    return problems


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
