"""Give the app's role (``DATABASE_URL``'s user) its privileges, connected as the owner
(``DATABASE_OWNER_URL``); ``migrate`` does the same after migrating. Prints the statements run."""

from django.core.management.base import BaseCommand, CommandError

from motcua import dbroles


class Command(BaseCommand):
    help = "Grant the app's DML-only role its privileges (PostgreSQL, DATABASE_OWNER_URL set)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options) -> None:
        alias = options["database"]
        if not dbroles.separate_roles(alias):
            raise CommandError("Set DATABASE_OWNER_URL (the owner role) beside DATABASE_URL on PostgreSQL.")
        role = dbroles.app_role(alias)
        with dbroles.as_owner(alias):
            for statement in dbroles.grant_app(alias, role):
                self.stdout.write(" ".join(statement.split()) + ";")
