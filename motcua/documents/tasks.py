"""Rendering and signing as background tasks (django.tasks; the database backend by default).

Used when the result is not needed in the clerk's immediate response: forms issued in bulk,
results signed through a remote service (the signer approves on their phone, which may take
minutes). Arguments are primary keys and plain values, so they serialise into the task queue.
"""

from django.contrib.auth import get_user_model
from django.tasks import task

from motcua.documents import services
from motcua.documents.models import IssuedDocument, SigningCertificate
from motcua.dossiers.models import Dossier


@task()
def issue_form(form_key: str, dossier_id: int, actor_id: int, pdf_a: bool = False) -> int:
    """Render and keep ``form_key`` for the dossier; returns the IssuedDocument id."""
    actor = get_user_model().objects.get(pk=actor_id)
    dossier = Dossier.objects.select_related("procedure_version__procedure", "receiving_agency__unit").get(
        pk=dossier_id
    )
    return services.issue_form(form_key, dossier, actor=actor, pdf_a=pdf_a).pk


@task()
def sign_document(
    document_id: int, actor_id: int, certificate_id: int | None = None, reason: str = "", visible: bool = True
) -> int:
    """Sign the document with the actor's certificate; returns the DocumentSignature id."""
    actor = get_user_model().objects.get(pk=actor_id)
    document = IssuedDocument.objects.select_related("agency__unit").get(pk=document_id)
    certificate = SigningCertificate.objects.get(pk=certificate_id) if certificate_id else None
    outcome = services.sign_document(document, actor=actor, certificate=certificate, reason=reason, visible=visible)
    return outcome.signature.pk
