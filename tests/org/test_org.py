"""Organisation rules: agency codes, the unit tree, roles, password expiry and the demo data."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from motcua.org import codes, services
from motcua.org.demo import DEMO_DOMAIN, demo_email
from motcua.org.models import AdministrativeLevel, AdministrativeUnit, Agency, Role, User


@pytest.mark.parametrize("code", ["000.00.24.H62", "000.A0.01.H26", "000.00.04.G14", "001.01.12.H62"])
def test_valid_agency_codes(code):
    assert codes.is_agency_code(code)


@pytest.mark.parametrize(
    "code", ["", "000.00.24.h62", "00.00.24.H62", "000.00.24.H6", "000-00-24-H62", "000.00.24.H62 ", "000.00.24.62H"]
)
def test_invalid_agency_codes(code):
    assert not codes.is_agency_code(code)


@pytest.mark.django_db
def test_saving_an_agency_with_a_bad_code_is_refused_in_vietnamese_and_saves_nothing(demo_org):
    agency = Agency(code="H62-000", name="Cơ quan thử", unit=demo_org["tinh"])
    with pytest.raises(ValidationError) as error:
        services.save_agency(agency)
    assert "không phải mã định danh cơ quan" in str(error.value.message_dict["code"])
    assert not Agency.objects.filter(name="Cơ quan thử").exists()


@pytest.mark.django_db
def test_desk_shows_the_code_error_and_keeps_nothing(demo_org):
    client = Client()
    client.force_login(User.objects.get(email=f"admin@{DEMO_DOMAIN}"))
    response = client.post(
        "/admin/org/agency/add/",
        {
            "name": "Cơ quan thử",
            "code": "12345",
            "kind": "other",
            "unit": demo_org["tinh"].pk,
            "departments-TOTAL_FORMS": 0,
            "departments-INITIAL_FORMS": 0,
            "counters-TOTAL_FORMS": 0,
            "counters-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "không phải mã định danh cơ quan" in response.content.decode()
    assert not Agency.objects.filter(name="Cơ quan thử").exists()


@pytest.mark.django_db
def test_both_the_four_level_and_the_two_level_structure_fit():
    levels = {
        code: AdministrativeLevel.objects.create(code=code, name=code, rank=rank)
        for code, rank in [("province", 1), ("district", 2), ("commune", 3)]
    }
    # 2025: province → commune directly, no district in between.
    province = services.save_unit(AdministrativeUnit(name="Tỉnh Phú Thọ", level=levels["province"]))
    commune = services.save_unit(AdministrativeUnit(name="Xã Tam Dương", level=levels["commune"], parent=province))
    assert commune.path == f"/{province.pk}/{commune.pk}/"
    assert commune.is_within(province)
    with pytest.raises(ValidationError):
        services.save_unit(AdministrativeUnit(name="Huyện ngược", level=levels["district"], parent=commune))


@pytest.mark.django_db
def test_moving_a_unit_moves_its_subtree(demo_org):
    commune = demo_org["lienbao"]
    district = demo_org["vinhyen"]
    other = demo_org["binhxuyen"]
    services.save_unit(commune)  # saving in place changes nothing
    assert commune.path == f"{district.path}{commune.pk}/"
    commune.parent = other
    services.save_unit(commune)
    commune.refresh_from_db()
    assert commune.path == f"{other.path}{commune.pk}/"
    assert User.objects.get(email=demo_email(Role.CLERK, "lienbao")).unit.is_within(other)


@pytest.mark.django_db
def test_a_unit_cannot_go_under_its_own_subtree(demo_org):
    district = demo_org["vinhyen"]
    district.parent = demo_org["lienbao"]
    with pytest.raises(ValidationError):
        services.save_unit(district)


@pytest.mark.django_db
def test_roles_decide_desk_access(demo_org):
    user = User.objects.get(email=demo_email(Role.CLERK, "tinh"))
    assert not user.is_staff
    services.set_roles(user, [Role.CLERK, Role.MONITOR])
    assert User.objects.get(pk=user.pk).is_staff
    services.set_roles(user, [Role.CLERK])
    assert not User.objects.get(pk=user.pk).is_staff
    with pytest.raises(ValueError):
        services.set_roles(user, ["emperor"])


@pytest.mark.django_db
def test_an_expired_password_must_be_changed_before_anything_else(demo_org, settings):
    settings.MOTCUA_PASSWORD_MAX_AGE_DAYS = 180
    user = User.objects.get(email=demo_email(Role.UNIT_ADMIN, "tinh"))
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 200

    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=181))
    response = client.get("/admin/org/user/")
    assert response.status_code == 302 and response.url == "/admin/password_change/"
    assert client.get("/admin/password_change/").status_code == 200
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": "motcua-demo-2026",
            "new_password1": "Mat-khau-moi-2027!",
            "new_password2": "Mat-khau-moi-2027!",
        },
        follow=True,
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert timezone.now() - user.password_changed_at < timedelta(minutes=1)
    assert client.get("/admin/org/user/").status_code == 200


@pytest.mark.django_db
def test_a_clerk_with_an_expired_password_changes_it_on_the_staff_page(demo_org, settings):
    # Clerks do not use the desk, whose password page would refuse them: no redirect loop.
    settings.MOTCUA_PASSWORD_MAX_AGE_DAYS = 180
    user = User.objects.get(email=demo_email(Role.CLERK, "lienbao"))
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=181))
    client = Client()
    client.force_login(user)
    response = client.get("/counter/")
    assert response.status_code == 302 and response.url == "/staff/password/"
    assert client.get("/staff/password/").status_code == 200
    response = client.post(
        "/staff/password/",
        {"old_password": "wrong", "new_password1": "Mat-khau-moi-2027!", "new_password2": "Mat-khau-moi-2027!"},
    )
    assert response.status_code == 200 and "Mật khẩu cũ" in response.content.decode()
    response = client.post(
        "/staff/password/",
        {
            "old_password": "motcua-demo-2026",
            "new_password1": "Mat-khau-moi-2027!",
            "new_password2": "Mat-khau-moi-2027!",
        },
    )
    assert response.status_code == 302 and response.url == "/counter/"
    user.refresh_from_db()
    assert timezone.now() - user.password_changed_at < timedelta(minutes=1)
    assert client.get("/counter/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "start"),
    [
        (Role.SYSTEM_ADMIN, "/admin/"),
        (Role.CLERK, "/counter/"),
        (Role.SPECIALIST, "/inbox/"),
        (None, "/staff/login/"),
    ],
)
def test_home_leads_each_person_to_their_screen(demo_org, role, start):
    client = Client()
    if role is not None:
        email = "admin@vinhphuc.gov.vn" if role == Role.SYSTEM_ADMIN else demo_email(role, "lienbao")
        client.force_login(User.objects.get(email=email))
    response = client.get("/staff/")
    assert response.status_code == 302 and response.url == start


@pytest.mark.django_db
def test_password_age_limit_can_be_switched_off(demo_org, settings):
    settings.MOTCUA_PASSWORD_MAX_AGE_DAYS = 0
    user = User.objects.get(email=demo_email(Role.UNIT_ADMIN, "tinh"))
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=1000))
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_demo_organisation_is_idempotent(demo_org):
    from motcua.org import demo

    counts = (User.objects.count(), Agency.objects.count(), AdministrativeUnit.objects.count())
    demo.load()
    assert counts == (User.objects.count(), Agency.objects.count(), AdministrativeUnit.objects.count())
    for role in [Role.UNIT_ADMIN, Role.CLERK, Role.SPECIALIST, Role.LEADER, Role.DOCUMENT_CLERK, Role.MONITOR]:
        for unit in demo.ONE_STOP:
            assert User.objects.get(email=demo_email(role, unit)).has_role(role)
    branch = Agency.objects.get(code="001.01.12.H62")
    assert branch.parent.code == "000.01.12.H62"
    assert list(branch.supervising_units.values_list("name", flat=True)) == ["Thành phố Vĩnh Yên"]
