"""Message templates in the documents sandbox: plain values only, a short list of tags, line numbers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Template, TemplateSyntaxError
from django.utils.translation import gettext as _

from motcua.documents import sandbox

MAX_CHARS = 5000


def compile_text(text: str) -> Template:
    """Compile or raise ValidationError saying where the problem is."""
    if len(text) > MAX_CHARS:
        raise ValidationError(_("The template is too long (at most %(n)d characters).") % {"n": MAX_CHARS})
    try:
        return sandbox.engine(debug=True).from_string(text)
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        where = _(" (line %(line)s)") % {"line": line} if line else ""
        raise ValidationError(_("Template error%(where)s: %(error)s") % {"where": where, "error": exc}) from exc


def render_text(text: str, context: dict[str, Any]) -> str:
    """Messages are plain text (SMS, ZNS, text e-mail): no HTML escaping, values are only substituted."""
    sandbox.ensure_plain(context)
    return compile_text(text).render(Context(context, autoescape=False)).strip()
