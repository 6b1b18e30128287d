"""A restricted Django template engine for the forms, and the checks an override must pass.

Administrators of a province or an agency write their own form templates in the desk. Those
templates run in this engine, never in the project's own one:

- only a short list of tags and filters exists (no ``load``, ``include``, ``debug``, ``url``,
  ``csrf_token``, ``safe``, ``autoescape``, ``lorem``…); an unknown tag is a syntax error, and
  what the applicant typed is always escaped;
- ``extends`` reaches only the base layout and the default forms (an allowlist loader): no file
  of the machine can be read;
- the context is built from plain values (dicts, lists, strings, numbers, dates), never model
  instances, so no attribute chain reaches settings, the database or the request; Django already
  refuses lookups that start with an underscore, and the save-time check also refuses any
  top-level name that is not part of the documented context;
- links to outside resources (``src=``, ``href=``, ``url(``, ``@import``) are refused, and the
  renderer fetches nothing but the shipped fonts anyway.

Errors carry the line number so the desk can say where the problem is.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.template import (
    Context,
    Engine,
    Library,
    Origin,
    Template,
    TemplateDoesNotExist,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
    loader_tags,
)
from django.template.base import FilterExpression, Lexer, Node, TokenType, Variable
from django.template.loaders.base import Loader as BaseLoader
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from motcua.documents import registry

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MAX_BODY_CHARS = 200_000

ALLOWED_TAGS = frozenset(
    {
        "block",
        "comment",
        "cycle",
        "extends",
        "filter",
        "firstof",
        "for",
        "if",
        "ifchanged",
        "now",
        "regroup",
        "resetcycle",
        "spaceless",
        "templatetag",
        "verbatim",
        "widthratio",
        "with",
    }
)
#: Closing and intermediate words of the allowed tags.
_TAG_PARTS = frozenset(
    {
        "else",
        "elif",
        "empty",
        "endblock",
        "endcomment",
        "endfilter",
        "endfor",
        "endif",
        "endifchanged",
        "endspaceless",
        "endverbatim",
        "endwith",
    }
)
ALLOWED_FILTERS = frozenset(
    {
        "add",
        "capfirst",
        "cut",
        "date",
        "default",
        "default_if_none",
        "dictsort",
        "dictsortreversed",
        "divisibleby",
        "escape",
        "first",
        "floatformat",
        "force_escape",
        "join",
        "last",
        "length",
        "linebreaks",
        "linebreaksbr",
        "lower",
        "pluralize",
        "slice",
        "striptags",
        "time",
        "title",
        "truncatechars",
        "truncatewords",
        "upper",
        "wordcount",
        "wordwrap",
        "yesno",
    }
)

register = Library()
for _name in ALLOWED_TAGS:
    register.tags[_name] = defaulttags.register.tags.get(_name) or loader_tags.register.tags[_name]
for _name in ALLOWED_FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]


def _local(value: Any) -> Any:
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@register.filter
def vn_date(value: Any) -> str:
    """'ngày 30 tháng 11 năm 2026', the way dates are written in official documents."""
    value = _local(value)
    if not isinstance(value, date):
        return ""
    # Decree 30/2020: a zero before days below 10 and before months 1 and 2.
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


@register.filter
def vn_datetime(value: Any) -> str:
    """'09 giờ 00 phút, ngày 30/11/2026' (forms 01 and 06 give the hour and minute)."""
    value = _local(value)
    if not isinstance(value, datetime):
        return ""
    return f"{value.hour:02d} giờ {value.minute:02d} phút, ngày {value:%d/%m/%Y}"


@register.filter
def vn_money(value: Any) -> str:
    """'1.250.000' (Vietnamese thousands separator)."""
    try:
        amount = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        return ""
    return f"{amount:,.0f}".replace(",", ".")


class AllowlistLoader(BaseLoader):
    """Finds only the templates of ``registry.sandbox_templates()``, from this app's folder."""

    def get_template_sources(self, template_name: str):
        if template_name in registry.sandbox_templates():
            yield Origin(name=str(TEMPLATES_DIR / template_name), template_name=template_name, loader=self)

    def get_contents(self, origin: Origin) -> str:
        try:
            return Path(origin.name).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise TemplateDoesNotExist(origin) from exc


class SandboxEngine(Engine):
    default_builtins = []  # only the library above, nothing of Django's defaults


@functools.cache
def engine(debug: bool = False) -> SandboxEngine:
    """The sandbox engine; ``debug`` keeps line numbers (used to check overrides)."""
    return SandboxEngine(
        debug=debug,
        loaders=[("django.template.loaders.cached.Loader", ["motcua.documents.sandbox.AllowlistLoader"])],
        builtins=["motcua.documents.sandbox"],
        libraries={},
        string_if_invalid="",
        autoescape=True,
    )


# --- the context -------------------------------------------------------------------------------

_SCALARS = (str, int, float, Decimal, bool, date, time, type(None))


def ensure_plain(value: Any, path: str = "context") -> None:
    """Refuse anything but plain data, so a template can reach nothing else through attributes."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings, not {type(key).__name__}")
            ensure_plain(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            ensure_plain(item, f"{path}[{index}]")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not plain data")


def render(template: Template, context: dict[str, Any]) -> str:
    ensure_plain(context)
    return template.render(Context(context, autoescape=True))


def qr_markup(svg: str) -> SafeString:
    """The inline SVG of a QR code is the one piece of markup the context may carry."""
    return SafeString(svg)


# --- checking an override ------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateProblem:
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


class TemplateRejected(ValueError):
    def __init__(self, problems: list[TemplateProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


#: Attributes and CSS that load a resource, with the address they name.
_RESOURCE = re.compile(
    r"""\b(?:src|href|xlink:href|srcset|data|background|poster)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*))"""
    r"""|url\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\)|(@import)""",
    re.I,
)
#: What a template may still name: anchors in the page, data: URIs and the shipped fonts.
_ALLOWED_RESOURCE = re.compile(r"^(?:#.*|data:.*|fonts/[A-Za-z0-9_-]+\.(?:ttf|otf))$", re.S | re.I)


def _scan_tokens(body: str) -> list[TemplateProblem]:
    problems: list[TemplateProblem] = []
    for token in Lexer(body).tokenize():
        if token.token_type == TokenType.BLOCK:
            command = token.contents.split()[0] if token.contents.split() else ""
            if command and command not in ALLOWED_TAGS and command not in _TAG_PARTS:
                problems.append(
                    TemplateProblem(
                        token.lineno, _("the tag “%(tag)s” is not allowed in a form template.") % {"tag": command}
                    )
                )
            if command == "extends":
                parts = token.split_contents()
                target = parts[1].strip("\"'") if len(parts) > 1 else ""
                if target not in registry.sandbox_templates():
                    problems.append(
                        TemplateProblem(
                            token.lineno,
                            _("a form template may only extend “%(base)s” or a default form.")
                            % {"base": registry.BASE_TEMPLATE},
                        )
                    )
        elif token.token_type == TokenType.TEXT:
            for match in _RESOURCE.finditer(token.contents):
                target = next((g for g in match.groups() if g is not None), "").strip()
                if match.group(7) is None and _ALLOWED_RESOURCE.match(target):
                    continue
                problems.append(
                    TemplateProblem(
                        token.lineno + token.contents.count("\n", 0, match.start()),
                        _("links to outside files or addresses are not allowed (“%(text)s”).")
                        % {"text": match.group(0).strip()},
                    )
                )
    return problems


def _expressions(value: Any, depth: int = 0):
    """Every FilterExpression and Variable inside a node's attributes (if-conditions included)."""
    if depth > 8:
        return
    if isinstance(value, FilterExpression):
        yield value.var if isinstance(value.var, Variable) else None
        for _func, args in value.filters:
            for is_lookup, arg in args:
                if is_lookup and isinstance(arg, Variable):
                    yield arg
        return
    if isinstance(value, Variable):
        yield value
        return
    if isinstance(value, Node | Template | Origin | str | bytes) or value is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            yield from _expressions(item, depth + 1)
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from _expressions(item, depth + 1)
        return
    # The `if` tag's parsed condition objects (TemplateLiteral, operators) keep their operands
    # in plain attributes.
    if type(value).__module__ == "django.template.smartif" or type(value).__name__ == "TemplateLiteral":
        for item in vars(value).values():
            yield from _expressions(item, depth + 1)


def _defined_names(nodes: list[Node]) -> set[str]:
    names = {"forloop", "block"}
    for node in nodes:
        for attribute in ("loopvars",):
            names.update(getattr(node, attribute, ()) or ())
        extra = getattr(node, "extra_context", None)
        if isinstance(extra, dict):
            names.update(extra)
        for attribute in ("var_name", "variable_name", "asvar"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                names.add(value)
    return names


def _unknown_names(template: Template, allowed: set[str]) -> list[TemplateProblem]:
    nodes = template.nodelist.get_nodes_by_type(Node)
    defined = allowed | _defined_names(nodes)
    problems = []
    seen: set[tuple[int | None, str]] = set()
    for node in nodes:
        line = getattr(getattr(node, "token", None), "lineno", None)
        for variable in _expressions(vars(node)):
            if variable is None or variable.lookups is None:
                continue  # a literal
            name = variable.lookups[0]
            if name not in defined and (line, name) not in seen:
                seen.add((line, name))
                problems.append(
                    TemplateProblem(
                        line, _("“%(name)s” is not part of the data a form template receives.") % {"name": name}
                    )
                )
    return problems


def _syntax_problem(exc: Exception) -> TemplateProblem:
    info = getattr(exc, "template_debug", None) or {}
    message = str(exc)
    if "may not begin with underscores" in message:
        message = _("names that begin with an underscore cannot be used.")
    return TemplateProblem(info.get("line"), message)


def compile_override(body: str) -> Template:
    """Compile an override in the sandbox (debug engine, for line numbers); TemplateRejected if bad."""
    if len(body) > MAX_BODY_CHARS:
        raise TemplateRejected([TemplateProblem(None, _("The template is longer than 200 000 characters."))])
    problems = _scan_tokens(body)
    if problems:
        raise TemplateRejected(problems)
    try:
        return engine(debug=True).from_string(body)
    except TemplateSyntaxError as exc:
        raise TemplateRejected([_syntax_problem(exc)]) from exc


def check_override(body: str, sample_context: dict[str, Any]) -> Template:
    """Everything the desk checks before it saves an override: syntax, tags, names, and a trial
    render with the sample dossier (which also resolves ``extends``)."""
    template = compile_override(body)
    problems = _unknown_names(template, set(sample_context))
    if problems:
        raise TemplateRejected(problems)
    try:
        render(template, sample_context)
    except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
        raise TemplateRejected([_syntax_problem(exc)]) from exc
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise TemplateRejected([_syntax_problem(exc)]) from exc
    return template
