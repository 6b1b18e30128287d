"""The data a form template receives: plain dicts built from a dossier, never model instances.

Every form gets the same top-level names (``CONTEXT_KEYS``), filled or empty, so an override
can be checked against them at save time whatever form it is for. The sample context is a
made-up dossier used for previews and for the save-time trial render.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from motcua.documents import registry
from motcua.documents.rendering import qr_svg

_PLACE_PREFIXES = ("Thành phố ", "Thị trấn ", "Thị xã ", "Tỉnh ", "Huyện ", "Quận ", "Phường ", "Xã ")

#: The documented names of the form context (see README "Template overrides").
CONTEXT_KEYS = (
    "document",  # title, number (Mẫu số 01), key
    "issuer",  # the issuing body: name, parent_name, code, address, phone, email
    "place",  # place name for "Vĩnh Yên, ngày … tháng … năm …"
    "issued_at",  # the moment the form is issued
    "dossier",  # code, received_at, due_at, channel, status, sets, book_number, sequence_number, return_place
    "applicant",  # name, id_number, phone, email, address
    "procedure",  # code, name, time_limit, fees
    "documents",  # [{name, originals, copies, note}] handed in
    "form_fields",  # [{label, value}] of the procedure's own form
    "officer",  # {name, title}: who issues or signs the form
    "reason",  # refusal, supplement, delay or stop reason
    "items",  # [{name, originals, copies, note}] to supplement
    "original_due_at",  # apology: the appointment that was missed
    "new_due_at",  # apology: the new appointment
    "recipients",  # ["Như trên", "Lưu: VT"] (Nơi nhận)
    "steps",  # control sheet: [{agency, handed_over_at, handed_by, received_by, verdict, note}]
    "rows",  # tracking book: [{…}] one per dossier
    "tracking",  # {url, qr_svg}: the public tracking page
    "verification",  # {url, qr_svg}: the verification page of this very document
)


def site_url() -> str:
    return getattr(settings, "MOTCUA_SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def tracking_url(code: str) -> str:
    """The public tracking page of a dossier (the portal's address; a setting)."""
    pattern = getattr(settings, "MOTCUA_TRACKING_URL", "{site}/tracking/{code}")
    return pattern.format(site=site_url(), code=code)


def verification_url(token: str) -> str:
    return f"{site_url()}/verify/{token}/"


def place_name(unit_name: str) -> str:
    """'Thành phố Vĩnh Yên' → 'Vĩnh Yên' (Decree 30: the place is the unit's own name)."""
    for prefix in _PLACE_PREFIXES:
        if unit_name.startswith(prefix):
            return unit_name.removeprefix(prefix)
    return unit_name


def issuer(agency) -> dict[str, Any]:
    parent = agency.parent
    return {
        "name": agency.name,
        "parent_name": parent.name if parent else "",
        "code": agency.code,
        "address": agency.address,
        "phone": agency.phone,
        "email": agency.email,
    }


def _link(url: str) -> dict[str, str]:
    return {"url": url, "qr_svg": qr_svg(url) if url else ""}


def empty(form_key: str) -> dict[str, Any]:
    key = registry.FormKey(form_key)
    context: dict[str, Any] = dict.fromkeys(CONTEXT_KEYS, "")
    context.update(
        document={"key": key.value, "title": registry.TITLES[key], "number": registry.NUMBERS[key]},
        issuer={"name": "", "parent_name": "", "code": "", "address": "", "phone": "", "email": ""},
        dossier={},
        applicant={},
        procedure={},
        documents=[],
        form_fields=[],
        officer={"name": "", "title": ""},
        items=[],
        recipients=[],
        steps=[],
        rows=[],
        tracking={"url": "", "qr_svg": ""},
        verification={"url": "", "qr_svg": ""},
        original_due_at=None,
        new_due_at=None,
        issued_at=None,
    )
    return context


def _time_limit(version) -> str:
    kind = version.time_kind
    if kind == "immediate":
        return "Giải quyết ngay"
    if kind == "same_day":
        return "Trong ngày làm việc"
    days = Decimal(version.resolution_days).normalize()
    return f"{days:f} ngày làm việc".replace(".", ",")


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return "" if value is None else str(value)


def dossier_context(
    dossier,
    form_key: str,
    *,
    now: datetime | None = None,
    officer: Any = None,
    extra: dict[str, Any] | None = None,
    verification_token: str = "",
) -> dict[str, Any]:
    """The context of ``form_key`` for ``dossier``; ``extra`` sets the form's own keys (reason,
    items, new_due_at…), and must use the names of ``CONTEXT_KEYS``."""
    version = dossier.procedure_version
    agency = dossier.receiving_agency
    labels = {f.name: f.label for f in version.form_fields.all()}
    context = empty(form_key)
    context.update(
        issuer=issuer(agency),
        place=place_name(agency.unit.name),
        issued_at=now or timezone.now(),
        dossier={
            "code": dossier.code or "",
            "received_at": dossier.received_at,
            "valid_receipt_at": dossier.valid_receipt_at,
            "due_at": dossier.due_at,
            "channel": dossier.get_channel_display(),
            "status": dossier.get_status_display(),
            "sets": 1,
            "book_number": "",
            "sequence_number": "",
            "return_place": "Bộ phận Một cửa – " + agency.name,
            "competent_agency": dossier.competent_agency.name,
        },
        applicant={
            "name": dossier.applicant_name,
            "id_number": dossier.applicant_id_number,
            "phone": dossier.applicant_phone,
            "email": dossier.applicant_email,
            "address": dossier.applicant_address,
        },
        procedure={
            "code": version.procedure.code,
            "name": version.name,
            "time_limit": _time_limit(version),
            "fees": [{"name": fee.name, "amount": fee.amount} for fee in version.fees.all()],
        },
        documents=[
            {"name": d.name, "originals": d.originals_received, "copies": d.copies_received, "note": ""}
            for d in dossier.documents.all()
        ],
        form_fields=[
            {"label": labels.get(name, name), "value": _plain(value)} for name, value in dossier.form_data.items()
        ],
        officer={"name": getattr(officer, "full_name", "") or "", "title": ""},
        tracking=_link(tracking_url(dossier.code)) if dossier.code else {"url": "", "qr_svg": ""},
        verification=_link(verification_url(verification_token)) if verification_token else {"url": "", "qr_svg": ""},
    )
    for key, value in (extra or {}).items():
        if key not in CONTEXT_KEYS:
            raise KeyError(f"{key} is not a form context key")
        context[key] = value
    return context


def sample_context(form_key: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A made-up dossier with every field filled, for previews and the save-time check."""
    moment = timezone.localtime(now or timezone.now()).replace(second=0, microsecond=0)
    received = moment.replace(hour=9, minute=0)
    due = received + timedelta(days=3)
    context = empty(form_key)
    code = "000.21.31.H62-261130-0001"
    context.update(
        issuer={
            "name": "Ủy ban nhân dân phường Liên Bảo",
            "parent_name": "Ủy ban nhân dân thành phố Vĩnh Yên",
            "code": "000.21.31.H62",
            "address": "Phường Liên Bảo, thành phố Vĩnh Yên, tỉnh Vĩnh Phúc",
            "phone": "0211 3862 000",
            "email": "lienbao@vinhphuc.gov.vn",
        },
        place="Liên Bảo",
        issued_at=moment,
        dossier={
            "code": code,
            "received_at": received,
            "valid_receipt_at": received,
            "due_at": due,
            "channel": "Trực tiếp",
            "status": "Đã tiếp nhận",
            "sets": 1,
            "book_number": "01",
            "sequence_number": "125",
            "return_place": "Bộ phận Một cửa – Ủy ban nhân dân phường Liên Bảo",
            "competent_agency": "Ủy ban nhân dân phường Liên Bảo",
        },
        applicant={
            "name": "Nguyễn Thị Hồng Nhung",
            "id_number": "026190001234",
            "phone": "0912 345 678",
            "email": "nhung@example.vn",
            "address": "Số 12 đường Lý Thường Kiệt, phường Liên Bảo, thành phố Vĩnh Yên",
        },
        procedure={
            "code": "1.001193",
            "name": "Đăng ký khai sinh",
            "time_limit": "1 ngày làm việc",
            "fees": [{"name": "Lệ phí đăng ký khai sinh", "amount": Decimal(0)}],
        },
        documents=[
            {"name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0, "note": ""},
            {"name": "Giấy chứng sinh", "originals": 1, "copies": 0, "note": ""},
            {"name": "Văn bản ủy quyền (khi nộp thay)", "originals": 0, "copies": 1, "note": "Bản sao chứng thực"},
        ],
        form_fields=[{"label": "Họ tên trẻ", "value": "Trần Minh Khôi"}, {"label": "Ngày sinh", "value": "20/11/2026"}],
        officer={"name": "Lê Thị Thu Hà", "title": "Công chức Bộ phận Một cửa"},
        reason="Giấy chứng sinh là bản chụp không rõ chữ; đề nghị nộp bản chính.",
        items=[{"name": "Giấy chứng sinh (bản chính)", "originals": 1, "copies": 0, "note": ""}],
        original_due_at=due,
        new_due_at=due + timedelta(days=2),
        recipients=["Như trên", "Lưu: VT"],
        steps=[
            {
                "agency": "Bộ phận Một cửa phường Liên Bảo",
                "handed_over_at": received,
                "handed_by": "Lê Thị Thu Hà",
                "received_by": "Phạm Quang Huy",
                "verdict": "Đúng hạn",
                "note": "",
            }
        ],
        rows=[
            {
                "number": 1,
                "code": code,
                "procedure": "Đăng ký khai sinh",
                "sets": 1,
                "applicant": "Nguyễn Thị Hồng Nhung",
                "contact": "0912 345 678",
                "agency": "Ủy ban nhân dân phường Liên Bảo",
                "received_at": received,
                "due_at": due,
                "returned_at": None,
                "note": "",
            }
        ],
        tracking=_link(tracking_url(code)),
        verification=_link(verification_url("mau-xem-truoc")),
    )
    return context
