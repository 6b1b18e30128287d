"""Procedure codes of the national TTHC database (CSDLQG về TTHC), without Django.

National code ``D.NNNNNN`` (``1.001193``: a leading digit, a dot, six digits). A province
publishes its own variant by joining the national code to the province's level-1 agency group:
``1.001193.000.00.00.H62``. Online-service codes add a further suffix (``….H55.02``) that is
not a procedure code and is refused here. See shared/reference/domain.md §3.2.
"""

import re

PROCEDURE_CODE_RE = re.compile(r"^[1-9]\.\d{6}$")
PROVINCE_CODE_RE = re.compile(r"^[A-Z]\d{2}$")
LOCAL_CODE_RE = re.compile(r"^(?P<code>[1-9]\.\d{6})\.000\.00\.00\.(?P<province>[A-Z]\d{2})$")
#: The agency groups between the national code and the province group in a local code.
LOCAL_INFIX = "000.00.00"


def clean_code(value: str) -> str:
    """The code as people type it, without surrounding blanks (codes carry no letters to fold)."""
    return (value or "").strip()


def is_procedure_code(value: str) -> bool:
    """True for a national procedure code such as ``1.001193``."""
    return bool(PROCEDURE_CODE_RE.match(value or ""))


def is_local_code(value: str) -> bool:
    """True for a province's local form such as ``1.001193.000.00.00.H62``."""
    return bool(LOCAL_CODE_RE.match(value or ""))


def local_code(code: str, province: str) -> str:
    """``1.001234`` and ``H62`` → ``1.001234.000.00.00.H62``.

    ``province`` may also be a whole agency code (``000.00.24.H62``): its last group is used.
    Raises ValueError for a malformed national code or province group.
    """
    province = province.strip().upper().rsplit(".", 1)[-1]
    if not is_procedure_code(code):
        raise ValueError(f"“{code}” is not a procedure code of the form 1.001193.")
    if not PROVINCE_CODE_RE.match(province):
        raise ValueError(f"“{province}” is not a province group of the form H62.")
    return f"{code}.{LOCAL_INFIX}.{province}"


def parse_local_code(value: str) -> tuple[str, str]:
    """``1.001234.000.00.00.H62`` → ``("1.001234", "H62")``; ValueError when it is not a local code."""
    match = LOCAL_CODE_RE.match(clean_code(value))
    if match is None:
        raise ValueError(f"“{value}” is not a local procedure code of the form 1.001193.000.00.00.H62.")
    return match["code"], match["province"]


def national_code(value: str) -> str | None:
    """The national code in ``value`` whether it is national or local; None when it is neither."""
    value = clean_code(value)
    if is_procedure_code(value):
        return value
    match = LOCAL_CODE_RE.match(value)
    return match["code"] if match else None
