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
