"""The condition language of workflow transitions: a small, safe subset of Python expressions.

An administrator types a condition such as ``form.dien_tich > 300 and channel == "online"`` in
the desk; it decides whether a transition is offered for a dossier. User text is never given to
``eval`` or ``compile``: it is parsed with ``ast.parse(mode="eval")``, every node is checked
against a whitelist, and the tree is evaluated by walking it here. No Django imports (pure, so it
is tested as plain functions); problems are ``ConditionError`` with a ``code`` and ``params`` that
``motcua.workflow.messages`` turns into a translated sentence.

The language:

* names: ``form`` (the application form), ``applicant`` (kind, full_name, id_number, birth_date,
  address, phone, email), ``channel`` ("counter", "online", "post"), ``fees`` (total in đồng),
  ``procedure`` (its code), ``receiving`` and ``competent`` (agency codes);
* reading data: ``form.dien_tich`` or ``form["dien_tich"]``; a missing key reads as ``None``;
* constants: text, whole and decimal numbers, ``True``, ``False``, ``None``, lists of constants;
* comparisons: ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in`` (chains allowed);
* logic: ``and``, ``or``, ``not``.

Comparisons never fail: text that looks like a number compares as a number with a number (form
data often keeps numbers as text); an ordering between incompatible values (``None < 5``) is
simply false.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

MAX_LENGTH = 500
MAX_NODES = 200
MAX_NUMBER_TEXT = 40
NAMES = ("form", "applicant", "channel", "fees", "procedure", "receiving", "competent")

#: Names of the constructs that are refused, for the messages (``construct`` parameter).
_CONSTRUCTS: dict[type, str] = {
    ast.Call: "call",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.BinOp: "arithmetic",
    ast.IfExp: "if_expression",
    ast.NamedExpr: "assignment",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.JoinedStr: "f_string",
    ast.FormattedValue: "f_string",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.Starred: "starred",
    ast.Slice: "slice",
}
_OPERATORS: dict[type, str] = {
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Invert: "~",
}
_ALLOWED_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_SCALARS = (str, int, float, bool, type(None))


class ConditionError(ValueError):
    """A condition that is not valid in the language; ``code``/``params`` select the translated message."""

    TEMPLATES = {
        "too_long": "The condition is too long (at most %(max)s characters).",
        "syntax": "The condition is not a valid expression (column %(column)s).",
        "not_allowed": "The condition uses something that is not allowed (%(construct)s).",
        "operator": "The operator “%(operator)s” is not allowed in a condition.",
        "unknown_name": "Unknown name “%(name)s” in the condition; use one of: %(names)s.",
        "private": "“%(name)s” cannot be read in a condition: names starting with an underscore are not allowed.",
        "subscript": 'Only a text or a whole number can be written in brackets, e.g. form["dien_tich"].',
        "list_item": "A list in a condition may only hold text, numbers, True, False or None.",
        "constant": "This kind of constant is not allowed in a condition.",
        "sign": "A sign (+ or -) can only be written before a number.",
        "too_complex": "The condition is too complex (at most %(max)s parts).",
    }

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(self.TEMPLATES.get(code, code) % params if params else self.TEMPLATES.get(code, code))


def _check(node: ast.AST) -> None:
    """Raise ConditionError unless ``node`` (and everything below it) is in the whitelist."""
    if isinstance(node, ast.BoolOp):
        if not isinstance(node.op, ast.And | ast.Or):  # pragma: no cover - the grammar has no other
            raise ConditionError("operator", operator=type(node.op).__name__)
        for value in node.values:
            _check(value)
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            _check(node.operand)
        elif isinstance(node.op, ast.USub | ast.UAdd):
            if not _is_number_constant(node.operand):
                raise ConditionError("sign")
        else:
            raise ConditionError("operator", operator=_OPERATORS.get(type(node.op), type(node.op).__name__))
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if not isinstance(op, _ALLOWED_COMPARE):
                raise ConditionError("operator", operator=_OPERATORS.get(type(op), type(op).__name__))
        _check(node.left)
        for comparator in node.comparators:
            _check(comparator)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, _SCALARS):
            raise ConditionError("constant")
    elif isinstance(node, ast.List | ast.Tuple):
        for item in node.elts:
            if not (
                (isinstance(item, ast.Constant) and isinstance(item.value, _SCALARS))
                or (isinstance(item, ast.UnaryOp) and isinstance(item.op, ast.USub | ast.UAdd))
            ):
                raise ConditionError("list_item")
            if isinstance(item, ast.UnaryOp) and not _is_number_constant(item.operand):
                raise ConditionError("sign")
    elif isinstance(node, ast.Name):
        if node.id not in NAMES:
            raise ConditionError("unknown_name", name=node.id, names=", ".join(NAMES))
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise ConditionError("private", name=node.attr)
        _check(node.value)
    elif isinstance(node, ast.Subscript):
        key = node.slice
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str | int) and not isinstance(key.value, bool)):
            raise ConditionError("subscript")
        if isinstance(key.value, str) and key.value.startswith("_"):
            raise ConditionError("private", name=key.value)
        _check(node.value)
    else:
        raise ConditionError("not_allowed", construct=_CONSTRUCTS.get(type(node), type(node).__name__.lower()))


def _is_number_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)


def parse(expression: str) -> ast.Expression | None:
    """The checked tree of ``expression``; None for a blank condition (always true).

    Raises ConditionError for anything outside the language.
    """
    if expression is None:
        return None
    if not isinstance(expression, str):
        raise ConditionError("syntax", column=1)
    return _parse(expression.strip())


@lru_cache(maxsize=1024)
def _parse(text: str) -> ast.Expression | None:
    """Cached: the same few conditions are evaluated for every dossier (the tree is only read)."""
    if not text:
        return None
    if len(text) > MAX_LENGTH:
        raise ConditionError("too_long", max=MAX_LENGTH)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ConditionError("syntax", column=exc.offset or 1) from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise ConditionError("too_complex", max=MAX_NODES) from None
    try:
        if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
            raise ConditionError("too_complex", max=MAX_NODES)
        _check(tree.body)
    except RecursionError:
        raise ConditionError("too_complex", max=MAX_NODES) from None
    return tree


def validate(expression: str) -> None:
    """Raise ConditionError when ``expression`` is not a valid condition (blank is valid)."""
    parse(expression)


# --- evaluation ----------------------------------------------------------------------------------


class _Missing:
    """Stands for a value that is not plain JSON data: it equals nothing and orders with nothing."""


_NOT_PLAIN = _Missing()


def _plain(value: Any) -> Any:
    """Only JSON-like values take part; anything else (objects with their own ``__eq__``…) is ignored."""
    kind = type(value)
    if kind in _SCALARS or kind is dict or kind is list or kind is tuple:
        return value
    return _NOT_PLAIN


def _read(container: Any, key: str | int) -> Any:
    """``container[key]`` for plain dicts and lists; None for a missing key or anything else."""
    if type(container) is dict:
        return _plain(container.get(key)) if isinstance(key, str) else _plain(container.get(str(key)))
    if type(container) in (list, tuple) and type(key) is int and -len(container) <= key < len(container):
        return _plain(container[key])
    return None


def _number(value: Any) -> int | float | None:
    """A number, or text that reads as one; None otherwise (booleans are not numbers here)."""
    if type(value) in (int, float):
        return value
    if type(value) is str:
        text = value.strip()
        if not text or len(text) > MAX_NUMBER_TEXT:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return None if math.isnan(number) else number
    return None


def _equal(left: Any, right: Any) -> bool:
    if type(left) not in _SCALARS or type(right) not in _SCALARS:
        if type(left) in (list, tuple) and type(right) in (list, tuple):
            if len(left) != len(right):
                return False
            return all(_equal(_plain(a), _plain(b)) for a, b in zip(left, right, strict=True))
        return False
    if type(left) is bool or type(right) is bool:
        return type(left) is type(right) and left == right
    if type(left) is not type(right) and (type(left) in (int, float) or type(right) in (int, float)):
        a, b = _number(left), _number(right)
        return a is not None and b is not None and a == b
    return left == right


def _order(op: ast.cmpop, left: Any, right: Any) -> bool:
    a, b = _number(left), _number(right)
    if (type(left) in (int, float) or type(right) in (int, float)) and a is not None and b is not None:
        pass
    elif type(left) is str and type(right) is str:
        a, b = left, right
    else:
        return False
    if isinstance(op, ast.Lt):
        return a < b
    if isinstance(op, ast.LtE):
        return a <= b
    if isinstance(op, ast.Gt):
        return a > b
    return a >= b


def _contains(item: Any, container: Any) -> bool:
    if type(container) in (list, tuple):
        return any(_equal(item, _plain(element)) for element in container)
    if type(container) is str and type(item) is str:
        return item in container
    if type(container) is dict and type(item) is str:
        return item in container
    return False


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, ast.Eq):
        return _equal(left, right)
    if isinstance(op, ast.NotEq):
        return not _equal(left, right)
    if isinstance(op, ast.In):
        return _contains(left, right)
    if isinstance(op, ast.NotIn):
        return not _contains(left, right)
    return _order(op, left, right)


def _truthy(value: Any) -> bool:
    if value is _NOT_PLAIN:
        return False
    if type(value) is float and math.isnan(value):
        return False
    return bool(value)


def _value(node: ast.AST, context: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return _plain(context.get(node.id)) if isinstance(context, Mapping) else None
    if isinstance(node, ast.Attribute):
        return _read(_value(node.value, context), node.attr)
    if isinstance(node, ast.Subscript):
        return _read(_value(node.value, context), node.slice.value)
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(item, context) for item in node.elts]
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return not _truthy(_value(node.operand, context))
        number = node.operand.value
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_truthy(_value(value, context)) for value in node.values)
        return any(_truthy(_value(value, context)) for value in node.values)
    if isinstance(node, ast.Compare):
        left = _value(node.left, context)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _value(comparator, context)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    raise ConditionError("not_allowed", construct=type(node).__name__.lower())  # pragma: no cover - parse checked


def evaluate(expression: str, context: Mapping[str, Any]) -> bool:
    """True when the dossier data in ``context`` satisfies ``expression`` (blank: always true).

    Raises ConditionError only for an invalid expression; valid ones never raise on any data.
    """
    tree = parse(expression)
    if tree is None:
        return True
    try:
        return _truthy(_value(tree.body, context))
    except RecursionError:
        raise ConditionError("too_complex", max=MAX_NODES) from None
