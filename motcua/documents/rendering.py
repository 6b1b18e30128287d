"""HTML templates to A4 PDF with WeasyPrint, using only the fonts shipped in ``fonts/``.

Every form is rendered by the sandbox engine (default templates and overrides alike), so a
template gets the same plain context whoever wrote it. WeasyPrint may fetch nothing but our
font files and ``data:`` URIs: an override cannot embed a file of the machine (``<img
src="file:///…">``, ``<link rel="attachment">``) or make the server call an address.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import segno
from django.template import Template

from motcua.documents import sandbox

logger = logging.getLogger(__name__)

APP_DIR = Path(__file__).resolve().parent
FONTS_DIR = APP_DIR / "fonts"
#: Relative URLs in the templates (``fonts/Tinos-Regular.ttf``) resolve against the app folder.
BASE_URL = APP_DIR.as_uri() + "/"
PDF_A_VARIANT = "pdf/a-3b"  # weasyprint 70: pdf/a-1b … pdf/a-4u; 3b allows attachments (e.g. XML data)


def allowed_resource(url: str) -> bool:
    """Only our font files and ``data:`` URIs may be fetched while rendering."""
    if url.startswith("data:"):
        return True
    if url.startswith("file:"):
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        return path.parent == FONTS_DIR and path.suffix.lower() in {".ttf", ".otf"}
    return False


def _new_fetcher():
    # WeasyPrint is imported on first use: it is heavy, and it logs while importing.
    from weasyprint.urls import URLFetcher

    class LocalFontsOnly(URLFetcher):
        def fetch(self, url: str, headers=None):
            if not allowed_resource(url):
                logger.warning("Refused to fetch %s while rendering a document", url)
                raise ValueError(f"Only the shipped fonts may be loaded, not {url}")
            return super().fetch(url, headers)

    return LocalFontsOnly(timeout=1, allowed_protocols={"file", "data"}, allow_redirects=False)


_local = threading.local()


def _per_thread():
    """A FontConfiguration and a URL fetcher per thread. The FontConfiguration is shared by all
    renders of the thread, so the @font-face files are loaded once (the first render pays);
    WeasyPrint's objects keep per-call state, so threads do not share them."""
    state = getattr(_local, "state", None)
    if state is None:
        from weasyprint.text.fonts import FontConfiguration

        state = _local.state = (FontConfiguration(), _new_fetcher())
    return state


def qr_svg(data: str, *, scale: int = 3) -> str:
    """An inline ``<svg>`` QR code (error correction M) for ``data``, e.g. the tracking URL."""
    return sandbox.qr_markup(segno.make(data, error="m").svg_inline(scale=scale, border=0))


def html_to_pdf(html: str, *, pdf_a: bool = False) -> bytes:
    """The finished HTML to PDF bytes; PDF/A-3b for documents that are archived."""
    from weasyprint import HTML

    font_config, fetcher = _per_thread()
    options: dict[str, Any] = {"font_config": font_config}
    if pdf_a:
        options["pdf_variant"] = PDF_A_VARIANT
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(**options)


def load_template(template: str | Template) -> Template:
    """A default template by name (from the sandbox allowlist), or an already compiled one."""
    if isinstance(template, Template):
        return template
    return sandbox.engine().get_template(template)


def render_html(template: str | Template, context: dict[str, Any]) -> str:
    """Fill in ``template``. An override that goes over the sandbox's limits with this data (it passed
    them with the sample dossier) gives way to the default form, so the document is still issued."""
    compiled = load_template(template)
    try:
        return sandbox.render(compiled, context)
    except sandbox.RenderLimitExceeded as exc:
        fallback = getattr(compiled, "fallback", None)
        if not fallback:
            raise
        logger.warning("A template override went over the render limits (%s); the default form was used", exc)
        return sandbox.render(load_template(fallback), context)


def render_pdf(template: str | Template, context: dict[str, Any], *, pdf_a: bool = False) -> bytes:
    """Render ``template`` (a default template name or a compiled override, see
    ``selectors.select_template``) with a plain ``context`` to PDF bytes."""
    return html_to_pdf(render_html(template, context), pdf_a=pdf_a)
