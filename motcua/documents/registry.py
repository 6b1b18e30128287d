"""The official forms the one-stop office issues, and where their default templates live.

Numbering follows Circular 03/2025 annex I (shared/reference/domain.md §2.1). Each form has a
default template in ``templates/documents/forms/<key>.html`` that extends
``documents/base_official.html``; a province or agency may override it in the desk.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

BASE_TEMPLATE = "documents/base_official.html"


class FormKey(TextChoices):
    RECEIPT = "receipt", _("Form 01 – receipt and appointment slip")
    SUPPLEMENT = "supplement", _("Form 02 – request to supplement or complete the dossier")
    REFUSAL = "refusal", _("Form 03 – refusal slip")
    APOLOGY = "apology", _("Form 04 – apology letter with a new appointment")
    STOP = "stop", _("Form 05 – notice of stopping the processing")
    CONTROL_SHEET = "control_sheet", _("Form 06 – process control sheet")
    TRACKING_BOOK = "tracking_book", _("Form 07 – dossier tracking book")


#: The official title printed on each form (Vietnamese is the language of the document itself).
TITLES = {
    FormKey.RECEIPT: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    FormKey.SUPPLEMENT: "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    FormKey.REFUSAL: "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
    FormKey.APOLOGY: "VĂN BẢN XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
    FormKey.STOP: "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
    FormKey.CONTROL_SHEET: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
    FormKey.TRACKING_BOOK: "SỔ THEO DÕI HỒ SƠ",
}

NUMBERS = {
    FormKey.RECEIPT: "Mẫu số 01",
    FormKey.SUPPLEMENT: "Mẫu số 02",
    FormKey.REFUSAL: "Mẫu số 03",
    FormKey.APOLOGY: "Mẫu số 04",
    FormKey.STOP: "Mẫu số 05",
    FormKey.CONTROL_SHEET: "Mẫu số 06",
    FormKey.TRACKING_BOOK: "Mẫu số 07",
}


def default_template(form_key: str) -> str:
    return f"documents/forms/{FormKey(form_key).value}.html"


def sandbox_templates() -> list[str]:
    """Every template a sandboxed override may extend: the base and the default forms."""
    return [BASE_TEMPLATE, *(default_template(key) for key in FormKey)]
