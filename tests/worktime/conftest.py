"""A small organisation tree for the calendar tests: a province with two districts."""

from dataclasses import dataclass

import pytest

from motcua.org import services
from motcua.org.models import AdministrativeLevel, AdministrativeUnit, Agency, Role, User, UserRole
from motcua.worktime import selectors


@dataclass
class Org:
    province: AdministrativeUnit
    district_a: AdministrativeUnit
    district_b: AdministrativeUnit
    commune_a: AdministrativeUnit
    province_agency: Agency
    agency_a: Agency
    agency_b: Agency


def make_unit(level: AdministrativeLevel, name: str, parent: AdministrativeUnit | None = None) -> AdministrativeUnit:
    return services.save_unit(AdministrativeUnit(level=level, name=name, parent=parent))


def make_user(email: str, unit: AdministrativeUnit, *roles: str) -> User:
    user = User.objects.create_user(email, password=None, full_name=email.split("@")[0], unit=unit, is_staff=True)
    for role in roles:
        UserRole.objects.create(user=user, role=role)
    return user


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    selectors.clear_cache()
    yield
    selectors.clear_cache()


@pytest.fixture
def org(db) -> Org:
    province_level = AdministrativeLevel.objects.create(code="province", name="Cấp tỉnh", rank=1)
    district_level = AdministrativeLevel.objects.create(code="district", name="Cấp huyện", rank=2)
    commune_level = AdministrativeLevel.objects.create(code="commune", name="Cấp xã", rank=3)
    province = make_unit(province_level, "Tỉnh Vĩnh Phúc")
    district_a = make_unit(district_level, "Thành phố Vĩnh Yên", province)
    district_b = make_unit(district_level, "Huyện Bình Xuyên", province)
    commune_a = make_unit(commune_level, "Phường Liên Bảo", district_a)
    return Org(
        province=province,
        district_a=district_a,
        district_b=district_b,
        commune_a=commune_a,
        province_agency=Agency.objects.create(unit=province, code="000.00.24.H62", name="Trung tâm PVHCC tỉnh"),
        agency_a=Agency.objects.create(unit=commune_a, code="001.31.31.H62", name="UBND phường Liên Bảo"),
        agency_b=Agency.objects.create(unit=district_b, code="000.00.35.H62", name="UBND huyện Bình Xuyên"),
    )


@pytest.fixture
def unit_admin_a(org: Org) -> User:
    return make_user("admin.a@vinhphuc.gov.vn", org.district_a, Role.UNIT_ADMIN)


@pytest.fixture
def unit_admin_b(org: Org) -> User:
    return make_user("admin.b@vinhphuc.gov.vn", org.district_b, Role.UNIT_ADMIN)
