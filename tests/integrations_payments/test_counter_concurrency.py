"""A counter payment under concurrency: a double click, and the gateway's "paid" notice for an attempt
still pending, all at once, pay the fee exactly once with one receipt (PostgreSQL only: the in-memory
SQLite test database fails table locks at once instead of waiting). A separate module because the
other counter tests share a module-wide demo organisation inside a transaction."""

import pytest
from django.db import connection

from motcua.dossiers.models import DossierEvent
from motcua.integrations.payments import services
from motcua.integrations.payments.models import FeeRequest, Payment, Receipt
from tests.integrations_payments.conftest import fees_with_open_attempts, paid_notice, run_at_once

ROUNDS = 4
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (see the docstring)"),
    pytest.mark.django_db(transaction=True),
]


def test_double_click_and_a_gateway_notice_at_once_pay_once():
    clerk, cases = fees_with_open_attempts(ROUNDS)

    outcomes: list[str] = []
    collected: list = []
    jobs = []
    for fee, attempt in cases:
        jobs += [lambda f=fee: collected.append(services.record_counter_payment(f, actor=clerk, method="cash"))] * 2
        jobs.append(lambda a=attempt: outcomes.append(services.handle_notice(paid_notice(a))))
    refused = run_at_once(jobs)

    # Per fee three tries, one wins: either one click (the other click and the notice lose) or the
    # notice (both clicks lose). Every losing click is told the fee is already paid.
    assert len(collected) + outcomes.count("applied") == ROUNDS
    assert len(collected) + len(refused) == 2 * ROUNDS
    assert all("đã được nộp" in message for message in refused)
    assert sorted(Receipt.objects.values_list("number", flat=True)) == list(range(1, ROUNDS + 1))
    for fee, _attempt in cases:
        fee.refresh_from_db()
        assert fee.status == FeeRequest.Status.PAID
        assert Payment.objects.filter(fee_request=fee, status="paid").count() == 1
        assert Receipt.objects.filter(fee_request=fee).count() == 1
        assert fee.dossier.events.filter(action=DossierEvent.Action.FEE_PAID).count() == 1
