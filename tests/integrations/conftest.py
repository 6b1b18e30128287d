"""Fixtures for the national-portal tests: a real simulator on 127.0.0.1 and a connection to it.

The dossier fixtures (demo organisation, a birth-registration procedure, ``receive``) come from
the dossier tests' conftest, so dossiers are made by the real intake service.
"""

import pytest

from motcua.integrations.models import NationalPortalConfig
from motcua.integrations.national import client as national_client
from motcua.integrations.national import services
from motcua.integrations.national.simulator import Credentials, NationalPortalSimulator
from tests.dossiers.conftest import (  # noqa: F401  (fixtures)
    _demo_module,
    _fresh_calendars,
    _media,
    birth,
    clerk,
    demo_org,
    org,
    receive,
)

UNIT = "000.00.24.H62"
CREDENTIALS = Credentials(
    username="lgsp-vinhphuc", password="mật-khẩu-thử", client_id="motcua-h62", client_secret="bi-mat-ung-dung-7Qx"
)


@pytest.fixture(autouse=True)
def _fresh_tokens():
    national_client.TOKENS.clear()
    services._CLIENTS.clear()
    yield
    national_client.TOKENS.clear()
    services._CLIENTS.clear()


@pytest.fixture
def simulator():
    with NationalPortalSimulator(credentials=CREDENTIALS, unit_code=UNIT, seed=7) as sim:
        yield sim


@pytest.fixture
def credentials_env(monkeypatch):
    monkeypatch.setenv("MOTCUA_NATIONAL_USERNAME", CREDENTIALS.username)
    monkeypatch.setenv("MOTCUA_NATIONAL_PASSWORD", CREDENTIALS.password)
    monkeypatch.setenv("MOTCUA_NATIONAL_CLIENT_ID", CREDENTIALS.client_id)
    monkeypatch.setenv("MOTCUA_NATIONAL_CLIENT_SECRET", CREDENTIALS.client_secret)
    monkeypatch.setenv("MOTCUA_NATIONAL_INBOUND_TOKEN", "token-cua-cong-quoc-gia")


def configure(url: str, **values) -> NationalPortalConfig:
    """The connection switched on and pointed at ``url``, with fast retries for tests."""
    config = services.get_config()
    settings = {
        "enabled": True,
        "base_url": url,
        "unit_code": UNIT,
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "retry_base_seconds": 0.01,
        "retry_max_seconds": 0.05,
        "max_attempts": 3,
        "batch_size": 50,
        **values,
    }
    for name, value in settings.items():
        setattr(config, name, value)
    config.save()
    return config


@pytest.fixture
def portal(db, simulator, credentials_env):
    """The simulator with our connection configured to it (session login)."""
    configure(simulator.url)
    return simulator
