"""Serve the demo's remote-signing accounts with the local SmartCA-like simulator."""

import contextlib
import os

from django.core.management.base import BaseCommand, CommandError

from motcua.documents import conf, demo
from motcua.documents.simulators.remote_signing import RemoteSigningSimulator


class Command(BaseCommand):
    help = (
        "Run the local remote-signing service (VNPT SmartCA-like) on 127.0.0.1 for the demo; the signer "
        "'approves in the app' after a few polls. Settings: MOTCUA_REMOTE_SIGNING URL/SP_ID and the "
        "password in MOTCUA_REMOTE_SIGNING_SP_PASSWORD."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--approve-after-polls", type=int, default=2)

    def handle(self, *args, **options) -> None:
        accounts = demo.remote_accounts(conf.pki_dir())
        if not accounts:
            raise CommandError("No remote accounts found: run `manage.py demo_pki` first.")
        password = os.environ.get("MOTCUA_REMOTE_SIGNING_SP_PASSWORD")
        if not password:
            raise CommandError("Set MOTCUA_REMOTE_SIGNING_SP_PASSWORD (the same value the web server uses).")
        simulator = RemoteSigningSimulator(
            sp_id=os.environ.get("MOTCUA_REMOTE_SIGNING_SP_ID", "motcua-demo"),
            sp_password=password,
            approve_after_polls=options["approve_after_polls"],
            port=options["port"],
        )
        for account, issued in accounts:
            simulator.add_account(account, issued.key, issued.certificate, issued.chain)
        self.stdout.write(
            f"Remote signing simulator on {simulator.base_url} ({len(accounts)} account(s)); Ctrl-C stops it."
        )
        with contextlib.suppress(KeyboardInterrupt):
            simulator.serve_forever()
