"""``manage.py issue_api_token <e-mail>``: print a new API token for a staff member, and only that.

The token is printed once on stdout (scripts capture it: ``TOKEN=$(manage.py issue_api_token …)``);
what it is for goes to stderr. Only its hash is stored, so a lost token is revoked and replaced.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from motcua.api import services


class Command(BaseCommand):
    help = "Issue an API token for a staff member (username = their e-mail) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user's e-mail address, as they log in.")
        parser.add_argument("--name", default="", help="What the token is for (shown in the desk).")
        parser.add_argument("--days", type=int, default=None, help="Expire after this many days (default: never).")

    def handle(self, *args, **options) -> None:
        email = options["username"].strip().lower()
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(_("No user has the e-mail address “%(email)s”.") % {"email": email})
        if not user.is_active:
            raise CommandError(
                _("The account “%(email)s” is disabled: it cannot have an API token.") % {"email": email}
            )
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError(_("--days must be a whole number of days, at least 1."))
        name = options["name"].strip() or _("Token issued from the command line")
        token, plaintext = services.issue_token(user, name, days=days)
        self.stderr.write(
            _("API token %(prefix)s… for %(email)s (%(name)s); it is shown only once.")
            % {"prefix": token.prefix, "email": user.email, "name": token.name}
        )
        self.stdout.write(plaintext)
