"""``python manage.py national_portal_simulator``: a national portal on 127.0.0.1 for the demo and tests.

It accepts the credentials of the environment variables our client reads (defaults when unset),
both as a session login and as OAuth2 client credentials. Faults can be set at start or later
with ``POST /_simulator/faults`` (JSON: fail_rate, timeout_rate, timeout_seconds, drop_rate,
delay_seconds, down, reject=[{field, value, contains, message}]); ``GET /_simulator/state``
shows what it received. ``--configure`` points our connection at it and switches sync on;
``--demo`` fills its procedure database from our catalogue (one name changed, one procedure
added, to review as a diff) and its inbox with two dossiers submitted on the portal.
"""

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from motcua.integrations.national.simulator import Credentials, NationalPortalSimulator

DEFAULTS = Credentials()


class Command(BaseCommand):
    help = "Run the national portal simulator (Ctrl-C to stop)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8701)
        parser.add_argument("--unit-code", default="", help="the madonvi it expects (empty: any)")
        parser.add_argument("--fail-rate", type=float, default=0.0)
        parser.add_argument("--timeout-rate", type=float, default=0.0)
        parser.add_argument("--timeout-seconds", type=float, default=35.0)
        parser.add_argument("--drop-rate", type=float, default=0.0)
        parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every call")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--configure", action="store_true", help="point our connection at this simulator")
        parser.add_argument("--demo", action="store_true", help="a procedure database and an inbox to play with")
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["host"] not in ("127.0.0.1", "localhost", "::1"):
            self.stderr.write(self.style.WARNING("The simulator has no protection: keep it on a loopback address."))
        credentials = Credentials(
            username=os.environ.get("MOTCUA_NATIONAL_USERNAME", DEFAULTS.username),
            password=os.environ.get("MOTCUA_NATIONAL_PASSWORD", DEFAULTS.password),
            client_id=os.environ.get("MOTCUA_NATIONAL_CLIENT_ID", DEFAULTS.client_id),
            client_secret=os.environ.get("MOTCUA_NATIONAL_CLIENT_SECRET", DEFAULTS.client_secret),
        )
        sim = NationalPortalSimulator(
            options["host"],
            options["port"],
            credentials=credentials,
            unit_code=options["unit_code"],
            seed=options["seed"],
            verbose=options["verbose"],
        )
        sim.set_faults(
            fail_rate=options["fail_rate"],
            timeout_rate=options["timeout_rate"],
            timeout_seconds=options["timeout_seconds"],
            drop_rate=options["drop_rate"],
            delay_seconds=options["delay"],
        )
        url = f"http://{options['host']}:{options['port']}"
        if options["configure"]:
            self._configure(url, options["unit_code"])
        if options["demo"]:
            self._demo(sim)
        self.stdout.write(self.style.SUCCESS(f"National portal simulator on {url}"))
        self.stdout.write(
            "  session login: POST /auth/login   OAuth2 token: POST /oauth2/token\n"
            "  operations: POST /integration, POST /share   control: /_simulator/state, /_simulator/faults"
        )
        if not os.environ.get("MOTCUA_NATIONAL_USERNAME"):
            self.stdout.write(
                "  credentials (export them for the worker too):\n"
                f"    MOTCUA_NATIONAL_USERNAME={credentials.username} MOTCUA_NATIONAL_PASSWORD={credentials.password}\n"
                f"    MOTCUA_NATIONAL_CLIENT_ID={credentials.client_id} "
                f"MOTCUA_NATIONAL_CLIENT_SECRET={credentials.client_secret}"
            )
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        except OSError as exc:
            raise CommandError(f"Cannot listen on {url}: {exc}") from None

    def _configure(self, url: str, unit_code: str) -> None:
        from motcua.integrations.national import services

        config = services.get_config()
        config.enabled = True
        config.base_url = url
        if unit_code:
            config.unit_code = unit_code
        config.save()
        self.stdout.write(f"Our connection now points at {url}, synchronisation on.")

    def _demo(self, sim: NationalPortalSimulator) -> None:
        from motcua.catalog import selectors
        from motcua.integrations.national.mapping import format_moment
        from motcua.org.models import Agency

        records = [
            {
                "MATTHC": version.procedure.code,
                "TENTTHC": version.name,
                "LINHVUCTHUCHIEN": [{"MALINHVUC": version.field.code, "TENLINHVUC": version.field.name}]
                if version.field_id
                else [],
            }
            for version in selectors.current_versions().select_related("procedure", "field")
        ]
        if records:
            records[0]["TENTTHC"] += " (cập nhật theo Quyết định công bố mới)"
        records.append(
            {
                "MATTHC": "1.012345",
                "TENTTHC": "Thủ tục mô phỏng mới công bố",
                "LINHVUCTHUCHIEN": [{"MALINHVUC": "G09-TP01", "TENLINHVUC": "Hộ tịch"}],
            }
        )
        sim.set_procedures(records)
        agency = Agency.objects.filter(kind=Agency.Kind.PEOPLES_COMMITTEE).order_by("-unit__path").first()
        version = selectors.current_versions().select_related("procedure").first()
        if agency is None or version is None:
            self.stdout.write("No demo organisation or catalogue: run load_demo for an inbox.")
            return
        from django.utils import timezone

        stamp = format_moment(timezone.now())
        sim.add_inbox(
            {
                "MaHoSo": f"G22.{stamp}-{n}",
                "MaTTHC": version.procedure.code,
                "ChuHoSo": name,
                "LoaiDoiTuong": "1",
                "MaDoiTuong": f"0261900{n:05d}",
                "SoDienThoai": "0912345678",
                "Email": "congdan@example.vn",
                "TrichYeuHoSo": f"{version.name} – {name}",
                "NgayNopHoSo": stamp,
                "MaDonViTiepNhan": agency.code,
                "TaiLieuNop": [{"TenTepDinhKem": "Tờ khai", "DuongDanTaiTepTin": ""}],
            }
            for n, name in ((1, "Phạm Thị Hương"), (2, "Đỗ Văn Quyết"))
        )
        self.stdout.write(f"Demo: {len(records)} national procedures, 2 dossiers in the inbox for {agency.name}.")
