"""``python manage.py national_sync_worker``: deliver the national outbox continuously.

The scheduled task (``national_sync_send``, every minute) is enough for "within a minute";
this loop delivers within about ``--idle-wait`` seconds and can run in several processes at
once (items are claimed with a lease, so a killed worker's batch is taken over).
"""

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from motcua.integrations.national import services


class Command(BaseCommand):
    help = "Send dossier events to the national portal continuously (Ctrl-C to stop)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--idle-wait", type=float, default=1.0, help="seconds between looks at an empty outbox")
        parser.add_argument("--worker-id", default="", help="name recorded on the items this worker claims")
        parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: run until stopped)")
        parser.add_argument("--once", action="store_true", help="drain the outbox once and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = {"now": False}

        def stop(signum, frame) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker = options["worker_id"] or services.worker_name()
        end = time.monotonic() + options["seconds"] if options["seconds"] else None
        idle = 0.0 if options["once"] else max(0.01, options["idle_wait"])
        while not stopping["now"]:
            budget = 60.0 if end is None else max(0.0, end - time.monotonic())
            if budget <= 0:
                break
            try:
                report = services.run_sender(
                    budget_seconds=budget, idle_wait=idle, worker=worker, stop=lambda: stopping["now"]
                )
            except services.NotConfigured as exc:
                raise CommandError(str(exc)) from None
            if report.disabled:
                raise CommandError("The national portal synchronisation is off (desk → national portal connection).")
            if report.batches and options["verbosity"] >= 1:
                self.stdout.write(f"{worker}: {report.summary()}")
            if options["once"]:
                break
