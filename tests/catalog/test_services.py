"""Creating, versioning and publishing procedures: clear messages, nothing half-saved, history kept."""

import unicodedata
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from motcua.catalog import services
from motcua.catalog.models import (
    DocumentComponent,
    FeeLine,
    FormField,
    ImmutableVersionError,
    Procedure,
    ProcedureVersion,
)
from tests.catalog.factories import make_procedure

pytestmark = pytest.mark.django_db


def nothing_saved() -> bool:
    return not any(
        model.objects.exists() for model in (Procedure, ProcedureVersion, DocumentComponent, FeeLine, FormField)
    )


def messages(exc: pytest.ExceptionInfo) -> str:
    return " | ".join(services.messages_of(exc.value, ProcedureVersion))


def test_a_procedure_is_created_and_published(org):
    version = make_procedure()
    procedure = version.procedure
    assert procedure.current_version == version
    assert version.status == ProcedureVersion.Status.PUBLISHED and version.number == 1
    assert version.published_at is not None
    assert [c.order for c in version.components.all()] == [1, 2]
    assert version.form_fields.get(name="gioi_tinh").choice_list == ["Nam", "Nữ"]
    assert version.local_code() == "1.001193.000.00.00.H62"
    assert version.history.exists()


@pytest.mark.parametrize("code", ["1.0011", "x.001193", "01.001193", "1.001193.000.00.00.H62.02", ""])
def test_an_invalid_code_is_refused_and_nothing_is_saved(org, en, code):
    with pytest.raises(ValidationError) as exc:
        make_procedure(code)
    assert "national form D.NNNNNN, e.g. 1.001193" in messages(exc) or "cannot be blank" in messages(exc)
    assert nothing_saved()


def test_a_duplicate_code_is_refused(org, en):
    make_procedure()
    with pytest.raises(ValidationError) as exc:
        make_procedure(name="Khác")
    assert "already exists" in messages(exc)
    assert ProcedureVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"time_kind": "working_days", "resolution_days": -1}, "cannot be negative"),
        ({"time_kind": "working_days", "resolution_days": 1000}, "cannot be longer than 365 working days"),
        ({"time_kind": "working_days", "resolution_days": Decimal("0.3")}, "multiple of 0.5"),
        ({"time_kind": "working_days", "resolution_days": 0}, "Only an immediate procedure"),
        ({"time_kind": "immediate", "resolution_days": 2}, "immediate procedure has a resolution time of 0"),
        ({"time_kind": "same_day", "resolution_days": 3}, "same-day procedure is resolved within one working day"),
        ({"time_kind": "working_days", "resolution_days": None}, "Enter the resolution time"),
        ({"name": "   "}, "Name: This field cannot be blank"),
        ({"agencies": ["000.99.99.H62"]}, "Unknown agency codes: 000.99.99.H62"),
        ({"levels": ["hamlet"]}, "Unknown administrative level codes: hamlet"),
        ({"form_fields": [{"name": "", "label": "Họ tên"}]}, "Form field 1: Key: This field cannot be blank"),
        ({"form_fields": [{"name": "Họ tên", "label": "Họ tên"}]}, "Form field 1: Key: Use lower-case Latin letters"),
        (
            {"form_fields": [{"name": "ho_ten", "label": "A"}, {"name": "ho_ten", "label": "B"}]},
            "The form field key “ho_ten” is used more than once",
        ),
        ({"form_fields": [{"name": "gioi_tinh", "label": "Giới tính", "type": "choice"}]}, "needs its choices"),
        ({"form_fields": [{"name": "x", "label": "X", "type": "colour"}]}, "Form field 1: Type: Value 'colour'"),
        ({"components": [{"name": "Giấy tờ", "requirement": "conditional"}]}, "Document 1: Condition: Say when"),
        ({"components": [{"name": "Giấy tờ", "originals": -1}]}, "Document 1: Originals:"),
        ({"fees": [{"name": "Lệ phí", "amount": -5}]}, "Fee 1: Amount (VND):"),
        ({"fees": [{"name": "Lệ phí", "amount": "abc"}]}, "Fee 1: Amount (VND):"),
    ],
)
def test_bad_content_gets_a_clear_message_and_nothing_is_saved(org, en, overrides, expected):
    with pytest.raises(ValidationError) as exc:
        make_procedure(**overrides)
    assert expected in messages(exc)
    assert nothing_saved()


def test_several_problems_are_reported_together(org, en):
    with pytest.raises(ValidationError) as exc:
        make_procedure(
            time_kind="working_days",
            resolution_days=Decimal("0.3"),
            form_fields=[{"name": "", "label": "A"}, {"name": "b", "label": "B", "type": "choice"}],
        )
    text = messages(exc)
    assert "multiple of 0.5" in text and "Form field 1" in text and "Form field 2" in text
    assert nothing_saved()


def test_half_days_and_same_day_limits_are_accepted(org):
    half = make_procedure("2.000635", time_kind="working_days", resolution_days=Decimal("0.5"))
    same_day = make_procedure("2.000815", time_kind="same_day", resolution_days=1)
    assert half.resolution_days == Decimal("0.5")
    assert same_day.same_day_cutoff.strftime("%H:%M") == "15:00"


def test_text_is_nfc_normalised_and_folded_for_search(org):
    decomposed = unicodedata.normalize("NFD", "  Đăng   ký khai sinh ")
    version = make_procedure(
        name=decomposed, form_fields=[{"name": "ho_ten", "label": unicodedata.normalize("NFD", "Họ tên")}]
    )
    assert version.name == "Đăng ký khai sinh"
    assert unicodedata.is_normalized("NFC", version.form_fields.get().label)
    assert version.search_text == "1.001193 dang ky khai sinh"


def test_publishing_needs_a_field_and_an_agency_or_level(org, en):
    draft = make_procedure(publish=False, field=None, agencies=[], levels=[])
    with pytest.raises(ValidationError) as exc:
        services.publish(draft)
    text = messages(exc)
    assert "Choose the field of activity" in text
    assert "at least one implementing agency or administrative level" in text
    draft.refresh_from_db()
    assert draft.status == ProcedureVersion.Status.DRAFT
    assert draft.procedure.current_version is None


def _snapshot(version: ProcedureVersion) -> dict:
    row = dict(ProcedureVersion.objects.filter(pk=version.pk).values().get())
    row.pop("status")
    return {
        "version": row,
        "levels": list(version.levels.values_list("pk", flat=True)),
        "agencies": list(version.agencies.values_list("pk", flat=True)),
        "components": list(DocumentComponent.objects.filter(version=version).values()),
        "fees": list(FeeLine.objects.filter(version=version).values()),
        "form_fields": list(FormField.objects.filter(version=version).values()),
    }


def test_a_new_version_leaves_the_old_one_untouched(org):
    first = make_procedure()
    before = _snapshot(first)

    draft = services.new_draft(first.procedure)
    assert (draft.number, draft.status) == (2, ProcedureVersion.Status.DRAFT)
    assert [model_to_dict(c, exclude=["id", "version"]) for c in draft.components.all()] == [
        model_to_dict(c, exclude=["id", "version"]) for c in first.components.all()
    ]
    assert list(draft.fees.values_list("name", "amount")) == list(first.fees.values_list("name", "amount"))
    assert list(draft.form_fields.values_list("name", "choices")) == list(
        first.form_fields.values_list("name", "choices")
    )
    assert set(draft.agencies.all()) == set(first.agencies.all())

    services.update_draft(
        draft,
        name="Đăng ký khai sinh (sửa đổi)",
        fees=[{"name": "Lệ phí đăng ký khai sinh", "amount": 8000}],
        form_fields=[{"name": "ho_ten", "label": "Họ và tên"}],
    )
    services.publish(draft)

    first.refresh_from_db()
    assert first.status == ProcedureVersion.Status.RETIRED
    assert _snapshot(first) == before
    procedure = Procedure.objects.get()
    assert procedure.current_version_id == draft.pk
    assert list(procedure.current_version.fees.values_list("amount", flat=True)) == [8000]


def test_a_published_version_is_read_only(org, en):
    version = make_procedure()
    with pytest.raises(ValidationError, match="create a new version"):
        services.update_draft(version, name="Đổi tên")
    version.name = "Đổi tên"
    with pytest.raises(ImmutableVersionError):
        version.save()
    component = version.components.first()
    component.name = "Đổi"
    with pytest.raises(ImmutableVersionError):
        component.save()
    with pytest.raises(ImmutableVersionError):
        component.delete()
    with pytest.raises(ImmutableVersionError):
        FormField.objects.create(version=version, name="them", label="Thêm")
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.publish(version)
    assert ProcedureVersion.objects.get().name == "Đăng ký khai sinh"


def test_one_draft_at_a_time(org, en):
    version = make_procedure()
    services.new_draft(version.procedure)
    with pytest.raises(ValidationError, match="already a draft"):
        services.new_draft(version.procedure)
    assert ProcedureVersion.objects.count() == 2


def test_a_draft_can_be_deleted_but_not_a_published_version(org):
    version = make_procedure()
    draft = services.new_draft(version.procedure)
    services.delete_draft(draft)
    assert list(ProcedureVersion.objects.all()) == [version]
    with pytest.raises(ValidationError):
        services.delete_draft(version)
