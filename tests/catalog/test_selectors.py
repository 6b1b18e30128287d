"""Search over current versions ignores diacritics and case; filters combine."""

import pytest

from motcua.catalog import selectors, services
from motcua.catalog.models import Field
from tests.catalog.factories import DISTRICT_FINANCE, make_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(org):
    make_procedure("1.001193", name="Đăng ký khai sinh")
    make_procedure("1.000894", name="Đăng ký kết hôn", online_level="partial")
    Field.objects.create(code="HKD", name="Hộ kinh doanh")
    make_procedure(
        "1.001612",
        name="Đăng ký thành lập hộ kinh doanh",
        field="HKD",
        levels=["district"],
        agencies=[DISTRICT_FINANCE],
        time_kind="working_days",
        resolution_days=3,
    )
    make_procedure("2.000635", name="Cấp bản sao trích lục hộ tịch", publish=False)  # a draft: never listed


def codes_of(versions) -> list[str]:
    return [version.procedure.code for version in versions]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dang ky khai sinh", ["1.001193"]),
        ("KHAI SINH", ["1.001193"]),
        ("Đăng ký", ["1.000894", "1.001193", "1.001612"]),
        ("ĐĂNG KÝ KẾT HÔN", ["1.000894"]),
        ("ket   hon", ["1.000894"]),
        ("kinh doanh dang ky", ["1.001612"]),
        ("1.001193", ["1.001193"]),
        ("1.001193.000.00.00.H62", ["1.001193"]),
        ("001612", ["1.001612"]),
        ("trich luc", []),
        ("khai tu", []),
    ],
)
def test_search_ignores_diacritics_and_case(catalogue, query, expected):
    assert codes_of(selectors.search_procedures(q=query)) == expected


def test_filters_by_field_level_agency_and_online_level(catalogue):
    assert codes_of(selectors.search_procedures(field="HKD")) == ["1.001612"]
    assert codes_of(selectors.search_procedures(level="commune")) == ["1.000894", "1.001193"]
    assert codes_of(selectors.search_procedures(agency=DISTRICT_FINANCE)) == ["1.001612"]
    assert codes_of(selectors.search_procedures(online_level="partial")) == ["1.000894"]
    assert codes_of(selectors.search_procedures(q="dang ky", level="district", online_level="full")) == ["1.001612"]


def test_only_the_current_version_is_found(catalogue):
    first = selectors.get_procedure("1.001193")
    draft = services.new_draft(first.procedure)
    services.update_draft(draft, name="Đăng ký khai sinh lưu động")
    assert codes_of(selectors.search_procedures(q="luu dong")) == []
    services.publish(draft)
    assert [v.number for v in selectors.search_procedures(q="khai sinh")] == [2]
    assert selectors.get_procedure("1.001193.000.00.00.H62").number == 2
    assert selectors.get_procedure("2.000635") is None
    assert selectors.get_procedure("not a code") is None
