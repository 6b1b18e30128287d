"""``{% dossier_fees dossier user %}``: the fee panel of the staff dossier page (requests, attempts, receipts,
and the "request the fee" and "cancel" buttons for those who may)."""

from django import template

from motcua.integrations.payments import selectors

register = template.Library()


@register.inclusion_tag("payments/_dossier_fees.html", takes_context=True)
def dossier_fees(context, dossier, user) -> dict:
    return {**selectors.fee_panel(user, dossier), "dossier": dossier, "csrf_token": context.get("csrf_token")}
