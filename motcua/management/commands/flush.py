"""``flush`` (TRUNCATE of every table) as the owner role when ``DATABASE_OWNER_URL`` is set: the app's
role may not truncate. Django's test cases with ``transaction=True`` call it after each test."""

from django.core.management.commands import flush

from motcua import dbroles


class Command(flush.Command):
    def handle(self, **options):
        with dbroles.as_owner(options["database"]):
            return super().handle(**options)
