"""Catalogue files: how procedures are written to and read from JSON, CSV and XLSX.

This module only converts between files and plain records; saving records is
``services.import_catalogue``'s job. One record is one procedure with its current version:

=================  ==================================================================
key / column       value
=================  ==================================================================
code *             national code ``1.001193`` (the local form ``1.001193.000.00.00.H62`` is accepted)
name *             name of the procedure
field_code *       code of the field of activity (lĩnh vực)
field_name         its name; needed only to create a field the catalogue does not know yet
levels             administrative level codes (``province``, ``district``, ``commune``…)
agencies           agency identification codes (``000.00.24.H62``…)
legal_basis        legal basis, free text
time_kind *        ``immediate`` | ``same_day`` | ``working_days`` (the Vietnamese labels work too)
resolution_days *  working days in steps of 0.5 (``0`` for immediate; ``0,5`` is read as 0.5)
same_day_cutoff    ``HH:MM``, default 15:00
result_type        what the applicant receives
online_level *     ``full`` | ``partial`` | ``none`` (or Toàn trình / Một phần / Không)
description        free text
requirements       conditions, free text
components         documents: name, originals, copies, requirement (mandatory|conditional), condition_note
fees               fees and charges: name, kind (fee|charge), amount (VND), exemption_note
form_fields        form schema: name, label, type, required, choices, help_text
=================  ==================================================================

(* = required column.) Formats:

- **JSON**: a list of records (an object ``{"procedures": [...]}`` is read too). ``levels`` and
  ``agencies`` are lists of codes, ``components``/``fees``/``form_fields`` lists of objects with
  the keys above; ``choices`` a list of strings. The export adds ``version`` (its number), which
  the import ignores. Row numbers in the import report count the list items from 1.
- **CSV**: UTF-8 (a BOM is written so Excel shows Vietnamese letters), comma or semicolon
  separated, one row per procedure with the columns above; ``levels`` and ``agencies`` are codes
  separated by ``;``; ``components``, ``fees`` and ``form_fields`` hold the JSON lists. Row numbers
  are the spreadsheet's: the header is row 1.
- **XLSX**: sheet ``procedures`` (or the first sheet) holds the main columns as in CSV. The
  documents, fees and form fields are easier to edit as rows of their own sheets
  ``components``, ``fees`` and ``form_fields``, whose first column ``code`` names the procedure
  and whose other columns are the keys above (``choices`` one per line in the cell, ``required``
  TRUE/FALSE). The export writes them that way. On import a child sheet, when present, gives the
  rows of every procedure (none listed = none); without it the JSON column of the main sheet is
  read, as in CSV.
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from motcua import spreadsheets
from motcua.catalog.models import ProcedureVersion

MAIN_COLUMNS = [
    "code",
    "name",
    "field_code",
    "field_name",
    "levels",
    "agencies",
    "legal_basis",
    "time_kind",
    "resolution_days",
    "same_day_cutoff",
    "result_type",
    "online_level",
    "description",
    "requirements",
]
REQUIRED_COLUMNS = ["code", "name", "field_code", "time_kind", "resolution_days", "online_level"]
CHILD_COLUMNS = {
    "components": ["name", "originals", "copies", "requirement", "condition_note"],
    "fees": ["name", "kind", "amount", "exemption_note"],
    "form_fields": ["name", "label", "type", "required", "choices", "help_text"],
}
FORMATS = ("json", "xlsx", "csv")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAIN_SHEET = "procedures"


class CatalogueFileError(ValidationError):
    """The file as a whole cannot be read; nothing is imported from it."""


@dataclass
class SourceRow:
    """One procedure as read from a file, before any checking; ``data`` is whatever the file held."""

    number: int
    data: Any


# --- export ------------------------------------------------------------------------------------


def _days(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def version_to_record(version: ProcedureVersion, *, with_number: bool = True) -> dict:
    """The record of one version, in the key order of the module docstring.

    Expects the prefetches of ``selectors.versions_with_content``; also used to compare an
    imported row with the current version, so it must be a pure function of the content.
    """
    record: dict[str, Any] = {"code": version.procedure.code}
    if with_number:
        record["version"] = version.number
    record.update(
        name=version.name,
        field_code=version.field.code if version.field_id else "",
        field_name=version.field.name if version.field_id else "",
        levels=sorted(level.code for level in version.levels.all()),
        agencies=sorted(agency.code for agency in version.agencies.all()),
        legal_basis=version.legal_basis,
        time_kind=version.time_kind,
        resolution_days=_days(version.resolution_days),
        same_day_cutoff=version.same_day_cutoff.strftime("%H:%M") if version.same_day_cutoff else "",
        result_type=version.result_type,
        online_level=version.online_level,
        description=version.description,
        requirements=version.requirements,
        components=[
            {
                "name": c.name,
                "originals": c.originals,
                "copies": c.copies,
                "requirement": c.requirement,
                "condition_note": c.condition_note,
            }
            for c in version.components.all()
        ],
        fees=[
            {"name": f.name, "kind": f.kind, "amount": int(f.amount), "exemption_note": f.exemption_note}
            for f in version.fees.all()
        ],
        form_fields=[
            {
                "name": f.name,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "choices": f.choice_list,
                "help_text": f.help_text,
            }
            for f in version.form_fields.all()
        ],
    )
    return record


def _cell(record: dict, column: str) -> Any:
    value = record.get(column, "")
    if column in ("levels", "agencies"):
        return "; ".join(value)
    if column in CHILD_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    return value


def dump(records: list[dict], fmt: str) -> bytes:
    """The file of ``records`` in ``fmt`` (json, csv or xlsx)."""
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2).encode()
    if fmt == "csv":
        out = io.StringIO()
        columns = MAIN_COLUMNS + list(CHILD_COLUMNS)
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow(spreadsheets.csv_row(_cell(record, column) for column in columns))
        return ("\ufeff" + out.getvalue()).encode()
    if fmt == "xlsx":
        return _dump_xlsx(records)
    raise ValueError(f"unknown catalogue format {fmt!r}")


def _dump_xlsx(records: list[dict]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()

    def sheet(title: str, columns: list[str], rows: list[list]) -> None:
        ws = workbook.active if title == MAIN_SHEET else workbook.create_sheet(title)
        ws.title = title
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and "\n" in cell.value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
        for index, column in enumerate(columns, 1):
            width = 60 if column in ("name", "legal_basis", "description", "requirements", "label") else 18
            ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = width

    sheet(MAIN_SHEET, MAIN_COLUMNS, [[_cell(r, c) for c in MAIN_COLUMNS] for r in records])
    for kind, columns in CHILD_COLUMNS.items():
        rows = []
        for record in records:
            for child in record.get(kind, []):
                values = [record["code"]]
                for column in columns:
                    value = child.get(column, "")
                    values.append("\n".join(value) if isinstance(value, list) else value)
                rows.append(values)
        sheet(kind, ["code", *columns], rows)
    return spreadsheets.save_workbook(workbook)


# --- import ------------------------------------------------------------------------------------


def detect_format(filename: str | None = None, fmt: str | None = None) -> str:
    """``fmt`` when given, else the file name's extension; CatalogueFileError when neither says."""
    if fmt:
        fmt = fmt.lower().lstrip(".")
    elif filename and "." in filename:
        fmt = filename.rsplit(".", 1)[-1].lower()
    if fmt not in FORMATS:
        raise CatalogueFileError(_("Unsupported file type: upload an .xlsx, .csv or .json file."))
    return fmt


def load(data: bytes, fmt: str) -> list[SourceRow]:
    """The rows of a catalogue file; CatalogueFileError when the file cannot be read as a whole."""
    if not data or not data.strip():
        raise CatalogueFileError(_("The file is empty."))
    if fmt == "json":
        rows = _load_json(data)
    elif fmt == "csv":
        rows = _load_csv(data)
    elif fmt == "xlsx":
        rows = _load_xlsx(data)
    else:
        raise CatalogueFileError(_("Unsupported file type: upload an .xlsx, .csv or .json file."))
    if not rows:
        raise CatalogueFileError(_("The file contains no procedures."))
    return rows


def limits() -> dict[str, int]:
    """What an import file may hold (settings ``MOTCUA_IMPORT_*``, see the README)."""
    return {
        "bytes": int(getattr(settings, "MOTCUA_IMPORT_MAX_BYTES", 10 * 1024 * 1024)),
        "unpacked": int(getattr(settings, "MOTCUA_IMPORT_MAX_UNPACKED_BYTES", 50 * 1024 * 1024)),
        "ratio": int(getattr(settings, "MOTCUA_IMPORT_MAX_RATIO", 100)),
        "rows": int(getattr(settings, "MOTCUA_IMPORT_MAX_ROWS", 10_000)),
        "columns": int(getattr(settings, "MOTCUA_IMPORT_MAX_COLUMNS", 60)),
    }


def _too_many_rows(limit: int) -> CatalogueFileError:
    return CatalogueFileError(
        _("The file has more than %(count)s rows; split it into smaller files.") % {"count": limit}
    )


#: A JSON catalogue is at most a list of records of lists of objects of lists: deeper is not ours.
MAX_JSON_DEPTH = 8


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iterative: a deep file must not recurse)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _load_json(data: bytes) -> list[SourceRow]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CatalogueFileError(_("The file is not UTF-8 text.")) from None
    except RecursionError:
        raise CatalogueFileError(_("The JSON file nests lists or objects too deeply to be a catalogue.")) from None
    except json.JSONDecodeError as exc:
        raise CatalogueFileError(
            _("The file is not valid JSON (line %(line)s, column %(column)s: %(error)s).")
            % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        ) from None
    if isinstance(document, dict) and isinstance(document.get("procedures"), list):
        document = document["procedures"]
    if not isinstance(document, list):
        raise CatalogueFileError(_("The JSON file must hold a list of procedures."))
    if _depth(document) > MAX_JSON_DEPTH:
        raise CatalogueFileError(_("The JSON file nests lists or objects too deeply to be a catalogue."))
    if len(document) > limits()["rows"]:
        raise _too_many_rows(limits()["rows"])
    return [SourceRow(number, item) for number, item in enumerate(document, 1)]


def _check_header(header: list[str]) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise CatalogueFileError(
            _("Required columns are missing: %(columns)s. The first row must name the columns.")
            % {"columns": ", ".join(missing)}
        )


def _blank(values) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _load_csv(data: bytes) -> list[SourceRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogueFileError(_("The file is not UTF-8 text: save the CSV file as “CSV UTF-8”.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise CatalogueFileError(_("The CSV file cannot be read: %(error)s.") % {"error": exc}) from None
    if not table:
        raise CatalogueFileError(_("The file is empty."))
    if len(table) > limits()["rows"] + 1:
        raise _too_many_rows(limits()["rows"])
    header = [column.strip() for column in table[0]]
    _check_header(header)
    rows = []
    for number, values in enumerate(table[1:], 2):
        if _blank(values):
            continue
        values = [spreadsheets.csv_unescape(value) for value in values]
        rows.append(SourceRow(number, dict(zip(header, values, strict=False))))
    return rows


#: Members an .xlsx may hold: a catalogue workbook has a dozen.
MAX_ARCHIVE_MEMBERS = 500


def check_archive(data: bytes) -> None:
    """Refuse a zip archive whose content would unpack to an absurd size, before anything parses it.

    The sizes are the archive's own declarations; Python's ``zipfile`` never unpacks a member
    beyond its declared size (it stops and fails the CRC), so a member cannot lie its way past them.
    """
    limit = limits()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise CatalogueFileError(_("The file is not an Excel workbook (.xlsx).")) from None
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise CatalogueFileError(_("The workbook holds too many parts to be a catalogue."))
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    # Small parts may compress well by chance; a ratio only means something from 1 MB unpacked.
    dense = [m for m in members if m.file_size > 1024 * 1024 and m.file_size / max(m.compress_size, 1) > limit["ratio"]]
    if unpacked > limit["unpacked"] or dense or (unpacked > 1024 * 1024 and unpacked / packed > limit["ratio"]):
        raise CatalogueFileError(
            _(
                "The workbook would unpack to %(size)s MB (compressed %(ratio)s times); at most %(limit)s MB "
                "and %(max_ratio)s times are accepted. Such a file is not a catalogue: nothing was imported."
            )
            % {
                "size": f"{unpacked / 1024 / 1024:,.1f}",
                "ratio": f"{unpacked / packed:,.0f}",
                "limit": f"{limit['unpacked'] / 1024 / 1024:,.0f}",
                "max_ratio": limit["ratio"],
            }
        )


def _sheet_rows(sheet) -> list[list]:
    """The rows of ``sheet``, up to the configured number of rows and columns."""
    limit = limits()
    rows = []
    for row in sheet.iter_rows(values_only=True, max_col=limit["columns"]):
        if len(rows) > limit["rows"]:
            raise _too_many_rows(limit["rows"])
        rows.append(list(row))
    return rows


def _load_xlsx(data: bytes) -> list[SourceRow]:
    check_archive(data)
    try:
        return _read_xlsx(data)
    except CatalogueFileError:
        raise
    except Exception as exc:  # a damaged or hostile part (defusedxml refuses entities and DTDs)
        raise CatalogueFileError(_("The file is not an Excel workbook (.xlsx).")) from exc


def _read_xlsx(data: bytes) -> list[SourceRow]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises BadZipFile, KeyError, ValueError… on a damaged archive
        raise CatalogueFileError(_("The file is not an Excel workbook (.xlsx).")) from exc
    try:
        names = workbook.sheetnames
        main = workbook[MAIN_SHEET] if MAIN_SHEET in names else workbook.worksheets[0]
        table = _sheet_rows(main)
        if not table or _blank(table[0]):
            raise CatalogueFileError(_("The file is empty."))
        header = [str(value).strip() if value is not None else "" for value in table[0]]
        _check_header(header)
        children: dict[str, dict[str, list[dict]]] = {}
        for kind in CHILD_COLUMNS:
            if kind not in names or workbook[kind] is main:
                continue
            sheet_rows = _sheet_rows(workbook[kind])
            if not sheet_rows:
                children[kind] = {}
                continue
            child_header = [str(value).strip() if value is not None else "" for value in sheet_rows[0]]
            if "code" not in child_header:
                raise CatalogueFileError(
                    _("The sheet “%(sheet)s” needs a “code” column naming the procedure.") % {"sheet": kind}
                )
            grouped: dict[str, list[dict]] = {}
            for values in sheet_rows[1:]:
                if _blank(values):
                    continue
                item = dict(zip(child_header, values, strict=False))
                code = str(item.pop("code") or "").strip()
                item.pop("", None)
                grouped.setdefault(code, []).append(item)
            children[kind] = grouped
    finally:
        workbook.close()
    rows = []
    for number, values in enumerate(table[1:], 2):
        if _blank(values):
            continue
        item = dict(zip(header, values, strict=False))
        item.pop("", None)
        code = str(item.get("code") or "").strip()
        for kind, grouped in children.items():
            item[kind] = grouped.get(code, [])
        rows.append(SourceRow(number, item))
    return rows
