"""``manage.py export_catalogue --format json|xlsx|csv -o FILE``: every current procedure version."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from motcua.catalog import services, transfer


class Command(BaseCommand):
    help = "Export the current version of every procedure as JSON, XLSX or CSV."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=transfer.FORMATS, default="json")
        parser.add_argument("-o", "--output", type=Path, help="File to write; standard output when omitted.")

    def handle(self, *args, format: str, output: Path | None = None, **options) -> None:
        data = services.export_catalogue(format)
        if output is None:
            sys.stdout.buffer.write(data)
            return
        output.write_bytes(data)
        self.stderr.write(f"{output}: {len(data)} bytes")
