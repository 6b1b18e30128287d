"""Exports: form II.06a as XLSX (openpyxl) and as PDF (WeasyPrint via the documents app), the late
dossiers and the time per step as XLSX.

The official form is a Vietnamese document, so its own words are Vietnamese here (as the
documents app does for its forms), whatever the language of the page that asked for it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from motcua.reports.periods import Period
from motcua.reports.selectors import LateDossier, ReportRow, Scope, StepLine
from motcua.spreadsheets import save_workbook

FORM_NUMBER = "Biểu số II.06a/VPCP/KSTT"
FORM_TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
#: The two header rows of the table (domain.md §7), columns 1–16; 14–16 are kept outside the form's own 13.
GROUPS = [
    (1, 1, "STT"),
    (2, 2, "Đơn vị"),
    (3, 6, "Số hồ sơ nhận giải quyết"),
    (7, 10, "Số hồ sơ đã giải quyết"),
    (11, 13, "Số hồ sơ đang giải quyết"),
    (14, 16, "Hồ sơ không tính vào kết quả"),
]
SUBHEADINGS = {
    3: "Tổng số",
    4: "Trong kỳ: trực tuyến",
    5: "Trong kỳ: trực tiếp, dịch vụ bưu chính",
    6: "Từ kỳ trước chuyển qua",
    7: "Tổng số",
    8: "Trước hạn",
    9: "Đúng hạn",
    10: "Quá hạn",
    11: "Tổng số",
    12: "Trong hạn",
    13: "Quá hạn",
    14: "Rút hồ sơ",
    15: "Dừng giải quyết",
    16: "Từ chối tiếp nhận",
}
DATA_COLUMNS = list(range(3, 17))
PERIOD_WORDS = {"month": "Tháng", "quarter": "Quý", "half": "6 tháng", "nine": "9 tháng", "year": "Năm"}

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
Progress = Callable[[int, int], None]


def period_text(period: Period) -> str:
    if period.kind == "month":
        head = f"Tháng {period.number}/{period.year}"
    elif period.kind == "quarter":
        head = f"Quý {period.number}/{period.year}"
    else:
        head = f"{PERIOD_WORDS[period.kind]} năm {period.year}"
    return f"{head} (từ ngày {period.start:%d/%m/%Y} đến ngày {period.last_day:%d/%m/%Y})"


def _place_date(today: date) -> str:
    return f"ngày {today:%d} tháng {today:%m} năm {today:%Y}"


def _save(workbook: Workbook) -> bytes:
    # Unit names, step names and apology reasons are typed by people: never let one run as a formula.
    return save_workbook(workbook)


def ii06a_workbook(scope: Scope, period: Period, rows: list[ReportRow], receiving_unit: str = "") -> bytes:
    """The form as a sheet: header, the two heading rows with merged groups, the (1)…(16)
    numbering row, one row per agency, line and group sub-totals, the total, the signature block."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "II.06a"
    last = get_column_letter(16)
    sheet["A1"] = scope.unit.name.upper()
    sheet.merge_cells("A1:E1")
    sheet["J1"] = NATION
    sheet.merge_cells(f"J1:{last}1")
    sheet["J2"] = MOTTO
    sheet.merge_cells(f"J2:{last}2")
    sheet["A2"] = FORM_NUMBER
    sheet.merge_cells("A2:E2")
    sheet["A4"] = FORM_TITLE
    sheet.merge_cells(f"A4:{last}4")
    sheet["A5"] = f"Kỳ báo cáo: {period_text(period)}"
    sheet.merge_cells(f"A5:{last}5")
    sheet["A6"] = f"Đơn vị báo cáo: {scope.unit.name}" + (f" – {scope.agency.name}" if scope.agency else "")
    sheet.merge_cells("A6:H6")
    sheet["I6"] = f"Đơn vị nhận báo cáo: {receiving_unit or 'Ủy ban nhân dân ' + scope.unit.name}"
    sheet.merge_cells(f"I6:{last}6")
    for cell in ("A1", "J1", "J2", "A4"):
        sheet[cell].font = Font(bold=True)
        sheet[cell].alignment = CENTRE
    sheet["A5"].alignment = CENTRE
    header, sub, numbers = 8, 9, 10
    for first, stop, text in GROUPS:
        cell = sheet.cell(row=header, column=first, value=text)
        if first == stop:
            sheet.merge_cells(start_row=header, start_column=first, end_row=sub, end_column=stop)
        else:
            sheet.merge_cells(start_row=header, start_column=first, end_row=header, end_column=stop)
        cell.font = Font(bold=True)
    for number, text in SUBHEADINGS.items():
        sheet.cell(row=sub, column=number, value=text).font = Font(bold=True)
    for number in range(1, 17):
        sheet.cell(row=numbers, column=number, value=f"({number})")
    for row in range(header, numbers + 1):
        for column in range(1, 17):
            sheet.cell(row=row, column=column).alignment = CENTRE
            sheet.cell(row=row, column=column).border = BOX
    current = numbers + 1
    for report_row in rows:
        bold = report_row.kind in ("group", "group_total", "grand_total", "line_total")
        label = ("    " * report_row.depth) + report_row.label
        if report_row.note:
            label += f" ({report_row.note})"
        sheet.cell(row=current, column=1, value=report_row.number)
        sheet.cell(row=current, column=2, value=label)
        if report_row.figures is not None:
            for number in DATA_COLUMNS:
                sheet.cell(row=current, column=number, value=report_row.figures.column(number))
        for column in range(1, 17):
            cell = sheet.cell(row=current, column=column)
            cell.border = BOX
            cell.font = Font(bold=bold)
            if column != 2:
                cell.alignment = Alignment(horizontal="center")
        current += 1
    current += 1
    sheet.cell(row=current, column=11, value=f"{scope.unit.name}, {_place_date(timezone.localdate())}")
    sheet.merge_cells(start_row=current, start_column=11, end_row=current, end_column=16)
    sheet.cell(row=current + 1, column=2, value="NGƯỜI LẬP BIỂU").font = Font(bold=True)
    sheet.cell(row=current + 1, column=11, value="THỦ TRƯỞNG ĐƠN VỊ").font = Font(bold=True)
    sheet.merge_cells(start_row=current + 1, start_column=11, end_row=current + 1, end_column=16)
    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 48
    for number in DATA_COLUMNS:
        sheet.column_dimensions[get_column_letter(number)].width = 11
    sheet.row_dimensions[sub].height = 60
    sheet.freeze_panes = sheet.cell(row=numbers + 1, column=3)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    return _save(workbook)


def ii06a_html(scope: Scope, period: Period, rows: list[ReportRow]) -> str:
    return render_to_string(
        "reports/ii06a_print.html",
        {
            "scope": scope,
            "period_text": period_text(period),
            "rows": rows,
            "groups": GROUPS,
            "subheadings": SUBHEADINGS,
            "data_columns": DATA_COLUMNS,
            "numbers": range(1, 17),
            "form_number": FORM_NUMBER,
            "form_title": FORM_TITLE,
            "nation": NATION,
            "motto": MOTTO,
            "place_date": f"{scope.unit.name}, {_place_date(timezone.localdate())}",
        },
    )


def ii06a_pdf(scope: Scope, period: Period, rows: list[ReportRow]) -> bytes:
    """A4 landscape PDF/A-3b with the shipped fonts (the documents app's renderer)."""
    from motcua.documents.rendering import html_to_pdf

    return html_to_pdf(ii06a_html(scope, period, rows), pdf_a=True)


LATE_HEADINGS = [
    "STT",
    "Mã hồ sơ",
    "Thủ tục",
    "Cơ quan giải quyết",
    "Tình trạng",
    "Hạn giải quyết",
    "Hoàn thành / tính đến",
    "Số ngày làm việc quá hạn",
    "Cơ quan, bước đang giữ khi quá hạn",
    "Văn bản xin lỗi (Mẫu 04)",
    "Lý do xin lỗi",
    "Hẹn trả kết quả mới",
]
STATE_WORDS = {"resolved_late": "Đã giải quyết quá hạn", "overdue": "Đang giải quyết, quá hạn"}


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


def late_workbook(period: Period, lines: list[LateDossier], progress: Progress | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Quá hạn"
    sheet.append([f"HỒ SƠ QUÁ HẠN – {period_text(period)}"])
    sheet.append(LATE_HEADINGS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for index, line in enumerate(lines, start=1):
        holder = line.agency_name + (f" – {line.step_name}" if line.step_name else "")
        apology = _local(line.apology.created_at) if line.apology else ""
        sheet.append(
            [
                index,
                line.dossier.code,
                line.dossier.procedure_version.name,
                line.dossier.competent_agency.name,
                STATE_WORDS[line.state],
                _local(line.due_at),
                _local(line.until),
                float(line.days_over),
                holder,
                apology,
                line.apology_reason,
                _local(line.new_due_at),
            ]
        )
        if progress is not None:
            progress(index, len(lines))
    for column, width in zip("ABCDEFGHIJKL", (6, 28, 40, 36, 24, 18, 18, 12, 40, 20, 50, 18), strict=True):
        sheet.column_dimensions[column].width = width
    return _save(workbook)


STEP_HEADINGS = [
    "Cơ quan",
    "Mã cơ quan",
    "Bước",
    "Số lượt hoàn thành",
    "Số buổi đã dùng (bình quân)",
    "Số buổi được giao (bình quân)",
    "Trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Tỷ lệ quá hạn (%)",
]


def steps_workbook(period: Period, lines: list[StepLine]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Theo bước"
    sheet.append([f"THỜI GIAN XỬ LÝ THEO BƯỚC – {period_text(period)}"])
    sheet.append(STEP_HEADINGS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for line in lines:
        sheet.append(
            [
                line.agency_name,
                line.agency_code,
                line.step_name,
                line.finished,
                float(line.average_used) if line.average_used is not None else None,
                float(line.average_budget) if line.average_budget is not None else None,
                line.early,
                line.on_time,
                line.late,
                float(line.late_share) if line.late_share is not None else None,
            ]
        )
    return _save(workbook)
