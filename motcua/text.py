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
