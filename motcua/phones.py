"""Vietnamese phone numbers, without Django: one rule for the counter, the portal and form schemas."""

import re

# Mobile: 03x, 05x, 07x, 08x, 09x + 7 digits (10 digits); landline: 02 + area code + number (11 digits).
# re.ASCII: "\d" would also take Arabic-Indic and full-width digits.
MOBILE_RE = re.compile(r"^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}$", re.ASCII)
LANDLINE_RE = re.compile(r"^02\d{9}$", re.ASCII)
_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_phone(value: str) -> str:
    """``+84 912 345 678`` → ``0912345678`` (validity is checked separately)."""
    value = _SEPARATORS.sub("", value or "")
    if value.startswith("+84"):
        return "0" + value[3:]
    if value.startswith("0084"):
        return "0" + value[4:]
    return value


def is_vietnamese_phone(value: str) -> bool:
    return bool(MOBILE_RE.match(value) or LANDLINE_RE.match(value))
