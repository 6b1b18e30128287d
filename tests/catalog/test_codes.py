"""Procedure codes are pure functions: the national form, the province's local form and back."""

import pytest

from motcua.catalog import codes


@pytest.mark.parametrize("code", ["1.001193", "2.000815", "3.000181", "9.999999"])
def test_national_codes_are_accepted(code):
    assert codes.is_procedure_code(code)


@pytest.mark.parametrize(
    "code", ["", "1.00119", "1.0011930", "0.001193", "1,001193", "A.001193", " 1.001193", "1.001193.000.00.00.H62"]
)
def test_malformed_national_codes_are_refused(code):
    assert not codes.is_procedure_code(code)


def test_local_code_is_built_from_a_province_group_or_an_agency_code():
    assert codes.local_code("1.001234", "H62") == "1.001234.000.00.00.H62"
    assert codes.local_code("1.001234", "000.00.24.h62") == "1.001234.000.00.00.H62"


@pytest.mark.parametrize(("code", "province"), [("1.00123", "H62"), ("1.001234", "62"), ("1.001234", "HH2")])
def test_local_code_refuses_bad_parts(code, province):
    with pytest.raises(ValueError, match="is not a"):
        codes.local_code(code, province)


def test_local_code_parses_back():
    assert codes.parse_local_code("1.011442.000.00.00.H38") == ("1.011442", "H38")
    assert codes.is_local_code("2.000815.000.00.00.H55")
    # The online-service code adds a suffix: it is not a procedure code.
    assert not codes.is_local_code("2.000815.000.00.00.H55.02")
    with pytest.raises(ValueError, match="local procedure code"):
        codes.parse_local_code("2.000815.000.00.00.H55.02")


def test_national_code_accepts_both_forms():
    assert codes.national_code(" 1.001193 ") == "1.001193"
    assert codes.national_code("1.001193.000.00.00.H62") == "1.001193"
    assert codes.national_code("khai sinh") is None
