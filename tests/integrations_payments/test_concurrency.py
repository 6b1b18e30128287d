"""Receipt numbers gap-free and one receipt per payment under concurrent notices (PostgreSQL only:
the in-memory SQLite test database fails table locks at once instead of waiting)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from motcua.dossiers import services as dossier_services
from motcua.integrations.payments import services
from motcua.integrations.payments.gateway import signed
from motcua.integrations.payments.models import FeeRequest, Receipt
from motcua.org.models import User
from tests.dossiers.conftest import FORM, MONDAY, applicant, make_procedure
from tests.integrations_payments.conftest import SECRET, set_fees

DOSSIERS = 12
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (see the docstring)"),
    pytest.mark.django_db(transaction=True),
]


def _notice(payment) -> dict:
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


def _run(jobs) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def work(job) -> None:
        try:
            start.wait()
            job()
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


def test_concurrent_notices_number_receipts_gap_free_and_once():
    from motcua.org import demo

    demo.load()
    proc = make_procedure("1.001193")
    set_fees(proc.version, [Decimal(15000)])
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    payments = []
    for _ in range(DOSSIERS):
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
        payments.append(services.start_payment(fee, return_url="http://x/r", ipn_url="http://x/i")[0])
    # Every notice three times, all at once.
    jobs = [lambda p=p: services.handle_notice(_notice(p)) for p in payments for _ in range(3)]
    _run(jobs)
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == list(range(1, DOSSIERS + 1))
    assert FeeRequest.objects.filter(status="paid").count() == DOSSIERS
