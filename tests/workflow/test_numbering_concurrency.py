"""Twenty document clerks register results at the same moment: distinct, gap-free numbers.

PostgreSQL only, like test_concurrency.py. In its own module because the fixtures of
test_numbering.py keep the demo in a module-wide transaction the threads could not see.
"""

import threading

import pytest
from django.db import connection, connections

from motcua.dossiers.models import Dossier
from motcua.workflow import services
from motcua.workflow.models import ResultRegister, WorkflowRun
from tests.workflow.conftest import LIENBAO, at, land_procedure, staff
from tests.workflow.test_numbering import _receive, issuing

THREADS = 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (see test_concurrency.py)")
@pytest.mark.django_db(transaction=True)
def test_twenty_clerks_at_once_get_distinct_gap_free_numbers():
    from motcua.org import demo

    demo.load()
    version = land_procedure()
    services.replace_definition(version, None, issuing())
    clerk = staff("motcua.lienbao")
    dossiers = [_receive(clerk, version) for _ in range(THREADS)]
    clerk_of_record = staff("vanthu.lienbao")
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(dossier: Dossier, minute: int) -> None:
        try:
            start.wait()
            services.act(dossier, user=clerk_of_record, action="vao-so", now=at(1, 9, minute))
        except BaseException as exc:  # collected and checked below
            with lock:
                failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(d, i)) for i, d in enumerate(dossiers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    numbers = sorted(
        int(n.split("/")[0])
        for n in WorkflowRun.objects.filter(dossier__in=dossiers).values_list("result_number", flat=True)
    )
    assert numbers == list(range(1, THREADS + 1))
    assert ResultRegister.objects.get(agency__code=LIENBAO, year=2026).last_number == THREADS
