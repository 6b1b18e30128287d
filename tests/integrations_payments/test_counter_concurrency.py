"""A counter payment under concurrency: a double click, and the gateway's "paid" notice for an attempt
still pending, all at once, pay the fee exactly once with one receipt (PostgreSQL only: the in-memory
SQLite test database fails table locks at once instead of waiting). A separate module because the
other counter tests share a module-wide demo organisation inside a transaction."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import DossierEvent
from motcua.integrations.payments import services
from motcua.integrations.payments.gateway import signed
from motcua.integrations.payments.models import FeeRequest, Payment, Receipt
from motcua.org.models import User
from tests.dossiers.conftest import FORM, MONDAY, applicant, make_procedure
from tests.integrations_payments.conftest import SECRET, set_fees

ROUNDS = 4
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (see the docstring)"),
    pytest.mark.django_db(transaction=True),
]


def _paid_notice(payment) -> dict:
    return signed(
        {
            "merchant_code": "MOTCUA",
            "merchant_trans_id": payment.txn_ref,
            "net_cost": int(payment.amount),
            "trans_id": f"GW-{payment.pk}",
            "response_code": "00",
            "method": "QR",
            "seq": 2,
        },
        SECRET,
    )


def test_double_click_and_a_gateway_notice_at_once_pay_once():
    from motcua.org import demo

    demo.load()
    proc = make_procedure("1.001193")
    set_fees(proc.version, [Decimal(15000)])
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    cases = []
    for _ in range(ROUNDS):
        dossier = dossier_services.receive_at_counter(
            clerk=clerk,
            procedure_code=proc.code,
            applicant=applicant(),
            form_data=FORM,
            documents=proc.documents(),
            now=MONDAY,
        )
        dossier_services.start_processing(dossier, actor=clerk)
        fee = services.request_fee(dossier, actor=clerk)
        attempt, _url = services.start_payment(fee, return_url="http://x/r", ipn_url="http://x/i")
        cases.append((fee, attempt))

    outcomes: list[str] = []
    collected: list = []
    errors: list[BaseException] = []
    jobs = []
    for fee, attempt in cases:
        jobs += [lambda f=fee: collected.append(services.record_counter_payment(f, actor=clerk, method="cash"))] * 2
        jobs.append(lambda a=attempt: outcomes.append(services.handle_notice(_paid_notice(a))))
    refused: list[str] = []
    start = threading.Barrier(len(jobs))

    def work(job) -> None:
        try:
            start.wait()
            job()
        except ValidationError as exc:
            refused.append(" ".join(exc.messages))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
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
