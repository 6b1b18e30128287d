"""The condition language: what it accepts, how it evaluates, and that nothing else ever runs."""

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.workflow import conditions
from motcua.workflow.conditions import ConditionError, evaluate, validate

CONTEXT = {
    "form": {"dien_tich": "350.5", "so_thua": 12, "loai": "dat_o", "chon": ["a", "b"], "co_uy_quyen": True},
    "applicant": {"kind": "person", "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17"},
    "channel": "online",
    "fees": 100000,
    "procedure": "1.001193",
    "receiving": "000.21.31.H62",
    "competent": "001.01.12.H62",
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("", True),
        ("   ", True),
        ('channel == "online"', True),
        ("channel == 'counter'", False),
        ("form.dien_tich > 300", True),  # numeric text compares as a number
        ("form.dien_tich > 400", False),
        ('form["so_thua"] == 12', True),
        ("form.so_thua == '12'", True),
        ("300 < form.dien_tich <= 350.5", True),
        ("300 < form.dien_tich < 350", False),
        ("form.khong_co is None", None),  # 'is' is refused (see below); placeholder filtered out
        ("form.khong_co == None", True),  # a missing key reads as None
        ("form.khong_co > 5", False),  # ordering with None is false, not an error
        ("not form.khong_co", True),
        ("form.loai in ['dat_o', 'dat_nong_nghiep']", True),
        ("form.loai not in ('dat_o',)", False),
        ("'a' in form.chon", True),
        ("'c' not in form.chon", True),
        ("'Văn' in applicant.full_name", True),
        ("form.co_uy_quyen", True),
        ("form.co_uy_quyen == 1", False),  # booleans are not numbers
        ("fees >= 100000 and channel == 'online'", True),
        ("fees > 100000 or procedure == '1.001193'", True),
        ("not (fees > 0)", False),
        ("form.so_thua > -1", True),
        ("applicant.birth_date < '2000-01-01'", True),  # ISO dates compare as text
        ("form.chon == ['a', 'b']", True),
        ("form.chon[0] == 'a'", True),
        ("form.chon[5] == None", True),
        ("competent == receiving", False),
        ("True", True),
        ("None", False),
        ("(" * 90 + "fees > 1" + ")" * 90, True),  # deep but tiny
    ],
)
def test_evaluation(expression, expected):
    if expected is None:
        with pytest.raises(ConditionError):
            evaluate(expression, CONTEXT)
        return
    validate(expression)
    assert evaluate(expression, CONTEXT) is expected


@pytest.mark.parametrize(
    ("expression", "code"),
    [
        ("__import__('os').system('true')", "not_allowed"),
        ("open('/etc/passwd')", "not_allowed"),
        ("form.__class__", "private"),
        ("form._secret", "private"),
        ("form['__class__']", "private"),
        ("(lambda: 1)()", "not_allowed"),
        ("[x for x in form]", "not_allowed"),
        ("form.a + 1 > 2", "not_allowed"),
        ("form.a if channel else 1", "not_allowed"),
        ("(x := 1)", "not_allowed"),
        ("f'{form}'", "not_allowed"),
        ("{'a': 1}", "not_allowed"),
        ("form[1:2]", "subscript"),
        ("form[channel]", "subscript"),
        ("form[True]", "subscript"),
        ("os.system", "unknown_name"),
        ("dossier.code == 'x'", "unknown_name"),
        ("form.a is None", "operator"),
        ("form.a is not None", "operator"),
        ("~fees", "operator"),
        ("-form.a > 1", "sign"),
        ("[form.a] == []", "list_item"),
        ("b'x' == form.a", "constant"),
        ("1j == form.a", "constant"),
        ("... == form.a", "constant"),
        ("form.a ==", "syntax"),
        ("form.a = 1", "syntax"),
        ("x" * 501, "too_long"),
        ("fees in [" + ",".join(["-1"] * 150) + "]", "too_complex"),
        ("(" * 240 + "1" + ")" * 240, "syntax"),  # the parser's own nesting limit
        ("form.a == 'x' and form.b\x00", "syntax"),
    ],
)
def test_refused_with_a_code(expression, code):
    with pytest.raises(ConditionError) as refused:
        validate(expression)
    assert refused.value.code == code
    with pytest.raises(ConditionError):
        evaluate(expression, CONTEXT)


def test_messages_are_vietnamese_sentences():
    from django.utils import translation

    from motcua.workflow.messages import condition_message

    with translation.override("vi"):
        with pytest.raises(ConditionError) as refused:
            validate("open('x')")
        assert condition_message(refused.value) == "Điều kiện không được chứa lời gọi hàm."
        with pytest.raises(ConditionError) as refused:
            validate("dossier.x == 1")
        assert condition_message(refused.value).startswith("Tên “dossier” không có trong ngôn ngữ điều kiện")


class Trap:
    """Any use of this object as a value (comparison, truth, attribute) is recorded."""

    touched: list[str] = []

    def __getattr__(self, name):
        Trap.touched.append(name)
        return self

    def __eq__(self, other):
        Trap.touched.append("__eq__")
        return True

    def __bool__(self):
        Trap.touched.append("__bool__")
        return True

    def __hash__(self):
        return 0


def test_objects_in_the_data_are_never_used():
    Trap.touched = []
    context = {"form": {"x": Trap(), "y": [Trap()]}, "channel": Trap()}
    assert evaluate("form.x == 1", context) is False
    assert evaluate("form.x", context) is False
    assert evaluate("channel", context) is False
    assert evaluate("1 in form.y", context) is False
    assert evaluate("form.x.y == None", context) is True
    assert Trap.touched == []


def test_evaluation_never_calls_eval_or_compile(monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/compile/exec must not be used")

    conditions._parse.cache_clear()
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    # ast.parse itself uses compile() with PyCF_ONLY_AST, which only builds a tree; anything else fails.
    real_compile = builtins.compile

    def only_ast(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile() may only build a syntax tree"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "compile", only_ast)
    assert evaluate("form.so_thua == 12 and channel != 'post'", CONTEXT) is True


# --- properties ------------------------------------------------------------------------------------

ATOMS = st.sampled_from(
    [
        "form",
        "form.a",
        "form['b']",
        "form.a.b",
        "applicant.kind",
        "channel",
        "fees",
        "1",
        "-2.5",
        "'x'",
        "None",
        "True",
        "[1, 'x', None]",
        "__import__",
        "open('f')",
        "form.__class__",
        "(lambda: 0)",
        "x",
        "1e999",
        "'12'",
    ]
)
OPERATORS = st.sampled_from(
    [" == ", " != ", " < ", " <= ", " > ", " >= ", " in ", " not in ", " and ", " or ", " is ", " + ", "."]
)


@st.composite
def expressions(draw) -> str:
    parts = [draw(ATOMS)]
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(OPERATORS))
        parts.append(draw(ATOMS))
    text = "".join(parts)
    if draw(st.booleans()):
        text = f"not ({text})"
    return text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab"), inner, max_size=2),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_either_valid_or_a_condition_error(text):
    try:
        validate(text)
    except ConditionError:
        return
    assert isinstance(evaluate(text, CONTEXT), bool)


@settings(max_examples=400, deadline=None)
@given(expressions(), st.dictionaries(st.sampled_from("ab"), JSON, max_size=2), JSON)
def test_valid_conditions_never_raise_on_any_data(expression, form, channel):
    try:
        validate(expression)
    except ConditionError:
        return
    result = evaluate(expression, {"form": form, "channel": channel, "fees": 5, "applicant": {"kind": "person"}})
    assert isinstance(result, bool)


@settings(max_examples=300, deadline=None)
@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
def test_number_comparisons_agree_with_python(a, b, op):
    expected = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    assert evaluate(f"form.a {op} {b}", {"form": {"a": a}}) is expected
    assert evaluate(f"form.a {op} {b}", {"form": {"a": str(a)}}) is expected  # numbers kept as text
