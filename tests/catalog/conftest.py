import pytest

from tests.catalog.factories import build_org


@pytest.fixture
def org(db):
    return build_org()


@pytest.fixture
def en():
    """Messages in English for assertions on their wording (the default language is Vietnamese)."""
    from django.utils import translation

    with translation.override("en"):
        yield
