"""A dossier in process with a fee to pay, the gateway simulator, and the settings that point to it."""

from decimal import Decimal

import pytest

from motcua.catalog.models import FeeLine, ProcedureVersion
from motcua.integrations.payments.simulator import GatewaySimulator
from tests.dossiers.conftest import (  # noqa: F401  (fixtures)
    _demo_module,
    _fresh_calendars,
    _media,
    birth,
    clerk,
    clerk_tamhop,
    demo_org,
    media,
    org,
    receive,
)

SECRET = "test-secret-123"


@pytest.fixture
def gateway_sim():
    sim = GatewaySimulator(secret=SECRET).start()
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _gateway_settings(settings, gateway_sim):
    settings.MOTCUA_PAYMENT = {"base_url": gateway_sim.base_url, "merchant_code": "MOTCUA", "secret": SECRET}


def set_fees(version: ProcedureVersion, amounts: list[Decimal]) -> None:
    """Published versions are immutable through save(); the fixture reopens it for a moment."""
    status = version.status
    ProcedureVersion.objects.filter(pk=version.pk).update(status=ProcedureVersion.Status.DRAFT)
    FeeLine.objects.filter(version=version).delete()
    for i, amount in enumerate(amounts):
        FeeLine.objects.create(version=version, name=f"Lệ phí {i + 1}", kind="charge", amount=amount)
    ProcedureVersion.objects.filter(pk=version.pk).update(status=status)


@pytest.fixture
def in_process(receive, clerk, birth):  # noqa: F811
    """A received dossier handed to processing, whose procedure charges 8 000 + 2 000 VND."""
    from motcua.dossiers import services

    set_fees(birth.version, [Decimal(8000), Decimal(2000)])
    dossier = receive()
    services.start_processing(dossier, actor=clerk)
    dossier.refresh_from_db()
    return dossier


def paid_notice(payment) -> dict:
    """The gateway's signed "paid" notice for ``payment``, as its server would send it."""
    from motcua.integrations.payments.gateway import signed

    fields = {
        "merchant_code": "MOTCUA",
        "merchant_trans_id": payment.txn_ref,
        "net_cost": int(payment.amount),
        "trans_id": f"GW-{payment.pk}",
        "response_code": "00",
        "method": "QR",
        "seq": 2,
    }
    return signed(fields, SECRET)


def fees_with_open_attempts(count: int) -> tuple[object, list[tuple[object, object]]]:
    """For the concurrency tests (their own transactions, so no module-wide demo): the demo organisation,
    then ``count`` dossiers in process, each with its 15 000 đ fee requested and an online attempt
    started. Returns the clerk and the (fee, attempt) pairs."""
    from motcua.dossiers import services as dossier_services
    from motcua.integrations.payments import services
    from motcua.org import demo
    from motcua.org.models import User
    from tests.dossiers.conftest import FORM, MONDAY, applicant, make_procedure

    demo.load()
    proc = make_procedure("1.001193")
    set_fees(proc.version, [Decimal(15000)])
    desk_clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    pairs = []
    for _ in range(count):
        dossier = dossier_services.receive_at_counter(
            clerk=desk_clerk,
            procedure_code=proc.code,
            applicant=applicant(),
            form_data=FORM,
            documents=proc.documents(),
            now=MONDAY,
        )
        dossier_services.start_processing(dossier, actor=desk_clerk)
        fee = services.request_fee(dossier, actor=desk_clerk)
        pairs.append((fee, services.start_payment(fee, return_url="http://x/r", ipn_url="http://x/i")[0]))
    return desk_clerk, pairs


def run_at_once(jobs) -> list[str]:
    """Start every job in its own thread behind one barrier and wait for all. Returns the messages of the
    refusals (ValidationError) the jobs met; any other exception fails the test."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connections

    refused: list[str] = []
    errors: list[BaseException] = []
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
    return refused
