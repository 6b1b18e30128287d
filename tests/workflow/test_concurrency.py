"""Two officers act on the same dossier at the same moment: exactly one wins, the other is told who did.

PostgreSQL only, like tests/dossiers/test_concurrency.py: the in-memory SQLite test database fails
its table locks at once instead of waiting, so threads there would test the test database.
"""

import threading

import pytest
from django.db import connection, connections

from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import DossierEvent
from motcua.org.models import Agency, Role, User, UserRole
from motcua.workflow import services
from motcua.workflow.models import StepRun
from tests.workflow.conftest import FORM, LAND_CODE, LIENBAO, MONDAY, at, land_procedure, three_levels

ROUNDS = 5


@pytest.fixture
def committed(transactional_db):
    """The demo organisation, the land procedure and its workflow, committed for the threads' connections."""
    from motcua.org import demo

    demo.load()
    version = land_procedure()
    services.replace_definition(version, None, three_levels())
    agency = Agency.objects.get(code=LIENBAO)
    second = User.objects.create_user(
        "chuyenvien2.lienbao@vinhphuc.gov.vn", "x", full_name="Lê Văn Hai", unit=agency.unit, agency=agency
    )
    UserRole.objects.create(user=second, role=Role.SPECIALIST)
    return version


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (see the module docstring)")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["len-huyen", "claim"])
def test_exactly_one_officer_wins(committed, action):
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    officers = [
        User.objects.get(email="chuyenvien.lienbao@vinhphuc.gov.vn"),
        User.objects.get(email="chuyenvien2.lienbao@vinhphuc.gov.vn"),
    ]
    for round_number in range(ROUNDS):
        dossier = dossier_services.receive_at_counter(
            clerk=clerk,
            procedure_code=LAND_CODE,
            applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234"},
            form_data=FORM,
            documents=[{"component": committed.components.get().pk, "originals": 1}],
            now=MONDAY,
        )
        events_before = DossierEvent.objects.filter(dossier=dossier).count()
        start = threading.Barrier(len(officers))
        outcomes: list[tuple[str, object]] = []
        lock = threading.Lock()

        def work(
            officer: User, dossier=dossier, start=start, lock=lock, outcomes=outcomes, minute=round_number
        ) -> None:
            try:
                start.wait()
                services.act(dossier, user=officer, action=action, now=at(1, 9, minute))
                result: tuple[str, object] = ("won", officer)
            except BaseException as exc:  # collected and checked below
                result = ("lost", exc)
            finally:
                connections.close_all()
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=work, args=(officer,)) for officer in officers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        winners = [o for kind, o in outcomes if kind == "won"]
        losers = [o for kind, o in outcomes if kind == "lost"]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert isinstance(losers[0], services.WorkflowConflict), repr(losers[0])
        assert winners[0].full_name in str(losers[0])
        expected = {"len-huyen": ("step_transferred", 2), "claim": ("step_claimed", 1)}[action]
        new_events = list(DossierEvent.objects.filter(dossier=dossier).order_by("pk").values_list("action", flat=True))[
            events_before:
        ]
        assert new_events == [expected[0]]
        assert StepRun.objects.filter(dossier=dossier).count() == expected[1]
        assert StepRun.objects.filter(dossier=dossier, parent__isnull=True, finished_at__isnull=True).count() == 1
