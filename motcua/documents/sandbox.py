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
- links to outside resources (``src=``, ``href=``, ``url(``, ``@import``) are refused, in the
  template's markup with comments and tags taken out (no ``sr{# #}c=``) and in the filled-in HTML,
  and the renderer fetches nothing but the shipped fonts anyway;
- the data is frozen (a template cannot call ``dossier.clear``), and every render has a bounded
  cost: time, loop iterations, output size and loop depth (``render_limits``).

Errors carry the line number so the desk can say where the problem is.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from time import monotonic
from typing import Any

from django.conf import settings
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

# --- bounded render cost ----------------------------------------------------------------------------
#
# A render in a thread with a timeout cannot be stopped (Python cannot kill a thread) and a process per
# render is heavy; instead every place where a template can repeat work checks one budget per render:
# each loop iteration (``for`` is the only loop), each ``{{ block.super }}`` and each filter's result
# (``add`` can double a text in every ``with``). Without those a render is linear in the template's
# 200 000 characters, so the budget bounds time, iterations and output together.


class RenderLimitExceeded(ValueError):
    """A render went over the time, loop or output limit (``render_limits``)."""


def render_limits() -> dict[str, float]:
    """Settings ``MOTCUA_TEMPLATE_*`` (README, "Form templates")."""
    return {
        "seconds": float(getattr(settings, "MOTCUA_TEMPLATE_RENDER_SECONDS", 5)),
        "iterations": int(getattr(settings, "MOTCUA_TEMPLATE_MAX_ITERATIONS", 100_000)),
        "chars": int(getattr(settings, "MOTCUA_TEMPLATE_MAX_OUTPUT_CHARS", 5_000_000)),
        "depth": int(getattr(settings, "MOTCUA_TEMPLATE_MAX_LOOP_DEPTH", 3)),
    }


@dataclass
class RenderBudget:
    deadline: float
    iterations: int
    chars: int
    limits: dict[str, float]

    @classmethod
    def start(cls) -> RenderBudget:
        limits = render_limits()
        return cls(monotonic() + limits["seconds"], int(limits["iterations"]), int(limits["chars"]), limits)

    def charge(self, *, iterations: int = 0, chars: int = 0) -> None:
        self.iterations -= iterations
        self.chars -= chars
        if self.iterations < 0:
            raise RenderLimitExceeded(
                _("the loops repeat more than %(count)s times in all.") % {"count": int(self.limits["iterations"])}
            )
        if self.chars < 0:
            raise RenderLimitExceeded(
                _("the form would be longer than %(count)s characters.") % {"count": int(self.limits["chars"])}
            )
        if monotonic() > self.deadline:
            raise RenderLimitExceeded(
                _("the form takes more than %(seconds)s seconds to fill in.") % {"seconds": self.limits["seconds"]}
            )


_BUDGET: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar("sandbox_budget", default=None)


@contextlib.contextmanager
def _budget() -> Iterator[RenderBudget]:
    """The budget of the render in progress; a new one when a template is rendered directly."""
    current = _BUDGET.get()
    if current is not None:
        yield current
        return
    budget = RenderBudget.start()
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


class LimitedForNode(defaulttags.ForNode):
    """Django's ``for``, charging every iteration and the output of its body to the render's budget."""

    def render(self, context):
        with _budget() as budget:
            parentloop = context.get("forloop", {})
            with context.push():
                values = self.sequence.resolve(context, ignore_failures=True)
                if values is None:
                    values = []
                if not hasattr(values, "__len__"):
                    values = list(values)
                length = len(values)
                if length < 1:
                    return self.nodelist_empty.render(context)
                budget.charge(iterations=length)  # refused before the first iteration when too many
                if self.is_reversed:
                    values = reversed(values)
                unpack = len(self.loopvars) > 1
                loop = context["forloop"] = {"parentloop": parentloop, "length": length}
                parts: list[str] = []
                for index, item in enumerate(values):
                    loop.update(
                        counter0=index,
                        counter=index + 1,
                        revcounter=length - index,
                        revcounter0=length - index - 1,
                        first=index == 0,
                        last=index == length - 1,
                    )
                    if unpack:
                        try:
                            count = len(item)
                        except TypeError:
                            count = 1
                        if count != len(self.loopvars):
                            raise ValueError(f"Need {len(self.loopvars)} values to unpack in for loop; got {count}.")
                        context.update(dict(zip(self.loopvars, item, strict=False)))
                    else:
                        context[self.loopvars[0]] = item
                    produced = 0
                    for node in self.nodelist_loop:
                        text = node.render_annotated(context)
                        parts.append(text)
                        if not isinstance(node, LimitedForNode):  # an inner loop charged its own output
                            produced += len(text)
                    budget.charge(chars=produced)
                    if unpack:
                        context.pop()
            return SafeString("".join(parts))


def _do_for(parser, token):
    node = defaulttags.do_for(parser, token)
    return LimitedForNode(node.loopvars, node.sequence, node.is_reversed, node.nodelist_loop, node.nodelist_empty)


class LimitedBlockNode(loader_tags.BlockNode):
    """``{{ block.super }}`` renders the parent's block again each time: its output is charged."""

    def super(self):
        text = super().super()
        budget = _BUDGET.get()
        if budget is not None:
            budget.charge(chars=len(text))
        return text


def _do_block(parser, token):
    node = loader_tags.do_block(parser, token)
    return LimitedBlockNode(node.name, node.nodelist)


def _metered(func):
    """A filter whose text or list result is charged to the render's budget (and the clock checked)."""

    @functools.wraps(func)  # keeps is_safe, needs_autoescape… that Django reads on the function
    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        budget = _BUDGET.get()
        if budget is not None:
            budget.charge(chars=len(result) if isinstance(result, str | list | tuple) else 0)
        return result

    return wrapper


#: ``floatformat`` builds a text of as many digits as asked: a form never needs more than this.
MAX_DECIMALS = 20


def _floatformat(text, arg=-1):
    try:
        digits = int(str(arg).rstrip("gu") or "0")
    except ValueError:
        digits = 0
    if abs(digits) > MAX_DECIMALS:
        return ""
    return defaultfilters.floatformat(text, arg)


register = Library()
for _name in ALLOWED_TAGS:
    register.tags[_name] = defaulttags.register.tags.get(_name) or loader_tags.register.tags[_name]
register.tags["for"] = _do_for
register.tags["block"] = _do_block
for _name in ALLOWED_FILTERS:
    register.filters[_name] = _metered(defaultfilters.register.filters[_name])
register.filters["floatformat"] = _metered(functools.wraps(defaultfilters.floatformat)(_floatformat))


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


def _refuse_change(*args, **kwargs):
    raise TypeError("the data of a form template cannot be changed")


# Django does not call a method marked ``alters_data`` from a template (it prints nothing instead).
_refuse_change.alters_data = True


class FrozenDict(dict):
    """A dict whose changing methods a template cannot call (``{{ dossier.clear }}`` prints nothing)."""

    clear = pop = popitem = setdefault = update = _refuse_change


class FrozenList(list):
    """A list whose changing methods a template cannot call."""

    append = clear = extend = insert = pop = remove = reverse = sort = _refuse_change


def freeze(value: Any) -> Any:
    """A copy of plain data in which nothing can be changed from a template."""
    if isinstance(value, dict):
        return FrozenDict((key, freeze(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return FrozenList(freeze(item) for item in value)
    return value


def render(template: Template, context: dict[str, Any]) -> str:
    """Render with plain, frozen data and the limits of ``render_limits``; RenderLimitExceeded past them."""
    ensure_plain(context)
    budget = RenderBudget.start()
    token = _BUDGET.set(budget)
    try:
        html = template.render(Context(freeze(context), autoescape=True))
    finally:
        _BUDGET.reset(token)
    budget.charge(chars=len(html))
    return html


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


#: Tags that only choose or repeat text: they print nothing themselves.
_SILENT_TAGS = frozenset(
    {
        "block",
        "endblock",
        "extends",
        "for",
        "endfor",
        "empty",
        "if",
        "elif",
        "else",
        "endif",
        "with",
        "endwith",
        "spaceless",
        "endspaceless",
        "ifchanged",
        "endifchanged",
        "filter",
        "endfilter",
        "verbatim",
        "endverbatim",
        "regroup",
        "resetcycle",
        "comment",
        "endcomment",
    }
)
#: Stands for whatever a variable or a printing tag (``now``, ``templatetag``, ``cycle``…) writes.
_PRINTED = "\x00"


def _stitched(tokens) -> tuple[str, list[int]]:
    """The markup as the browser would get it from the template's own text: comments (``{# #}`` and
    ``{% comment %}``) dropped, silent tags joined away, and each variable or printing tag replaced by
    ``_PRINTED``, with the line of each character. ``sr{# x #}c="…"`` reads ``src="…"`` here."""
    text: list[str] = []
    lines: list[int] = []
    in_comment = False
    for token in tokens:
        if token.token_type == TokenType.BLOCK:
            command = token.contents.split()[0] if token.contents.split() else ""
            if command == "comment":
                in_comment = True
            elif command == "endcomment":
                in_comment = False
            elif not in_comment and command not in _SILENT_TAGS:
                text.append(_PRINTED)
                lines.append(token.lineno)
        elif in_comment or token.token_type == TokenType.COMMENT:
            continue
        elif token.token_type == TokenType.VAR:
            text.append(_PRINTED)
            lines.append(token.lineno)
        else:
            for offset, line in enumerate(token.contents.split("\n")):
                chunk = line if offset == 0 else "\n" + line
                text.append(chunk)
                lines.extend([token.lineno + offset] * len(chunk))
    return "".join(text), lines  # one line number per character


#: A printed value glued between letters (``sr{% now "\c" %}c``), or inside a tag outside quotes.
_GLUED = re.compile(r"[A-Za-z]\x00+[A-Za-z(]")


def _in_tag_outside_quotes(text: str) -> list[int]:
    """Positions of ``_PRINTED`` inside a markup tag but not inside a quoted attribute value."""
    found, state, quote = [], "text", ""
    for index, char in enumerate(text):
        if state == "text":
            if char == "<":
                state = "tag"
        elif state == "tag":
            if char in "\"'":
                state, quote = "value", char
            elif char == ">":
                state = "text"
            elif char == _PRINTED:
                found.append(index)
        elif char == quote:
            state = "tag"
    return found


def _resource_problems(text: str, line_of) -> list[TemplateProblem]:
    problems = []
    for match in _RESOURCE.finditer(text):
        target = next((g for g in match.groups() if g is not None), "").strip()
        if match.group(7) is None and _ALLOWED_RESOURCE.match(target):
            continue
        problems.append(
            TemplateProblem(
                line_of(match.start()),
                _("links to outside files or addresses are not allowed (“%(text)s”).")
                % {"text": match.group(0).strip().replace(_PRINTED, "…")},
            )
        )
    return problems


def _scan_markup(body: str) -> list[TemplateProblem]:
    """The link check on the stitched markup, and no markup built by pieces of template."""
    text, lines = _stitched(Lexer(body).tokenize())

    def line_of(index: int) -> int | None:
        return lines[index] if 0 <= index < len(lines) else None

    problems = _resource_problems(text, line_of)
    glued = [m.start() + 1 for m in _GLUED.finditer(text)] + _in_tag_outside_quotes(text)
    for index in sorted(set(glued))[:5]:
        problems.append(
            TemplateProblem(
                line_of(index),
                _(
                    "a variable or tag may not build a word of the markup (an attribute name, a link, a CSS "
                    "function); write it whole, and put values in quotes."
                ),
            )
        )
    return problems


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
    if not problems:
        problems = _scan_markup(body)
    if problems:
        raise TemplateRejected(problems)
    try:
        template = engine(debug=True).from_string(body)
    except TemplateSyntaxError as exc:
        raise TemplateRejected([_syntax_problem(exc)]) from exc
    depth, line = _loop_depth(template.nodelist)
    limit = render_limits()["depth"]
    if depth > limit:
        raise TemplateRejected(
            [TemplateProblem(line, _("loops may be nested at most %(count)s deep.") % {"count": int(limit)})]
        )
    return template


def _loop_depth(nodes, depth: int = 0) -> tuple[int, int | None]:
    """How deeply ``for`` loops nest in ``nodes``, and the line of the deepest one."""
    deepest, where = depth, None
    for node in nodes:
        inner = depth + 1 if isinstance(node, defaulttags.ForNode) else depth
        if inner > deepest:
            deepest, where = inner, getattr(getattr(node, "token", None), "lineno", None)
        for attribute in node.child_nodelists:
            children = getattr(node, attribute, None)
            if children:
                found, line = _loop_depth(children, inner)
                if found > deepest:
                    deepest, where = found, line
    return deepest, where


def check_override(body: str, sample_context: dict[str, Any]) -> Template:
    """Everything the desk checks before it saves an override: syntax, tags, names, and a trial
    render with the sample dossier (which also resolves ``extends``)."""
    template = compile_override(body)
    problems = _unknown_names(template, set(sample_context))
    if problems:
        raise TemplateRejected(problems)
    try:
        html = render(template, sample_context)
    except RenderLimitExceeded as exc:
        raise TemplateRejected(
            [TemplateProblem(None, _("The template is too costly to fill in: %(why)s") % {"why": exc})]
        ) from exc
    except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
        raise TemplateRejected([_syntax_problem(exc)]) from exc
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise TemplateRejected([_syntax_problem(exc)]) from exc
    # The markup as filled in (which also holds the base layout and the default form it extends).
    problems = _resource_problems(html, lambda index: None)
    if problems:
        raise TemplateRejected(problems)
    return template
