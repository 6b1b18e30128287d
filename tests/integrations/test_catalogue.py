"""Refreshing the catalogue from the national procedure database: a diff to review, never applied silently."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from motcua.catalog.models import Field, Procedure, ProcedureVersion
from motcua.integrations.models import NationalProcedureChange
from motcua.integrations.national import services
from motcua.org.models import User
from tests.dossiers.conftest import make_procedure

State = NationalProcedureChange.State


def record(code: str, name: str, field_code: str = "G09-TP01", field_name: str = "Hộ tịch") -> dict:
    return {"MATTHC": code, "TENTTHC": name, "LINHVUCTHUCHIEN": [{"MALINHVUC": field_code, "TENLINHVUC": field_name}]}


@pytest.fixture
def admin_user(org) -> User:
    return User.objects.get(email="admin@vinhphuc.gov.vn")


@pytest.fixture
def catalogue(portal, birth):
    field = Field.objects.create(code="HO_TICH", name="Hộ tịch")
    ProcedureVersion.objects.filter(pk=birth.version.pk).update(field=field)
    marriage = make_procedure("1.000894", name="Đăng ký kết hôn")
    ProcedureVersion.objects.filter(pk=marriage.version.pk).update(field=field)
    portal.set_procedures(
        [
            record("1.001193", "Đăng ký khai sinh (sửa đổi theo Quyết định 1234/QĐ-BTP)"),
            record("1.000894", "Đăng ky\u0301 kê\u0301t hôn"),  # the same name, decomposed accents
            record("1.012345", "Đăng ký giám hộ", "G09-TP02", "Nuôi con nuôi và giám hộ"),
        ]
    )
    return portal


def test_a_refresh_lists_new_and_changed_procedures_and_changes_nothing(catalogue, birth):
    report = services.refresh_catalogue()
    assert (report.national, report.new, report.changed) == (3, 1, 1)
    changes = {c.code: c for c in NationalProcedureChange.objects.all()}
    assert set(changes) == {"1.001193", "1.012345"}
    changed = changes["1.001193"]
    assert (changed.kind, changed.state) == ("changed", State.PENDING)
    assert changed.current["name"] == "Đăng ký khai sinh"
    assert changed.proposed["name"] == "Đăng ký khai sinh (sửa đổi theo Quyết định 1234/QĐ-BTP)"
    assert changes["1.012345"].kind == "new" and changes["1.012345"].current == {}
    # Never applied silently.
    birth.version.refresh_from_db()
    assert birth.version.name == "Đăng ký khai sinh"
    assert not Procedure.objects.filter(code="1.012345").exists()
    # A second refresh with the same national data adds nothing.
    services.refresh_catalogue()
    assert NationalProcedureChange.objects.count() == 2


def test_accepting_a_change_publishes_a_new_version(catalogue, birth, admin_user):
    services.refresh_catalogue()
    change = NationalProcedureChange.objects.get(code="1.001193")
    message = services.accept_change(change, actor=admin_user)
    assert "published" in message or "công bố" in message
    procedure = Procedure.objects.get(code="1.001193")
    current = procedure.current_version
    assert current.number == 2
    assert current.name == "Đăng ký khai sinh (sửa đổi theo Quyết định 1234/QĐ-BTP)"
    assert current.field.name == "Hộ tịch"
    assert current.components.count() == 3  # copied from the previous version
    birth.version.refresh_from_db()
    assert birth.version.status == ProcedureVersion.Status.RETIRED  # kept for the dossiers received under it
    change.refresh_from_db()
    assert (change.state, change.decided_by) == (State.ACCEPTED, admin_user)
    with pytest.raises(ValidationError):
        services.accept_change(change, actor=admin_user)


def test_accepting_a_new_procedure_creates_a_draft_to_complete(catalogue, admin_user):
    services.refresh_catalogue()
    services.accept_change(NationalProcedureChange.objects.get(code="1.012345"), actor=admin_user)
    procedure = Procedure.objects.get(code="1.012345")
    assert procedure.current_version is None
    draft = procedure.versions.get()
    assert (draft.status, draft.name, draft.field.name) == ("draft", "Đăng ký giám hộ", "Nuôi con nuôi và giám hộ")
    assert Field.objects.get(name="Nuôi con nuôi và giám hộ").code == "G09-TP02"


def test_a_rejected_change_is_not_proposed_again(catalogue, admin_user):
    services.refresh_catalogue()
    change = NationalProcedureChange.objects.get(code="1.012345")
    services.reject_change(change, actor=admin_user)
    services.refresh_catalogue()
    assert NationalProcedureChange.objects.filter(code="1.012345").count() == 1
    # A different proposal later is shown again.
    catalogue.set_procedures([record("1.012345", "Đăng ký giám hộ (mới)")])
    report = services.refresh_catalogue()
    assert report.new == 1
    assert NationalProcedureChange.objects.filter(code="1.012345", state=State.PENDING).count() == 1
    # The pending change of 1.001193 no longer differs from the national data: superseded.
    assert NationalProcedureChange.objects.get(code="1.001193").state == State.SUPERSEDED


def test_only_the_province_administrator_decides(catalogue, org):
    services.refresh_catalogue()
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    unit_admin = User.objects.get(email="quantri.vinhyen@vinhphuc.gov.vn")
    change = NationalProcedureChange.objects.first()
    for user in (clerk, unit_admin):
        with pytest.raises(PermissionDenied):
            services.accept_change(change, actor=user)
        with pytest.raises(PermissionDenied):
            services.reject_change(change, actor=user)
    assert NationalProcedureChange.objects.filter(state=State.PENDING).count() == 2
