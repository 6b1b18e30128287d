"""Vietnamese text helpers, free of Django so they can be tested and reused anywhere.

Invariant 7: text is NFC-normalised on input (a phone keyboard may send decomposed
letters, and "Hòa" must equal "Hòa"), and search ignores diacritics and case, because
clerks and citizens type "nguyen van an" for "Nguyễn Văn An".
"""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ is a letter of its own in Unicode, not d plus a mark, so NFD does not strip it.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d"})


def normalize(value: str) -> str:
    """NFC form with surrounding and repeated white space removed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def fold(value: str) -> str:
    """Lower-case ASCII key for diacritic-insensitive search: 'Đăng ký khai sinh' → 'dang ky khai sinh'."""
    decomposed = unicodedata.normalize("NFD", value.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip().casefold()


# --- checking input -------------------------------------------------------------------------------
# One rule for every way in (counter, portal, API, national inbound, query strings): text is NFC,
# has no control characters (NUL breaks PostgreSQL, ESC/BEL have no business in a name) and no lone
# surrogates (they cannot be encoded at all); numbers are ASCII digits ("²" and "٣" are str.isdigit()).

CONTROL = "control"
SURROGATE = "surrogate"
TOO_LONG = "too_long"
TOO_DEEP = "too_deep"
TOO_MANY = "too_many"

# C0 and C1 controls and DEL; tab, line feed and carriage return are white space, allowed.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)


class BadText(ValueError):
    """Input refused: ``reason`` is one of CONTROL, SURROGATE, TOO_LONG, TOO_DEEP, TOO_MANY; ``limit`` the bound."""

    def __init__(self, reason: str, limit: int | None = None, path: str = "") -> None:
        super().__init__(reason if limit is None else f"{reason} ({limit})")
        self.reason = reason
        self.limit = limit
        self.path = path


def text_problem(value: str) -> str | None:
    """SURROGATE or CONTROL when ``value`` has such a character, else None."""
    if _SURROGATES.search(value):
        return SURROGATE
    if _CONTROLS.search(value):
        return CONTROL
    return None


def clean(value: object, *, max_length: int | None = None, multiline: bool = False) -> str:
    """Checked text: NFC, white space collapsed (``multiline`` keeps the lines), at most ``max_length``.

    Raises BadText rather than cutting or dropping anything silently.
    """
    text = "" if value is None else str(value)
    problem = text_problem(text)
    if problem:
        raise BadText(problem)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip() if multiline else normalize(text)
    if max_length is not None and len(text) > max_length:
        raise BadText(TOO_LONG, max_length)
    return text


def ascii_int(value: object, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    """The integer written in ASCII digits (an optional sign, at most 18 digits) within the bounds, else None.

    ``int()`` takes other scripts' digits ("٣" → 3) and ``str.isdigit()`` says yes to "²", on which
    ``int()`` then fails: neither is a check.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not _ASCII_INT.fullmatch(text):
            return None
        number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return None
    return number


def is_ascii_digits(value: str, length: int | None = None) -> bool:
    """True for a non-empty run of 0-9 only (of exactly ``length`` when given)."""
    return bool(value) and value.isascii() and value.isdigit() and (length is None or len(value) == length)


def check_tree(
    value: object, *, max_depth: int = 20, max_string: int = 20_000, max_items: int = 5_000, check_text: bool = True
) -> None:
    """Check every string (keys too) of JSON-like data without recursion: BadText with ``path`` on the first
    problem (a control character, a lone surrogate, a string longer than ``max_string``, nesting deeper than
    ``max_depth``, more than ``max_items`` values in all). ``check_text=False`` checks the shape only."""
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    seen = 0
    while stack:
        item, path, depth = stack.pop()
        seen += 1
        if seen > max_items:
            raise BadText(TOO_MANY, max_items, path)
        if isinstance(item, str):
            problem = text_problem(item) if check_text else None
            if problem:
                raise BadText(problem, path=path)
            if len(item) > max_string:
                raise BadText(TOO_LONG, max_string, path)
            continue
        if isinstance(item, dict):
            children = list(item.items())
        elif isinstance(item, list | tuple):
            children = list(enumerate(item))
        else:
            continue
        if depth >= max_depth:
            raise BadText(TOO_DEEP, max_depth, path)
        for key, child in children:
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and check_text:
                problem = text_problem(key)
                if problem:
                    raise BadText(problem, path=path)
            stack.append((child, name, depth + 1))


def scrub(value: object) -> object:
    """A copy of JSON-like data whose strings have control characters and lone surrogates replaced by U+FFFD:
    what a log can store of a refused input. Call it on data ``check_tree(check_text=False)`` accepted (its
    depth is bounded)."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", _CONTROLS.sub("\ufffd", value))
    if isinstance(value, dict):
        return {scrub(str(key)): scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value
