"""Gap-free codes under concurrent intake (invariant 3).

PostgreSQL only: the SQLite test database is in memory with a shared cache, whose table locks
fail at once instead of waiting, so threads there test the test database, not the code. (On a
file database SQLite's IMMEDIATE transactions serialise writers, see settings.)
"""

import threading

import pytest
from django.db import connection, connections

from motcua.dossiers import services
from motcua.dossiers.models import Dossier, DossierCodeSequence, DossierEvent
from motcua.org.models import User
from tests.dossiers.conftest import FORM, LIENBAO, MONDAY, applicant, make_procedure

THREADS = 20
PER_THREAD = 25


@pytest.fixture
def committed_org(transactional_db):
    """The demo organisation committed, so the threads' own connections see it."""
    from motcua.org import demo

    return demo.load()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (see the module docstring)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_gives_gap_free_codes(committed_org):
    proc = make_procedure("1.001193")
    documents = proc.documents()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work() -> None:
        try:
            clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
            start.wait()
            for _ in range(PER_THREAD):
                services.receive_at_counter(
                    clerk=clerk,
                    procedure_code=proc.code,
                    applicant=applicant(),
                    form_data=FORM,
                    documents=documents,
                    now=MONDAY,
                )
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = THREADS * PER_THREAD
    codes = sorted(Dossier.objects.values_list("code", flat=True))
    assert codes == [f"{LIENBAO}-261130-{n:04d}" for n in range(1, total + 1)]
    assert DossierCodeSequence.objects.get().last_number == total
    assert DossierEvent.objects.count() == total
