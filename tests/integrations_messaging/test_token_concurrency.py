"""Two workers refreshing the Zalo token at once: one call to Zalo, the single-use refresh token
rotated once and stored, both get the same new access token (PostgreSQL only: row locks)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from motcua.integrations.messaging import adapters
from motcua.integrations.messaging.models import ZaloToken

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database for row locks"),
    pytest.mark.django_db(transaction=True),
]


def test_two_concurrent_refreshes_rotate_once(zalo_sim):
    ZaloToken.objects.create(
        app_id="app-1", access_token="old", refresh_token="rt-initial", expires_at=timezone.now() - timedelta(hours=1)
    )
    zalo_sim.delay = 0.3  # keep the first refresher inside its lock while the second arrives
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work() -> None:
        try:
            start.wait()
            results.append(adapters.refresh_zalo_token("old"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert zalo_sim.refresh_calls == 1
    row = ZaloToken.objects.get()
    assert results == [row.access_token, row.access_token]
    assert row.refresh_token != "rt-initial" and zalo_sim.refresh_tokens == {row.refresh_token}


def test_sequential_refresh_without_lock_would_fail(zalo_sim):
    """The control: reusing a rotated refresh token is refused by the simulator, so the test above can fail."""
    ZaloToken.objects.create(app_id="app-1", refresh_token="rt-initial", expires_at=None)
    adapters.refresh_zalo_token()
    ZaloToken.objects.update(refresh_token="rt-initial", expires_at=None)  # a lost rotation
    with pytest.raises(adapters.SendError):
        adapters.refresh_zalo_token()
