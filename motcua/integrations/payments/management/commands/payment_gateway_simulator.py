"""Run the payment gateway simulator for the demo: ``manage.py payment_gateway_simulator --port 8765``.

It signs with the server's own ``MOTCUA_PAYMENT_SECRET`` (``scripts/run.sh`` sets one per run for
``make run``); without one it makes up a random secret for this run and prints it.
"""

import secrets
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from motcua.integrations.payments.simulator import GatewaySimulator


class Command(BaseCommand):
    help = "Run the payment gateway simulator on 127.0.0.1 (signs with MOTCUA_PAYMENT_SECRET)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--fail", action="store_true", help="report every payment as failed")
        parser.add_argument("--delay", type=float, default=0.0, help="seconds before the notification")
        parser.add_argument("--repeat", type=int, default=1, help="send each notification n times")
        parser.add_argument("--out-of-order", action="store_true", help="send a stale notice after the paid one")

    def handle(self, *args, **options) -> None:
        conf = getattr(settings, "MOTCUA_PAYMENT", {}) or {}
        secret = conf.get("secret") or secrets.token_urlsafe(32)
        merchant = conf.get("merchant_code") or "MOTCUA-DEMO"
        sim = GatewaySimulator(secret=secret, merchant_code=merchant, port=options["port"]).start()
        sim.behaviour.update(
            fail=options["fail"], delay=options["delay"], repeat=options["repeat"], out_of_order=options["out_of_order"]
        )
        self.stdout.write(f"Payment gateway simulator at {sim.base_url} (Ctrl+C to stop)")
        if not conf.get("secret"):
            self.stdout.write(
                "Start the server with "
                f"MOTCUA_PAYMENT_URL={sim.base_url} MOTCUA_PAYMENT_MERCHANT_CODE={merchant} "
                f"MOTCUA_PAYMENT_SECRET={secret}"
            )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sim.stop()
