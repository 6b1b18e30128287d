"""Serving an uploaded file: always a download, under a safe name with the extension and the
Content-Type of the type its bytes are (re-detected here), never what the uploader said.

A PDF that is also HTML, uploaded as ``invoice.html``, comes back as ``invoice.pdf`` with
``application/pdf``: saved to disk it opens as a PDF. ``nosniff`` and a sandboxing CSP keep a browser
from rendering it in the page as anything else.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse

from motcua.dossiers import uploads


def uploaded_file_response(storage_name: str, display_name: str | None) -> FileResponse:
    """The stored file ``storage_name`` as an attachment; FileNotFoundError when it is missing."""
    handle = default_storage.open(storage_name, "rb")
    kind = uploads.sniff(handle.read(uploads.HEAD_BYTES))
    handle.seek(0)
    name = uploads.download_name(display_name or storage_name.rsplit("/", 1)[-1], kind)
    response = FileResponse(handle, content_type=kind.content_type if kind else "application/octet-stream")
    response["Content-Disposition"] = uploads.content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
