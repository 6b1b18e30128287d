"""Two concurrent repeats of a counter intake with the same idempotency key receive one dossier.

PostgreSQL only, and in a module of its own: the other dossier tests share a module-wide demo
organisation inside a transaction, which the threads' connections could not see.
"""

import threading

import pytest
from django.db import connection, connections

from motcua.dossiers import services
from motcua.dossiers.models import Dossier, DossierCodeSequence, DossierEvent
from motcua.org.models import User
from tests.dossiers.conftest import FORM, MONDAY, applicant, make_procedure

KEY = "5f0c2b9e-6a1d-4c1e-9a7e-2b8f4f0d9c31"


@pytest.fixture
def committed_org(transactional_db):
    from motcua.org import demo

    return demo.load()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a server database (tests/dossiers/test_concurrency)"
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_repeats_receive_once(committed_org):
    proc = make_procedure("1.001193")
    answers: list[object] = []
    start = threading.Barrier(2)

    def work() -> None:
        try:
            clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
            start.wait()
            answers.append(
                services.receive_at_counter(
                    clerk=clerk,
                    procedure_code=proc.code,
                    applicant=applicant(),
                    form_data=FORM,
                    documents=proc.documents(),
                    now=MONDAY,
                    idempotency_key=KEY,
                )
            )
        except BaseException as exc:  # checked below
            answers.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(a, Dossier) for a in answers), answers
    assert len({a.pk for a in answers}) == 1 and sorted(a.replayed for a in answers) == [False, True]
    assert Dossier.objects.count() == 1 and DossierEvent.objects.count() == 1
    assert DossierCodeSequence.objects.get().last_number == 1
