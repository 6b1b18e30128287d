"""Create the demo PKI (root CA, certificates of the demo leaders and document clerks) and register it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from motcua.documents import conf, demo


class Command(BaseCommand):
    help = (
        "Create (or reuse) the demo root CA and the PKCS#12 files of the demo leaders and document clerks "
        "under MOTCUA_PKI_DIR, and register them; running it twice changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dir", help="Folder for the PKI files (default: MOTCUA_PKI_DIR, var/pki).")

    def handle(self, *args, **options) -> None:
        directory = Path(options["dir"]) if options.get("dir") else conf.pki_dir()
        try:
            result = demo.load(directory)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        made = ", ".join(result.created) if result.created else "none (all reused)"
        self.stdout.write(self.style.SUCCESS(f"Demo PKI ready in {directory} (dữ liệu mẫu)."))
        self.stdout.write(f"  Files created: {made}")
        self.stdout.write(f"  Trusted root: {demo.ROOT_NAME}; issuing CA: {demo.ISSUING_NAME}")
        self.stdout.write(
            "  Leaders (lanhdao.<unit>) sign with their own certificate, document clerks (vanthu.<unit>) with "
            "their agency's seal; lanhdao.tinh also has an expired and a revoked certificate for trials; "
            f"lanhdao.{demo.REMOTE_LEADER[0]} can sign through `manage.py remote_signing_simulator`."
        )
