"""The demo catalogue loads on the demo organisation's agencies, and loading it again changes nothing."""

import pytest

from motcua.catalog import demo, selectors
from motcua.catalog.models import Procedure, ProcedureVersion

pytestmark = pytest.mark.django_db


def test_demo_load_is_idempotent(org):
    demo.load()
    first = list(ProcedureVersion.objects.values_list("pk", "status", "number"))
    assert len(first) >= 8 and {status for _pk, status, _n in first} == {"published"}

    demo.load()
    assert list(ProcedureVersion.objects.values_list("pk", "status", "number")) == first
    assert Procedure.objects.count() == len(demo.PROCEDURES)


def test_demo_covers_the_kinds_and_levels(org):
    demo.load()
    versions = list(selectors.versions_with_content().filter(status="published"))
    kinds = {v.time_kind for v in versions}
    assert kinds == {"immediate", "same_day", "working_days"}
    assert any(v.resolution_days == 0.5 for v in versions)
    assert {level.code for v in versions for level in v.levels.all()} >= {"commune", "district", "province"}
    land = selectors.get_procedure("1.004227")
    assert {"000.21.31.H62", "001.01.12.H62", "000.01.12.H62"} <= {a.code for a in land.agencies.all()}
    for version in versions:
        assert version.components.exists() and version.fees.exists() and version.legal_basis
        assert 2 <= version.form_fields.count() <= 5
    assert any(fee.exemption_note for v in versions for fee in v.fees.all())
    assert selectors.get_procedure("1.001612").resolution_days == 3


def test_demo_needs_the_organisation(db):
    with pytest.raises(RuntimeError, match=r"Unknown|Không có"):
        demo.load()
    assert not Procedure.objects.exists()
