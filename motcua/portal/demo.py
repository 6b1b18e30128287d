"""The demo citizens' accounts: their e-mail addresses count as verified.

A real citizen confirms the address by the link mailed at sign-up before the first log-in; the demo citizens
were never mailed anything, so without this the README's password would only send a confirmation link.
"""

from allauth.account.models import EmailAddress
from django.db import transaction

from motcua.org.demo import DEMO_CITIZENS
from motcua.org.models import User


@transaction.atomic
def load() -> None:
    for user in User.objects.filter(email__in=[email for email, _name in DEMO_CITIZENS]):
        EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
