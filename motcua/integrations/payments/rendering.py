"""The e-receipt as PDF through the documents renderer (WeasyPrint, sandboxed templates, repo fonts).

The documents sandbox only loads its own allowlisted templates by name, so this app's template is
compiled by the same sandbox engine from its text; it extends ``documents/base_official.html``.
"""

from functools import cache
from pathlib import Path

from django.template import Template
from django.utils import timezone

from motcua.documents import sandbox
from motcua.documents.rendering import render_html, render_pdf
from motcua.integrations.payments.models import Receipt

TEMPLATE = Path(__file__).parent / "templates" / "payments" / "receipt.html"


@cache
def _template() -> Template:
    return sandbox.engine().from_string(TEMPLATE.read_text(encoding="utf-8"))


def receipt_context(receipt: Receipt) -> dict:
    """Plain data only (the sandbox refuses objects)."""
    dossier = receipt.fee_request.dossier
    agency = dossier.competent_agency
    return {
        "receipt": {
            "form_symbol": receipt.form_symbol,
            "series": receipt.series,
            "number": receipt.display_number,
            "unit_name": receipt.unit_name,
            "tax_code": receipt.tax_code,
            "payer_name": receipt.payer_name,
            "payer_address": receipt.payer_address,
            "lines": [{"name": str(x["name"]), "amount": str(x["amount"])} for x in receipt.lines],
            "total": str(receipt.total),
            "method": receipt.method,
            "issued": timezone.localtime(receipt.issued_at).strftime("%d/%m/%Y %H:%M"),
            "cancelled": receipt.status == Receipt.Status.CANCELLED,
            "cancel_reason": receipt.cancel_reason,
        },
        "dossier": {"code": dossier.code or ""},
        "document": {"title": "BIÊN LAI THU PHÍ, LỆ PHÍ"},
        "issuer": {"name": receipt.unit_name, "parent_name": str(agency.name)},
        "place": "",
        "issued_at": timezone.localtime(receipt.issued_at).date(),
    }


def receipt_html(receipt: Receipt) -> str:
    return render_html(_template(), receipt_context(receipt))


def receipt_pdf(receipt: Receipt) -> bytes:
    return render_pdf(_template(), receipt_context(receipt))
