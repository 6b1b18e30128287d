"""Cell values that a spreadsheet shows as text and never runs as a formula (OWASP "CSV injection").

Every XLSX and CSV the system writes goes through here. Names, reasons and other text typed by
applicants or staff may start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their
full-width forms, which some Excel input methods turn into formulas too):

- in an XLSX workbook such a text is written as a string cell (``data_type "s"``) with Excel's
  "quote prefix" style, the apostrophe Excel itself adds when a user types ``'=…``: it shows the
  text unchanged, and editing the cell keeps it text; ``save_workbook`` applies this to every
  cell of the workbook, so no writer can forget a cell;
- in a CSV file, which has no types, the text is prefixed with an apostrophe (``csv_value``);
  ``csv_unescape`` takes it off again when one of our own files is imported back.

Numbers, dates and booleans are left as they are, so they stay typed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could take ``text`` for a formula."""
    return bool(text) and text[0] in FORMULA_TRIGGERS


def csv_value(value: Any) -> Any:
    """``value`` for a CSV cell: a formula-like text gets a leading apostrophe, other values unchanged.

    A text that already starts with apostrophes before a trigger gets one more, so ``csv_unescape``
    gives back exactly what was written.
    """
    if isinstance(value, str) and (is_formula_like(value) or _ESCAPED.match(value)):
        return "'" + value
    return value


def csv_unescape(value: Any) -> Any:
    """The inverse of ``csv_value`` (for importing our own CSV exports)."""
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_value(value) for value in values]


def make_text_cell(cell) -> None:
    """Make an openpyxl cell holding a text a plain string cell, never a formula."""
    if isinstance(cell.value, str):
        # openpyxl turns any text starting with "=" into a formula cell; "s" writes it as text.
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True


def neutralise_formulas(workbook) -> None:
    """Every text cell of every sheet of ``workbook`` becomes a string cell (see the module docstring)."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                make_text_cell(cell)


def save_workbook(workbook) -> bytes:
    """The .xlsx bytes of ``workbook``, with no text cell that a spreadsheet would run as a formula."""
    neutralise_formulas(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
