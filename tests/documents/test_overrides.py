"""Template overrides: refused at save time with the line when bad or unsafe, chosen by scope,
previewed with the sample dossier, rolled back by deactivation, and kept in history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template import TemplateSyntaxError
from django.test import Client
from django.urls import reverse

from motcua.documents import context, registry, rendering, sandbox, selectors, services
from motcua.documents.models import TemplateOverride
from motcua.org.models import AdministrativeUnit, Agency
from tests.documents.conftest import needs_poppler, pdf_text
from tests.dossiers.conftest import user

pytestmark = pytest.mark.django_db

GOOD = (
    '{% extends "documents/base_official.html" %}\n'
    "{% block content %}\n"
    "<p>MẪU RIÊNG CỦA TỈNH: {{ applicant.name }} – {{ dossier.received_at|vn_datetime }}</p>\n"
    "{% for d in documents %}<p>{{ forloop.counter }}. {{ d.name|upper }}</p>{% endfor %}\n"
    "{% endblock %}\n"
)


@pytest.fixture
def admin(org):
    return user("admin")


@pytest.fixture
def province(org) -> AdministrativeUnit:
    return org["tinh"]


def errors(excinfo) -> list[str]:
    return excinfo.value.message_dict["body"]


def save(actor, body: str, **scope) -> TemplateOverride:
    return services.save_override(actor=actor, form_key="receipt", body=body, **scope)


def test_a_syntax_error_is_refused_with_its_line(admin, province):
    body = "<p>dòng 1</p>\n<p>dòng 2</p>\n{% if %}\n{% endif %}\n"
    with pytest.raises(ValidationError) as excinfo:
        save(admin, body, unit=province)
    [message] = errors(excinfo)
    assert message.startswith("Dòng 3: ")
    assert TemplateOverride.objects.count() == 0


def test_an_unclosed_block_is_refused_with_its_line(admin, province):
    with pytest.raises(ValidationError) as excinfo:
        save(admin, "<p>a</p>\n\n{% for d in documents %}<p>{{ d.name }}</p>\n", unit=province)
    assert errors(excinfo)[0].startswith("Dòng 3: ")
    assert TemplateOverride.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("<p>x</p>\n{{ settings }}", 2, "“settings” không thuộc dữ liệu"),
        ("{{ settings.SECRET_KEY }}", 1, "“settings” không thuộc dữ liệu"),
        ("{{ request.META }}", 1, "“request” không thuộc dữ liệu"),
        ("{% load static %}", 1, "thẻ “load”"),
        ('{% include "/etc/passwd" %}', 1, "thẻ “include”"),
        ("\n\n{% debug %}", 3, "thẻ “debug”"),
        ("{% url 'admin:index' %}", 1, "thẻ “url”"),
        ("{% csrf_token %}", 1, "thẻ “csrf_token”"),
        ("{{ x.__class__ }}", 1, "dấu gạch dưới"),
        ("{{ applicant.name.__class__.__mro__ }}", 1, "dấu gạch dưới"),
        ("{{ applicant.name|safe }}", 1, "safe"),
        ('{% extends "/etc/passwd" %}', 1, "chỉ được kế thừa"),
        ('{% extends "admin/base.html" %}', 1, "chỉ được kế thừa"),
        ('<img src="file:///etc/passwd">', 1, "không được liên kết"),
        ('<link rel="attachment" href="/etc/shadow">', 1, "không được liên kết"),
        ("<p style=\"background: url('https://example.com/x.png')\">x</p>", 1, "không được liên kết"),
        ("<style>@import 'http://example.com/a.css';</style>", 1, "không được liên kết"),
        ('<img src="{{ tracking.url }}">', 1, "không được liên kết"),
        ("{% lorem 100000 w %}", 1, "thẻ “lorem”"),
        ("{% autoescape off %}{{ applicant.name }}{% endautoescape %}", 1, "thẻ “autoescape”"),
    ],
)
def test_forbidden_access_is_refused_at_save_time(admin, province, body, line, words):
    with pytest.raises(ValidationError) as excinfo:
        save(admin, body, unit=province)
    messages = errors(excinfo)
    assert any(m.startswith(f"Dòng {line}: ") and words in m for m in messages), messages
    assert TemplateOverride.objects.count() == 0


def test_the_engine_itself_has_no_dangerous_tags_or_data():
    """Defence in depth, below the save-time checks: the sandbox engine knows none of these tags,
    and a context of plain data gives nothing away."""
    engine = sandbox.engine()
    for body in ('{% include "x" %}', "{% load static %}", "{% debug %}", "{% url 'a' %}", "{{ a|safe }}"):
        with pytest.raises(TemplateSyntaxError):
            engine.from_string(body)
    template = engine.from_string("[{{ settings.SECRET_KEY }}][{{ applicant.name.upper }}][{{ applicant.nope.x }}]")
    assert sandbox.render(template, {"applicant": {"name": "an"}}) == "[][AN][]"
    with pytest.raises(TypeError):
        sandbox.render(template, {"applicant": user.__class__})  # a class, not plain data


def test_what_the_applicant_typed_is_always_escaped():
    ctx = context.sample_context("receipt")
    ctx["applicant"]["name"] = '<link rel="attachment" href="file:///etc/passwd"><b>Nguyễn</b>'
    html = rendering.render_html(registry.default_template("receipt"), ctx)
    assert "&lt;link rel=&quot;attachment&quot;" in html and "<b>Nguyễn</b>" not in html


def test_model_instances_never_reach_a_template(org):
    with pytest.raises(TypeError):
        sandbox.ensure_plain({"agency": Agency.objects.first()})
    with pytest.raises(TypeError):
        sandbox.ensure_plain({"rows": [{"user": user("admin")}]})
    sandbox.ensure_plain(context.sample_context("receipt"))


def test_a_good_override_is_saved_and_applies_to_the_agencies_below(admin, province, org):
    override = save(admin, GOOD, unit=province, note="  Mẫu   của tỉnh ")
    assert override.is_active and override.note == "Mẫu của tỉnh"
    lienbao = Agency.objects.get(code="000.21.31.H62")
    assert selectors.select_template("receipt", lienbao) == override
    assert selectors.select_template("refusal", lienbao) == registry.default_template("refusal")


def test_the_most_specific_override_wins(admin, province, org):
    lienbao = Agency.objects.get(code="000.21.31.H62")
    tamhop = Agency.objects.get(code="000.22.32.H62")
    for_province = save(admin, GOOD, unit=province)
    for_city = save(admin, GOOD.replace("TỈNH", "THÀNH PHỐ"), unit=org["vinhyen"])
    assert selectors.select_template("receipt", lienbao) == for_city
    assert selectors.select_template("receipt", tamhop) == for_province
    for_agency = save(admin, GOOD.replace("TỈNH", "PHƯỜNG"), agency=lienbao)
    assert selectors.select_template("receipt", lienbao) == for_agency
    services.deactivate_override(for_agency, actor=admin)
    assert selectors.select_template("receipt", lienbao) == for_city
    services.deactivate_override(for_city, actor=admin)
    services.deactivate_override(for_province, actor=admin)
    assert selectors.select_template("receipt", lienbao) == registry.default_template("receipt")


def test_a_new_override_for_the_same_scope_replaces_the_old_and_history_is_kept(admin, province):
    first = save(admin, GOOD, unit=province)
    second = save(admin, GOOD.replace("MẪU RIÊNG", "MẪU MỚI"), unit=province)
    first.refresh_from_db()
    assert not first.is_active and second.is_active
    edited = services.save_override(
        actor=admin, form_key="receipt", body=GOOD.replace("MẪU RIÊNG", "SỬA LẠI"), unit=province, override=second
    )
    assert edited.pk == second.pk
    assert [h.body.count("SỬA LẠI") for h in second.history.order_by("history_date")] == [0, 1]
    assert first.history.count() == 2  # created, then deactivated


def test_scope_must_be_one_unit_or_one_agency(admin, province, org):
    with pytest.raises(ValidationError):
        save(admin, GOOD)
    with pytest.raises(ValidationError):
        save(admin, GOOD, unit=province, agency=Agency.objects.get(code="000.21.31.H62"))
    assert TemplateOverride.objects.count() == 0


def test_a_unit_administrator_changes_only_their_own_subtree(org):
    vinhyen_admin = user("quantri.vinhyen")
    mine = save(vinhyen_admin, GOOD, agency=Agency.objects.get(code="000.21.31.H62"))
    assert mine.is_active
    with pytest.raises(PermissionDenied):
        save(vinhyen_admin, GOOD, unit=org["binhxuyen"])
    with pytest.raises(PermissionDenied):
        save(vinhyen_admin, GOOD, unit=org["tinh"])
    with pytest.raises(PermissionDenied):
        save(user("motcua.lienbao"), GOOD, agency=Agency.objects.get(code="000.21.31.H62"))
    assert TemplateOverride.objects.count() == 1
    province_override = save(user("admin"), GOOD, unit=org["tinh"])
    with pytest.raises(PermissionDenied):
        services.deactivate_override(province_override, actor=vinhyen_admin)
    assert list(selectors.overrides_visible_to(vinhyen_admin)) == [mine]


@needs_poppler
def test_preview_renders_the_sample_dossier(admin, province, tmp_path):
    override = save(admin, GOOD, unit=province)
    text = pdf_text(services.preview_pdf("receipt", override=override), tmp_path)
    assert "MẪU RIÊNG CỦA TỈNH: Nguyễn Thị Hồng Nhung" in text
    assert "1. TỜ KHAI ĐĂNG KÝ KHAI SINH" in text
    text = pdf_text(services.preview_pdf("receipt", body=GOOD.replace("TỈNH", "NHÁP")), tmp_path)
    assert "MẪU RIÊNG CỦA NHÁP" in text
    with pytest.raises(ValidationError):
        services.preview_pdf("receipt", body="{% load x %}")


@needs_poppler
def test_issued_forms_use_the_override_in_force_and_the_default_after_rollback(
    admin, province, dossier, clerk, tmp_path
):
    override = save(admin, GOOD, unit=province)
    issued = services.issue_form("receipt", dossier, actor=clerk)
    assert issued.template_override == override
    text = pdf_text(services.read_document(issued), tmp_path)
    assert "MẪU RIÊNG CỦA TỈNH: Nguyễn Thị Hồng Nhung – 09 giờ 00 phút, ngày 30/11/2026" in text
    services.deactivate_override(override, actor=admin)
    issued = services.issue_form("receipt", dossier, actor=clerk)
    assert issued.template_override is None
    text = pdf_text(services.read_document(issued), tmp_path)
    assert "MẪU RIÊNG" not in text and "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text


# --- the desk ---------------------------------------------------------------------------------------


@pytest.fixture
def desk(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def test_desk_refuses_a_bad_template_with_the_line(desk, province):
    response = desk.post(
        reverse("admin:documents_templateoverride_add"),
        {"form_key": "receipt", "unit": province.pk, "body": "<p>a</p>\r\n{{ settings.DATABASES }}", "note": ""},
    )
    assert response.status_code == 200
    assert "Dòng 2: “settings” không thuộc dữ liệu" in response.content.decode()
    assert TemplateOverride.objects.count() == 0


def test_desk_saves_previews_and_deactivates(desk, province):
    response = desk.post(
        reverse("admin:documents_templateoverride_add"),
        {"form_key": "receipt", "unit": province.pk, "body": GOOD, "note": "thử"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    override = TemplateOverride.objects.get()
    assert override.created_by.email == "admin@vinhphuc.gov.vn" and override.is_active
    preview = desk.get(reverse("admin:documents_templateoverride_preview_detail", args=[override.pk]))
    assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
    assert preview.content.startswith(b"%PDF-")
    default = desk.get(reverse("admin:documents_templateoverride_preview_default", args=["refusal"]))
    assert default.status_code == 200 and default.content.startswith(b"%PDF-")
    assert desk.get(reverse("admin:documents_templateoverride_preview_default", args=["nope"])).status_code == 404
    listing = desk.get(reverse("admin:documents_templateoverride_changelist"))
    assert "Mẫu 03 – Phiếu từ chối tiếp nhận giải quyết hồ sơ" in listing.content.decode()
    history = desk.get(reverse("admin:documents_templateoverride_history", args=[override.pk]))
    assert history.status_code == 200
    confirm = desk.get(reverse("admin:documents_templateoverride_deactivate_detail", args=[override.pk]))
    assert confirm.status_code == 200
    override.refresh_from_db()
    assert override.is_active  # a GET only asks
    desk.post(reverse("admin:documents_templateoverride_deactivate_detail", args=[override.pk]))
    override.refresh_from_db()
    assert not override.is_active


def test_desk_hides_other_units_overrides(org, province):
    override = save(user("admin"), GOOD, unit=org["binhxuyen"])
    client = Client()
    client.force_login(user("quantri.vinhyen"))
    assert client.get(reverse("admin:documents_templateoverride_change", args=[override.pk])).status_code in (302, 404)
    assert client.get(reverse("admin:documents_templateoverride_preview_detail", args=[override.pk])).status_code == 404
    response = client.post(
        reverse("admin:documents_templateoverride_add"),
        {"form_key": "receipt", "unit": province.pk, "body": GOOD, "note": ""},
    )
    assert response.status_code == 200  # the province is not a choice for a city administrator
    assert TemplateOverride.objects.count() == 1


def test_rendering_an_override_needs_no_database_access(admin, province, django_assert_num_queries):
    override = save(admin, GOOD, unit=province)
    template = selectors.compiled_template(override)
    with django_assert_num_queries(0):
        rendering.render_html(template, context.sample_context("receipt"))
