"""``migrate`` as the owner role when ``DATABASE_OWNER_URL`` is set, then the app role's privileges
(motcua/dbroles.py). Without it, Django's own ``migrate``."""

from django.core.management.commands import migrate

from motcua import dbroles


class Command(migrate.Command):
    def handle(self, *args, **options):
        alias = options["database"]
        role = dbroles.app_role(alias)
        with dbroles.as_owner(alias):
            result = super().handle(*args, **options)
            if dbroles.separate_roles(alias) and not options.get("plan"):
                dbroles.grant_app(alias, role)
                if options["verbosity"] >= 1:
                    self.stdout.write(f"Privileges of the app role {role} checked (DML only; event log: read, insert).")
        return result
