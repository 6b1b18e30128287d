"""Carry the hand-written accounts over to django-allauth.

Before allauth, a local account was inactive until its e-mail link or SMS code was used, so an active
citizen with a real address had proved it: it gets a verified allauth EmailAddress. A citizen who never
finished the old verification becomes active with an unverified address (or phone), so allauth's stages ask
for the link or code at the next log-in instead of refusing the account outright. Stand-in addresses
(``.invalid``) get no row. Reversing removes nothing allauth may have verified since.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    User = apps.get_model("org", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    citizens = User.objects.filter(roles__role="citizen").distinct()
    for user in citizens.iterator():
        if not user.is_active and user.last_login is None:
            user.is_active = True
            user.save(update_fields=["is_active"])
            verified = False
        else:
            verified = user.is_active
        email = (user.email or "").lower()
        if email and not email.endswith(".invalid") and not EmailAddress.objects.filter(email__iexact=email).exists():
            EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_drop_phone_codes_for_allauth"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
