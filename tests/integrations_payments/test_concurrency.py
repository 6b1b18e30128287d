"""Receipt numbers gap-free and one receipt per payment under concurrent notices (PostgreSQL only:
the in-memory SQLite test database fails table locks at once instead of waiting)."""

import pytest
from django.db import connection

from motcua.integrations.payments import services
from motcua.integrations.payments.models import FeeRequest, Receipt
from tests.integrations_payments.conftest import fees_with_open_attempts, paid_notice, run_at_once

DOSSIERS = 12
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (see the docstring)"),
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_notices_number_receipts_gap_free_and_once():
    _clerk, pairs = fees_with_open_attempts(DOSSIERS)
    payments = [attempt for _fee, attempt in pairs]
    # Every notice three times, all at once.
    jobs = [lambda p=p: services.handle_notice(paid_notice(p)) for p in payments for _ in range(3)]
    assert run_at_once(jobs) == []  # a notice is never refused
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == list(range(1, DOSSIERS + 1))
    assert FeeRequest.objects.filter(status="paid").count() == DOSSIERS
