"""Run the SMS gateway and Zalo simulators for the demo: ``manage.py messaging_simulators``."""

import time

from django.core.management.base import BaseCommand

from motcua.integrations.messaging.simulators import SmsSimulator, ZaloSimulator


class Command(BaseCommand):
    help = "Run the SMS (eSMS-like) and Zalo (OAuth + ZNS) simulators on 127.0.0.1."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sms-port", type=int, default=8766)
        parser.add_argument("--zalo-port", type=int, default=8767)
        parser.add_argument("--refresh-token", default="rt-demo", help="the first refresh token Zalo accepts")
        parser.add_argument("--fail-next", type=int, default=0, help="answer 503 to the next n requests of each")
        parser.add_argument("--delay", type=float, default=0.0)

    def handle(self, *args, **options) -> None:
        sms = SmsSimulator(port=options["sms_port"]).start()
        zalo = ZaloSimulator(refresh_token=options["refresh_token"], port=options["zalo_port"]).start()
        for sim in (sms, zalo):
            sim.fail_next, sim.delay = options["fail_next"], options["delay"]
        self.stdout.write(
            f"SMS at {sms.base_url}/send, Zalo OAuth at {zalo.base_url}/oauth, ZNS at {zalo.base_url}/zns"
        )
        self.stdout.write(f"Zalo app secret: {zalo.app_secret}; first refresh token: {options['refresh_token']}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sms.stop()
            zalo.stop()
