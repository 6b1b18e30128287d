"""The public verification page: upload a PDF, or follow the QR link ``/verify/<token>/`` of a
document the system issued, and see who signed it, when, whether it was changed afterwards and
whether the certificates chain to a root the province trusts.

Public and read-only: no login, nothing stored, nothing fetched from outside (revocation comes
from the CRLs already in the database). Uploads are limited in size (``MOTCUA_VERIFY_MAX_BYTES``).
The JSON variants answer the same data for the portal and partners.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from motcua.documents import conf, selectors, services
from motcua.documents.verification import VerificationReport, verify_pdf


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("PDF file to verify"),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = conf.verify_max_bytes()
        if upload.size > limit:
            raise forms.ValidationError(_("The file is larger than %(size)s.") % {"size": filesizeformat(limit)})
        return upload


def _verify(data: bytes) -> VerificationReport:
    return verify_pdf(data, trust_roots=selectors.trust_roots(), crls=selectors.revocation_lists())


@require_http_methods(["GET", "POST"])
def verify_upload(request: HttpRequest) -> HttpResponse:
    report = None
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = _verify(form.cleaned_data["file"].read())
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "documents/verify.html", {"form": form, "report": report}, status=status)


@require_GET
def verify_token(request: HttpRequest, token: str) -> HttpResponse:
    document = selectors.document_by_token(token)
    if document is None:
        return render(
            request,
            "documents/verify.html",
            {"form": UploadForm(), "not_found": True},
            status=404,
        )
    report = _verify(services.read_document(document))
    return render(request, "documents/verify.html", {"form": UploadForm(), "report": report, "document": document})


@csrf_exempt  # a public, read-only check: nothing changes, so there is nothing to forge
@require_POST
def verify_upload_json(request: HttpRequest) -> JsonResponse:
    if request.content_type == "application/pdf":
        data = request.body  # (bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are refused by Django first)
    else:
        upload = request.FILES.get("file")
        data = upload.read(conf.verify_max_bytes() + 1) if upload else b""
    if not data:
        return JsonResponse({"detail": _("Send a PDF file in the field “file”."), "errors": []}, status=400)
    if len(data) > conf.verify_max_bytes():
        return JsonResponse(
            {
                "detail": _("The file is larger than %(size)s.") % {"size": filesizeformat(conf.verify_max_bytes())},
                "errors": [],
            },
            status=413,
        )
    return JsonResponse(_verify(data).as_dict())


@require_GET
def verify_token_json(request: HttpRequest, token: str) -> JsonResponse:
    document = selectors.document_by_token(token)
    if document is None:
        return JsonResponse({"detail": _("No document has this verification code."), "errors": []}, status=404)
    payload = _verify(services.read_document(document)).as_dict()
    payload["document"] = {
        "title": document.title,
        "agency": document.agency.name,
        "issued_at": document.created_at.isoformat(),
    }
    return JsonResponse(payload)
