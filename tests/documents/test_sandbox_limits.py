"""F10 and F14: a form template override costs bounded time and output to check and to fill in,
cannot change its data, and cannot build a link out of pieces of template."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from motcua.documents import context, sandbox, services
from motcua.documents.models import TemplateOverride
from tests.dossiers.conftest import user

pytestmark = pytest.mark.django_db

HEAD = '{% extends "documents/base_official.html" %}{% block content %}'
TAIL = "{% endblock %}"


@pytest.fixture
def admin(org):
    return user("admin")


def save(admin, org, body: str) -> TemplateOverride:
    with translation.override("vi"):
        return services.save_override(actor=admin, form_key="receipt", body=body, unit=org["tinh"])


def refused(admin, org, body: str) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        save(admin, org, body)
    assert TemplateOverride.objects.count() == 0
    return excinfo.value.message_dict["body"]


def nested(levels: int, width: int = 150, inner: str = "") -> str:
    text = '"' + "x" * width + '"'
    opening = "".join(f"{{% for v{n} in {text} %}}" for n in range(levels))
    return HEAD + opening + inner + "{% endfor %}" * levels + TAIL


def test_three_nested_loops_over_150_characters_are_refused_fast(admin, org):
    started = time.monotonic()
    [message] = refused(admin, org, nested(3))
    assert time.monotonic() - started < 3
    assert "Mẫu quá tốn công" in message and "vòng lặp" in message


def test_four_nested_loops_are_refused_before_any_render(admin, org):
    started = time.monotonic()
    [message] = refused(admin, org, nested(4, width=800))
    assert time.monotonic() - started < 3
    assert "lồng nhau tối đa 3 tầng" in message


def test_one_long_loop_with_a_big_body_is_refused_by_the_output_limit(admin, org, settings):
    settings.MOTCUA_TEMPLATE_MAX_OUTPUT_CHARS = 1_000_000
    [message] = refused(admin, org, nested(1, width=5000, inner="y" * 1000))
    assert "dài hơn 1000000 ký tự" in message


def test_doubling_a_text_with_add_is_bounded(admin, org, settings):
    settings.MOTCUA_TEMPLATE_MAX_OUTPUT_CHARS = 1_000_000
    body = (
        '{% with a="xxxxxxxxxx" %}'
        + "".join("{% with a=a|add:a %}" for _ in range(40))
        + "{{ a|length }}"
        + "{% endwith %}" * 41
    )
    [message] = refused(admin, org, HEAD + body + TAIL)
    assert "ký tự" in message


def test_the_render_time_is_limited(settings):
    settings.MOTCUA_TEMPLATE_RENDER_SECONDS = 0.05
    settings.MOTCUA_TEMPLATE_MAX_ITERATIONS = 10**9
    template = sandbox.engine().from_string(nested(3, width=400)[len(HEAD) : -len(TAIL)])
    started = time.monotonic()
    with pytest.raises(sandbox.RenderLimitExceeded):
        sandbox.render(template, {})
    assert time.monotonic() - started < 2


def test_huge_float_precision_prints_nothing():
    template = sandbox.engine().from_string("[{{ 1|floatformat:100000000 }}][{{ 2|floatformat:0 }}]")
    assert sandbox.render(template, {}) == "[][2]"


def test_loops_render_as_before():
    template = sandbox.engine().from_string(
        "{% for a, b in pairs %}{{ forloop.counter }}:{{ a }}{{ b }}{% if forloop.last %}.{% endif %}"
        "{% empty %}none{% endfor %}|{% for x in items reversed %}{{ x }}{% endfor %}"
        "|{% for x in items %}{% for y in items %}{{ forloop.parentloop.counter }}{{ y }}{% endfor %}{% endfor %}"
    )
    assert sandbox.render(
        template, {"pairs": [["a", 1], ["b", 2]], "items": [1, 2]}
    ) == "1:a1 2:b2.|21|11122122".replace(" ", "")
    assert sandbox.render(template, {"pairs": [], "items": []}) == "none||"


def test_context_mutators_cannot_be_called(admin, org):
    sample = context.sample_context("receipt")
    template = sandbox.engine().from_string(
        "[{{ dossier.clear }}{{ dossier.popitem }}{{ documents.pop }}{{ documents.clear }}{{ documents.reverse }}]"
        "{{ dossier.code }}|{{ documents|length }}"
    )
    html = sandbox.render(template, sample)
    assert html == f"[]{sample['dossier']['code']}|{len(sample['documents'])}"
    assert sample["dossier"]  # the caller's data is untouched too
    saved = save(admin, org, HEAD + "<p>{{ dossier.clear }}{{ dossier.code }}</p>" + TAIL)
    assert saved.pk


@pytest.mark.parametrize(
    "piece",
    [
        '<img sr{# x #}c="http://127.0.0.1:8721/split-img">',
        '<a rel="attachment" hr{# x #}ef="file:///etc/passwd">x</a>',
        "<p style=\"background: ur{# x #}l('http://127.0.0.1:8721/css')\">x</p>",
        '<img sr{% comment %}x{% endcomment %}c="http://127.0.0.1:8721/c">',
        '<img s{% if dossier.code %}r{% endif %}c="http://127.0.0.1:8721/if">',
        '<img sr{% now "\\c" %}="http://127.0.0.1:8721/now">',
        '<img sr{% templatetag openbrace %}="http://127.0.0.1:8721/tt">',
        '<img {{ "src" }}="http://127.0.0.1:8721/var">',
        "<style>@im{# x #}port 'http://127.0.0.1:8721/imp';</style>",
    ],
)
def test_links_split_by_template_pieces_are_refused_at_save(admin, org, piece):
    messages = refused(admin, org, HEAD + piece + TAIL)
    assert any("không được" in message for message in messages), messages


def test_ordinary_markup_with_variables_is_still_accepted(admin, org):
    body = (
        HEAD
        + '<p class="{{ dossier.code }}">{{ applicant.name }}</p>'
        + '<tr{% if dossier.code %} class="x"{% endif %}><td>{{ dossier.received_at|vn_datetime }}</td></tr>'
        + TAIL
    )
    assert save(admin, org, body).pk


def test_an_override_over_the_limits_with_real_data_gives_way_to_the_default_form(admin, org, settings):
    from motcua.documents import rendering, selectors

    override = save(admin, org, HEAD + '{% for c in "' + "x" * 500 + '" %}.{% endfor %}MẪU RIÊNG' + TAIL)
    sample = context.sample_context("receipt")
    assert "MẪU RIÊNG" in rendering.render_html(selectors.compiled_template(override), sample)
    settings.MOTCUA_TEMPLATE_MAX_ITERATIONS = 300
    html = rendering.render_html(selectors.compiled_template(override), sample)
    assert "MẪU RIÊNG" not in html and sample["dossier"]["code"] in html
