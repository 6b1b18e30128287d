"""What the report summaries cost one counter intake, in SQL queries (CaptureQueriesContext).

The summaries are kept in the intake's own transaction (``signals.py``). The intake measured is a
land procedure with the three-level workflow of the workflow tests (the receipt event, then the
workflow's first step: two events and a step run). It runs once with the reports receivers
connected and once without, so the difference is the reports' share.
"""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from motcua.dossiers.models import DossierEvent
from motcua.reports import signals
from tests.workflow.conftest import (  # noqa: F401  (fixtures)
    MONDAY,
    _demo_module,
    _fresh_calendars,
    _media,
    clerk,
    demo_org,
    land,
    org,
    receive,
    workflow,
)

pytestmark = pytest.mark.django_db


@contextmanager
def reports_disconnected():
    from motcua.workflow.models import StepRun

    post_save.disconnect(sender=DossierEvent, dispatch_uid="reports.book_dossier")
    post_save.disconnect(sender=StepRun, dispatch_uid="reports.book_step_run")
    try:
        yield
    finally:
        signals.connect()


def test_intake_queries(workflow, receive):  # noqa: F811
    receive()  # warms the caches (calendar, catalogue, workflow definition)
    with CaptureQueriesContext(connection) as full:
        receive()
    with reports_disconnected(), CaptureQueriesContext(connection) as bare:
        receive()
    share = len(full) - len(bare)
    print(f"\nintake queries: {len(full)} with reports, {len(bare)} without, reports share {share}")
    # Measured on SQLite: 37 queries when every event re-read the log and the facts (3 events, a
    # step run); folding only the new event needs 12 (6 for the receipt, 3 for each later event).
    assert share <= 14, [q["sql"][:120] for q in full.captured_queries]
