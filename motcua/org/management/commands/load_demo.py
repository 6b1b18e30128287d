"""Load the demo province: organisation, calendar and procedure catalogue. Safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction

from motcua.catalog import demo as catalog_demo
from motcua.org import demo as org_demo
from motcua.portal import demo as portal_demo
from motcua.workflow import demo as workflow_demo
from motcua.worktime import demo as worktime_demo


class Command(BaseCommand):
    help = "Load (or refresh) the demo province; running it twice changes nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet-accounts", action="store_true", help="Do not print the demo accounts.")

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        units = org_demo.load()
        worktime_demo.load(units["tinh"])
        catalog_demo.load()
        workflow_demo.load()
        portal_demo.load()
        self.stdout.write(self.style.SUCCESS("Demo data loaded: Tỉnh Vĩnh Phúc (mã H62 là giả định)."))
        if not options["quiet_accounts"]:
            self.stdout.write(f"Demo accounts (password for all: {org_demo.DEMO_PASSWORD}):")
            for email, description in org_demo.accounts_summary():
                self.stdout.write(f"  {email:<42} {description}")
            self.stdout.write(
                "  Every unit has quantri.<unit>, motcua.<unit>, chuyenvien.<unit>, lanhdao.<unit>, vanthu.<unit>, "
                f"giamsat.<unit>@{org_demo.DEMO_DOMAIN} (units: {', '.join(org_demo.ONE_STOP)})."
            )
