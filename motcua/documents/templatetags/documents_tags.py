"""``{% issued_documents dossier user %}``: the documents issued for a dossier (signed results, slips),
as a card of the staff dossier page, each with its signers, a permission-checked download link and
its public verification page. Only what ``documents_visible_to(user)`` returns is listed."""

from django import template
from django.urls import reverse

from motcua.documents import selectors

register = template.Library()


@register.inclusion_tag("documents/_issued_documents.html")
def issued_documents(dossier, user) -> dict:
    documents = selectors.dossier_documents(user, dossier) if dossier is not None and dossier.pk else []
    for document in documents:
        document.download_url = reverse("workflow:issued-document", args=[document.pk])
        document.verify_url = reverse("documents:verify-token", args=[document.token])
    return {"documents": documents}
