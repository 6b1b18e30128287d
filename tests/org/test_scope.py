"""A unit administrator sees and changes only their own unit subtree, in the desk and in queries."""

import pytest
from django.test import Client

from motcua.org import selectors
from motcua.org.demo import DEMO_DOMAIN, demo_email
from motcua.org.models import AdministrativeUnit, Agency, Role, User

pytestmark = pytest.mark.django_db


def login(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


@pytest.fixture
def vinhyen_admin(demo_org) -> Client:
    return login(demo_email(Role.UNIT_ADMIN, "vinhyen"))


def test_selectors_limit_a_unit_admin_to_their_subtree(demo_org):
    admin = User.objects.get(email=demo_email(Role.UNIT_ADMIN, "vinhyen"))
    units = set(selectors.units_in_scope(admin).values_list("name", flat=True))
    assert units == {"Thành phố Vĩnh Yên", "Phường Liên Bảo", "Phường Tích Sơn"}
    agency_codes = set(selectors.agencies_in_scope(admin).values_list("code", flat=True))
    assert "000.21.31.H62" in agency_codes and "000.00.32.H62" not in agency_codes
    emails = set(selectors.users_in_scope(admin).values_list("email", flat=True))
    assert demo_email(Role.CLERK, "lienbao") in emails
    assert demo_email(Role.CLERK, "tamhop") not in emails
    assert f"admin@{DEMO_DOMAIN}" not in emails


def test_system_admin_sees_everything(demo_org):
    root = User.objects.get(email=f"admin@{DEMO_DOMAIN}")
    assert selectors.users_in_scope(root).count() == User.objects.count()
    assert selectors.units_in_scope(root).count() == AdministrativeUnit.objects.count()


def test_citizens_and_unit_less_users_see_no_organisation(demo_org):
    citizen = User.objects.get(email="nguyenvanan@example.vn")
    assert not selectors.units_in_scope(citizen).exists()
    assert not selectors.users_in_scope(citizen).exists()


def test_desk_lists_only_users_in_scope(vinhyen_admin):
    page = vinhyen_admin.get("/admin/org/user/?all=")
    assert page.status_code == 200
    body = page.content.decode()
    assert demo_email(Role.CLERK, "lienbao") in body
    assert demo_email(Role.CLERK, "tamhop") not in body
    assert demo_email(Role.CLERK, "tinh") not in body


def test_desk_refuses_to_open_or_change_a_user_outside_scope(vinhyen_admin):
    outsider = User.objects.get(email=demo_email(Role.CLERK, "tamhop"))
    assert vinhyen_admin.get(f"/admin/org/user/{outsider.pk}/change/").status_code in (302, 404)
    response = vinhyen_admin.post(
        f"/admin/org/user/{outsider.pk}/change/", {"email": outsider.email, "full_name": "Đổi tên"}
    )
    assert response.status_code in (302, 403, 404)
    outsider.refresh_from_db()
    assert outsider.full_name != "Đổi tên"
    assert vinhyen_admin.post(f"/admin/org/user/{outsider.pk}/password/", {}).status_code in (302, 403, 404)


def test_desk_refuses_agencies_and_units_outside_scope(vinhyen_admin):
    other = Agency.objects.get(code="000.00.32.H62")
    assert vinhyen_admin.get(f"/admin/org/agency/{other.pk}/change/").status_code in (302, 404)
    body = vinhyen_admin.get("/admin/org/agency/").content.decode()
    assert "000.21.31.H62" in body and "000.22.32.H62" not in body
    province = AdministrativeUnit.objects.get(name="Tỉnh Vĩnh Phúc")
    assert vinhyen_admin.get(f"/admin/org/administrativeunit/{province.pk}/change/").status_code in (302, 404)


def test_unit_admin_cannot_create_a_user_in_another_district(vinhyen_admin):
    other_unit = AdministrativeUnit.objects.get(name="Xã Tam Hợp")
    response = vinhyen_admin.post(
        "/admin/org/user/add/",
        {
            "email": "moi@vinhphuc.gov.vn",
            "full_name": "Người Mới",
            "unit": other_unit.pk,
            "password1": "mat-khau-rat-dai-2026",
            "password2": "mat-khau-rat-dai-2026",
            "roles-TOTAL_FORMS": "0",
            "roles-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not User.objects.filter(email="moi@vinhphuc.gov.vn").exists()


def test_unit_admin_can_create_a_user_inside_scope_but_not_a_system_admin(vinhyen_admin):
    commune = AdministrativeUnit.objects.get(name="Phường Tích Sơn")
    data = {
        "email": "moi@vinhphuc.gov.vn",
        "full_name": "Người Mới",
        "unit": commune.pk,
        "password1": "mat-khau-rat-dai-2026",
        "password2": "mat-khau-rat-dai-2026",
        "roles-TOTAL_FORMS": "1",
        "roles-INITIAL_FORMS": "0",
        "roles-0-role": Role.SYSTEM_ADMIN,
    }
    response = vinhyen_admin.post("/admin/org/user/add/", data)
    assert response.status_code == 200
    assert not User.objects.filter(email="moi@vinhphuc.gov.vn").exists()

    data["roles-0-role"] = Role.CLERK
    response = vinhyen_admin.post("/admin/org/user/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(email="moi@vinhphuc.gov.vn")
    assert created.unit == commune and created.has_role(Role.CLERK) and not created.is_staff


def test_clerks_and_citizens_cannot_enter_the_desk(demo_org):
    for email in (demo_email(Role.CLERK, "lienbao"), "nguyenvanan@example.vn"):
        assert login(email).get("/admin/org/user/").status_code == 302
