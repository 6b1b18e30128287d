"""``manage.py import_catalogue FILE``: import procedures from an .xlsx, .csv or .json file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import capfirst

from motcua.catalog import services, transfer


class Command(BaseCommand):
    help = "Import the procedure catalogue from an .xlsx, .csv or .json file and print a row-by-row report."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=transfer.FORMATS, help="Overrides the file extension.")

    def handle(self, *args, file: Path, format: str | None = None, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        try:
            report = services.import_catalogue(data, filename=file.name, fmt=format)
        except transfer.CatalogueFileError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        for row in report.rows:
            line = f"{row.row:>5}  {row.code or '—':<12} {row.outcome_label}"
            if row.version:
                line += f" (v{row.version})"
            if row.messages:
                line += ": " + "; ".join(row.messages)
            self.stdout.write(self.style.ERROR(line) if row.outcome == services.Outcome.ERROR else line)
        summary = ", ".join(f"{capfirst(outcome.label)}: {report.count(outcome)}" for outcome in services.Outcome)
        self.stdout.write(self.style.SUCCESS(summary) if not report.errors else self.style.WARNING(summary))
