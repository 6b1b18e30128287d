"""Our dossiers in the national portal's words, and back: pure functions, no Django.

Everything here follows shared/reference/integrations.md §1: the dossier object of
``DongBoHoSoMC`` (§1.3), the progress object of ``CapNhatTienDoHoSoMC`` (§1.4), the ten status
codes (§1.5) and the date format ``yyyyMMddHHmmss`` in Vietnam time. None of it is confirmed by a
published specification, so every name that varies between provinces is data: the status table
and field-name overrides come from the desk's configuration, these are only the defaults.

Problems with inbound data are returned as ``Problem`` tuples (field, code, params) rather
than sentences, so the service layer can translate them.
"""

import random
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from motcua.text import is_ascii_digits

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: ``yyyyMMddHHmmss`` (§1.3), always in Vietnam time.
DATE_FORMAT = "%Y%m%d%H%M%S"

# --- status codes (§1.5) ---------------------------------------------------------------------

#: The ten codes found in public one-stop code, with their meaning (none officially confirmed).
NATIONAL_STATUS_MEANINGS: dict[str, str] = {
    "1": "Mới đăng ký",
    "2": "Được tiếp nhận",
    "3": "Không được tiếp nhận",
    "4": "Đang xử lý",
    "5": "Yêu cầu bổ sung giấy tờ",
    "6": "Yêu cầu thực hiện nghĩa vụ tài chính",
    "7": "Công dân yêu cầu rút hồ sơ",
    "8": "Dừng xử lý",
    "9": "Đã xử lý xong",
    "10": "Đã trả kết quả",
}

#: Our lifecycle status (motcua.dossiers.lifecycle.Status values) → national code. A draft is
#: never sent. ``returned_for_completion`` has no exact national twin: an online dossier sent
#: back to be completed is closest to "5, supplement requested"; a province may change it.
DEFAULT_STATUS_CODES: dict[str, str] = {
    "submitted_online": "1",
    "received": "2",
    "refused": "3",
    "in_process": "4",
    "waiting_for_supplement": "5",
    "returned_for_completion": "5",
    "waiting_for_payment": "6",
    "withdrawn": "7",
    "stopped": "8",
    "result_ready": "9",
    "returned": "10",
}

#: Statuses whose default code is a judgement of ours rather than a one-to-one match (all codes
#: are unconfirmed anyway, these doubly so).
JUDGED_STATUSES = frozenset({"returned_for_completion"})


def status_code(status: str, table: Mapping[str, str]) -> str | None:
    """The national code of ``status`` from ``table`` (falling back to the defaults); None: not sent."""
    code = table[status] if status in table else DEFAULT_STATUS_CODES.get(status)
    if code is None:
        return None
    return str(code).strip() or None


def is_valid_national_status(code: str) -> bool:
    return str(code) in NATIONAL_STATUS_MEANINGS


# --- dates -----------------------------------------------------------------------------------


def format_moment(value: datetime | None) -> str:
    """``yyyyMMddHHmmss`` in Vietnam time; an empty date is an empty string (§1.3)."""
    if value is None:
        return ""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("A moment sent to the national portal must be timezone-aware.")
    return value.astimezone(VN_TZ).strftime(DATE_FORMAT)


def parse_moment(value: Any) -> datetime | None:
    """The aware moment of a ``yyyyMMddHHmmss`` text in Vietnam time; None for empty; ValueError otherwise."""
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) != 14 or not text.isdigit():
        raise ValueError(value)
    return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=VN_TZ)


# --- outbound objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentInfo:
    """A submitted paper (``TaiLieuNop`` item)."""

    id: int
    name: str
    component_code: str = ""
    url: str = ""


@dataclass(frozen=True)
class FeeInfo:
    """A fee line (``DanhSachLePhi`` item); ``kind`` is ``fee`` (phí) or ``charge`` (lệ phí)."""

    name: str
    amount: Decimal
    kind: str = "charge"
    code: str = ""


@dataclass(frozen=True)
class DossierSnapshot:
    """What the portal is told about a dossier, in plain values (built by the services)."""

    code: str
    procedure_code: str
    procedure_name: str
    field_code: str
    field_name: str
    receipt_number: str
    applicant_name: str
    applicant_kind: str  # "person" | "organisation"
    applicant_id: str
    email: str
    phone: str
    summary: str
    received_at: datetime | None
    due_at: datetime | None
    returned_at: datetime | None
    finished_at: datetime | None
    processing_agency: str
    note: str = ""
    by_post: bool = False
    documents: tuple[DocumentInfo, ...] = ()
    fees: tuple[FeeInfo, ...] = ()


@dataclass(frozen=True)
class ProgressSnapshot:
    """One step of processing (a dossier event) for ``CapNhatTienDoHoSoMC``."""

    code: str
    officer: str
    title: str
    at: datetime
    department: str
    content: str
    started_at: datetime | None
    due_at: datetime | None


#: The fee kinds as the portal's ``LoaiPhiLePhi`` (UNCONFIRMED: OpenCPS sends a small integer).
FEE_KINDS = {"fee": "1", "charge": "2"}


def _amount(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else str(value)


def dossier_item(snapshot: DossierSnapshot, status: str) -> dict[str, Any]:
    """The ``DongBoHoSoMC`` ``data[]`` object for ``snapshot`` with national status ``status``."""
    return {
        "MaHoSo": snapshot.code,
        "MaTTHC": snapshot.procedure_code,
        "TenTTHC": snapshot.procedure_name,
        "MaLinhVuc": snapshot.field_code,
        "TenLinhVuc": snapshot.field_name,
        "SoBienNhan": snapshot.receipt_number,
        "ChuHoSo": snapshot.applicant_name,
        "LoaiDoiTuong": "2" if snapshot.applicant_kind == "organisation" else "1",
        "MaDoiTuong": snapshot.applicant_id,
        "ThongTinKhac": "",
        "Email": snapshot.email,
        "Fax": "",
        "SoDienThoai": snapshot.phone,
        "TrichYeuHoSo": snapshot.summary,
        "NgayTiepNhan": format_moment(snapshot.received_at),
        "NgayHenTra": format_moment(snapshot.due_at),
        "TrangThaiHoSo": status,
        "NgayTra": format_moment(snapshot.returned_at),
        "ThongTinTra": "",
        "HinhThuc": "1" if snapshot.by_post else "0",
        "NgayKetThucXuLy": format_moment(snapshot.finished_at),
        "DonViXuLy": snapshot.processing_agency,
        "GhiChu": snapshot.note,
        "TaiLieuNop": [
            {
                "TepDinhKemId": str(doc.id),
                "TenTepDinhKem": doc.name,
                "IsDeleted": False,
                "MaThanhPhanHoSo": doc.component_code,
                "DuongDanTaiTepTin": doc.url,
            }
            for doc in snapshot.documents
        ],
        "DanhSachLePhi": [
            {
                "TenPhiLePhi": fee.name,
                "MaPhiLePhi": fee.code,
                "HinhThucThu": "",
                "Gia": _amount(fee.amount),
                "LoaiPhiLePhi": FEE_KINDS.get(fee.kind, ""),
            }
            for fee in snapshot.fees
        ],
    }


def progress_item(progress: ProgressSnapshot, status: str) -> dict[str, Any]:
    """The ``CapNhatTienDoHoSoMC`` ``data[]`` object for one processing step."""
    return {
        "MaHoSo": progress.code,
        "NguoiXuLy": progress.officer,
        "ChucDanh": progress.title,
        "ThoiDiemXuLy": format_moment(progress.at),
        "PhongBanXuLy": progress.department,
        "NoiDungXuLy": progress.content,
        "TrangThai": status,
        "NgayBatDau": format_moment(progress.started_at),
        "NgayKetThucTheoQuyDinh": format_moment(progress.due_at),
    }


def rename(item: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """``item`` with top-level names replaced by a province's own (``{"MaHoSo": "SoHoSo"}``)."""
    return {overrides.get(name, name) or name: value for name, value in item.items()}


def with_key(item: dict[str, Any], key_field: str, key: str) -> dict[str, Any]:
    """Add the idempotency key under ``key_field`` (omitted when the province configures none)."""
    if key_field:
        item[key_field] = key
    return item


# --- replies ---------------------------------------------------------------------------------


def is_success(error_code: Any, success_codes: Iterable[str]) -> bool:
    """``error_code`` 0, "0" or "00" (§1.1 seen both as text and integer), or the province's own list."""
    if error_code is None or isinstance(error_code, bool):
        return False
    text = str(error_code).strip()
    accepted = {str(code).strip() for code in success_codes}
    if text in accepted:
        return True
    if not is_ascii_digits(text.lstrip("-")):
        return False
    number = int(text)
    return any(is_ascii_digits(code.lstrip("-")) and int(code) == number for code in accepted)


def reply_message(reply: Mapping[str, Any]) -> str:
    """The portal's own explanation in a reply, whatever the key it uses."""
    for key in ("message", "error_message", "msg", "error_description", "errorMessage", "ThongBao"):
        value = reply.get(key)
        if value:
            return str(value)
    return ""


# --- retries ---------------------------------------------------------------------------------


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with ±20 % jitter: ``base``·2^(attempt−1), at most ``cap``."""
    attempt = max(1, attempt)
    delay = min(cap, base * (2 ** min(attempt - 1, 30)))
    jitter = (rng or random).uniform(0.8, 1.2)
    return max(0.0, min(cap, delay * jitter))


# --- inbound dossiers ------------------------------------------------------------------------

#: A problem with inbound data: (field, code, params); the services turn codes into sentences.
Problem = tuple[str, str, dict[str, Any]]

#: Where an inbound dossier's values are read from (§1.3 names; the agency field is UNCONFIRMED).
INBOUND_FIELDS: dict[str, str] = {
    "national_code": "MaHoSo",
    "procedure_code": "MaTTHC",
    "applicant_name": "ChuHoSo",
    "applicant_kind": "LoaiDoiTuong",
    "applicant_id": "MaDoiTuong",
    "email": "Email",
    "phone": "SoDienThoai",
    "address": "DiaChi",
    "summary": "TrichYeuHoSo",
    "submitted_at": "NgayNopHoSo",
    "received_at": "NgayTiepNhan",
    "agency_code": "MaDonViTiepNhan",
    "documents": "TaiLieuNop",
    "form_data": "DuLieuBieuMau",
}
MAX_NATIONAL_CODE = 60


@dataclass
class InboundDossier:
    """A dossier submitted on the national portal, in our terms (values NFC-normalised)."""

    national_code: str
    procedure_code: str
    applicant: dict[str, Any]
    summary: str
    submitted_at: datetime | None
    agency_code: str
    documents: list[dict[str, str]] = field(default_factory=list)
    form_data: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _nfc(item) for key, item in value.items()}
    return value


def parse_inbound(payload: Any, names: Mapping[str, str] | None = None) -> tuple[InboundDossier | None, list[Problem]]:
    """Read one national dossier; (dossier, []) or (None, problems). Nothing here knows our database."""
    names = {**INBOUND_FIELDS, **(names or {})}
    if not isinstance(payload, Mapping):
        return None, [("", "not_an_object", {})]
    problems: list[Problem] = []

    def get(key: str) -> Any:
        return payload.get(names[key])

    national_code = _text(get("national_code"))
    if not national_code:
        problems.append((names["national_code"], "required", {}))
    elif len(national_code) > MAX_NATIONAL_CODE:
        problems.append((names["national_code"], "too_long", {"max": MAX_NATIONAL_CODE}))
    procedure_code = _text(get("procedure_code"))
    if not procedure_code:
        problems.append((names["procedure_code"], "required", {}))
    kind_raw = _text(get("applicant_kind")) or "1"
    if kind_raw not in ("1", "2"):
        problems.append((names["applicant_kind"], "applicant_kind", {"value": kind_raw}))
    submitted_at = None
    for key in ("submitted_at", "received_at"):
        raw = get(key)
        if raw in (None, ""):
            continue
        try:
            submitted_at = parse_moment(raw)
        except ValueError:
            problems.append((names[key], "date", {"value": str(raw)}))
        break
    documents: list[dict[str, str]] = []
    raw_documents = get("documents")
    if raw_documents not in (None, ""):
        if not isinstance(raw_documents, list):
            problems.append((names["documents"], "list", {}))
        else:
            for index, doc in enumerate(raw_documents):
                if not isinstance(doc, Mapping):
                    problems.append((f"{names['documents']}.{index}", "not_an_object", {}))
                    continue
                name = _text(doc.get("TenTepDinhKem") or doc.get("TenGiayTo"))
                if not name:
                    problems.append((f"{names['documents']}.{index}.TenTepDinhKem", "required", {}))
                    continue
                documents.append({"name": name, "url": _text(doc.get("DuongDanTaiTepTin"))})
    form_data = get("form_data")
    if form_data in (None, ""):
        form_data = {}
    elif not isinstance(form_data, Mapping):
        problems.append((names["form_data"], "not_an_object", {}))
        form_data = {}
    if problems:
        return None, problems
    applicant = {
        "kind": "organisation" if kind_raw == "2" else "person",
        "full_name": _text(get("applicant_name")),
        "id_number": _text(get("applicant_id")),
        "phone": _text(get("phone")),
        "email": _text(get("email")),
        "address": _text(get("address")),
    }
    return (
        InboundDossier(
            national_code=national_code,
            procedure_code=procedure_code,
            applicant=applicant,
            summary=_text(get("summary")),
            submitted_at=submitted_at,
            agency_code=_text(get("agency_code")).upper(),
            documents=documents,
            form_data=_nfc(dict(form_data)),
        ),
        [],
    )


# --- the national procedure database ---------------------------------------------------------


@dataclass(frozen=True)
class NationalProcedure:
    """A procedure as the national database describes it (``LayThuTuc`` / ``LayDanhSachTTHC``)."""

    code: str
    name: str
    field_code: str = ""
    field_name: str = ""


def parse_procedure(record: Any) -> NationalProcedure | None:
    """One ``result[]`` entry: ``MATTHC``/``TENTTHC`` and the first ``LINHVUCTHUCHIEN``; None if unusable."""
    if not isinstance(record, Mapping):
        return None
    upper = {str(key).upper(): value for key, value in record.items()}
    code = _text(upper.get("MATTHC"))
    name = _text(upper.get("TENTTHC"))
    if not code or not name:
        return None
    fields = upper.get("LINHVUCTHUCHIEN") or []
    first = fields[0] if isinstance(fields, list) and fields and isinstance(fields[0], Mapping) else {}
    first = {str(key).upper(): value for key, value in first.items()}
    return NationalProcedure(code, name, _text(first.get("MALINHVUC")), _text(first.get("TENLINHVUC")))


@dataclass(frozen=True)
class ProcedureDiff:
    """A difference between the national database and our catalogue, for the administrator to accept."""

    code: str
    kind: str  # "new" | "changed"
    current: dict[str, str]
    proposed: dict[str, str]

    @property
    def changed_fields(self) -> list[str]:
        return [name for name in self.proposed if self.current.get(name, "") != self.proposed[name]]


COMPARED = ("name", "field_code", "field_name")


def diff_procedures(
    national: Iterable[NationalProcedure], ours: Mapping[str, Mapping[str, str]]
) -> list[ProcedureDiff]:
    """New and changed procedures, by code; ``ours`` maps a code to its current name and field.

    Names are compared after NFC normalisation and white-space folding, so a decomposed accent
    or a double space is not reported as a change. A field is changed when its name differs
    (our field codes are our own, the national ones are not reused).
    """
    diffs: list[ProcedureDiff] = []
    seen: set[str] = set()
    for proc in national:
        if proc.code in seen:
            continue
        seen.add(proc.code)
        proposed = {"name": proc.name, "field_code": proc.field_code, "field_name": proc.field_name}
        current = ours.get(proc.code)
        if current is None:
            diffs.append(ProcedureDiff(proc.code, "new", {}, proposed))
            continue
        current = {name: _text(current.get(name, "")) for name in COMPARED}
        changed = current["name"] != proc.name or (proc.field_name and current["field_name"] != proc.field_name)
        if changed:
            diffs.append(ProcedureDiff(proc.code, "changed", current, proposed))
    return sorted(diffs, key=lambda diff: diff.code)
