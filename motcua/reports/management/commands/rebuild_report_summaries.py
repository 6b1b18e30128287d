"""``manage.py rebuild_report_summaries``: recompute every report summary from the event log."""

import time

from django.core.management.base import BaseCommand

from motcua.reports import services


class Command(BaseCommand):
    help = "Recompute the report summaries (day and month figures, step figures) from the dossier event log."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--chunk-size", type=int, default=5000, help="dossiers folded per batch (default 5000)")

    def handle(self, *args, chunk_size: int, verbosity: int, **options) -> None:
        started = time.perf_counter()
        last_shown = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if verbosity > 1 or (verbosity and now - last_shown[0] > 5):
                last_shown[0] = now
                self.stdout.write(f"  {done}/{total} dossier ids")

        counts = services.rebuild(chunk_size=max(100, chunk_size), progress=progress)
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Rebuilt the summaries of {counts['dossiers']} dossiers and {counts['steps']} steps "
                    f"in {time.perf_counter() - started:.1f} s."
                )
            )
