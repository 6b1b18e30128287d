"""State changes of the portal's own models: ratings, citizen profiles and log-in phones; dossier changes live
in dossiers.services. django-allauth runs the account flows and calls the account functions here through
``motcua.portal.adapters``."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.portal.models import Rating
from motcua.text import is_ascii_digits, normalize


def rate(user, dossier: Dossier, *, score, comment: str = "") -> Rating:
    """Rate a returned dossier once (1–5 and an optional comment); only its owner may."""
    if not Dossier.objects.filter(pk=dossier.pk, owner__user=user).exists():
        raise Dossier.DoesNotExist
    errors: dict[str, list[str]] = {}
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        errors["score"] = [_("Choose a score from 1 to 5.")]
    comment = normalize(str(comment or ""))
    if len(comment) > 2000:
        errors["comment"] = [_("The comment is too long (at most 2000 characters).")]
    if dossier.status != Status.RETURNED:
        errors["score"] = [_("You can rate the service once the result has been returned.")]
    if Rating.objects.filter(dossier=dossier).exists():
        errors["score"] = [_("You have already rated this dossier.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Rating.objects.create(dossier=dossier, user=user, score=value, comment=comment)
    except IntegrityError:
        raise ValidationError({"score": [_("You have already rated this dossier.")]}) from None


ID_NUMBER_LENGTH = 12


def citizen_from_claims(claims: dict):
    """The citizen account for the national SSO's claims, created or updated; the CCCD number is the key.

    Claims (integrations.md §3): ``SoDinhDanh`` (12 digits, required), ``HoVaTen``,
    ``NgayThangNamSinh`` (yyyyMMdd), ``sub``. E-mail is not a national claim: a new account gets an
    address that cannot receive mail until the citizen gives a real one. A staff account is never
    taken over. Raises ValidationError for unusable claims, PermissionDenied for a staff account.
    """
    from datetime import datetime

    from django.core.exceptions import PermissionDenied

    from motcua.org.models import Role, User, UserRole
    from motcua.portal.models import Citizen

    id_number = str(claims.get("SoDinhDanh") or "").strip()
    if not is_ascii_digits(id_number, ID_NUMBER_LENGTH):
        raise ValidationError({"SoDinhDanh": [_("The national SSO did not give a valid ID number.")]})
    name = normalize(str(claims.get("HoVaTen") or ""))[:150]
    try:
        birth = datetime.strptime(str(claims.get("NgayThangNamSinh") or ""), "%Y%m%d").date()
    except ValueError:
        birth = None
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().select_related("user").filter(id_number=id_number).first()
        if citizen is None:
            email = f"cccd-{id_number}@sso.invalid"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=None, full_name=name or id_number)
            citizen = Citizen.objects.create(user=user, id_number=id_number)
        user = citizen.user
        if user.roles.exclude(role=Role.CITIZEN).exists() or user.is_staff or user.is_superuser:
            raise PermissionDenied(_("This identity belongs to a staff account; staff log in at the desk."))
        UserRole.objects.get_or_create(user=user, role=Role.CITIZEN)
        citizen.full_name = name or citizen.full_name
        citizen.birth_date = birth or citizen.birth_date
        citizen.save()
        if name and user.full_name != name:
            user.full_name = name
            user.save(update_fields=["full_name"])
    return user


# --- local accounts (django-allauth calls these through motcua.portal.adapters) ----------------------
#: Domain of the stand-in address of an account without a real e-mail (Django's User needs a unique one);
#: ".invalid" can never receive mail (RFC 2606) and no mail is ever sent there (adapters.send_mail).
PHONE_EMAIL_DOMAIN = "phone.invalid"


def has_real_email(user) -> bool:
    """False for the stand-in addresses of phone-only and SSO accounts."""
    return bool(user.email) and not user.email.endswith(".invalid")


def placeholder_email() -> str:
    return f"sdt-{secrets.token_hex(8)}@{PHONE_EMAIL_DOMAIN}"


def clean_mobile(value: str) -> str:
    """A Vietnamese mobile number in the stored form (0xxxxxxxxx); ValidationError otherwise.

    Only mobiles: a landline cannot receive the SMS code.
    """
    from motcua.phones import MOBILE_RE, normalize_phone

    phone = normalize_phone(str(value or "").strip())
    if not MOBILE_RE.match(phone):
        raise ValidationError(_("Enter a Vietnamese mobile number such as 0912345678."), code="invalid_phone")
    return phone


def setup_citizen(user, *, full_name: str = "", phone: str = ""):
    """Give a new local account what the portal expects of a citizen: the CITIZEN role and a profile.

    Called inside the sign-up's transaction, right after the user row is saved.
    """
    from motcua.org.models import Role, UserRole
    from motcua.portal.models import Citizen

    UserRole.objects.get_or_create(user=user, role=Role.CITIZEN)
    citizen, _created = Citizen.objects.get_or_create(user=user)
    name = normalize(str(full_name or ""))[:150]
    if name and citizen.full_name != name:
        citizen.full_name = name
        citizen.save(update_fields=["full_name"])
    if phone:
        set_login_phone(user, phone, verified=False)
    return citizen


def set_login_phone(user, phone: str, *, verified: bool) -> None:
    """The mobile number the citizen logs in with; also the profile's contact number."""
    from motcua.portal.models import Citizen

    phone = clean_mobile(phone)
    with transaction.atomic():
        _stale_holders(phone).exclude(user=user).update(login_phone=None)  # released: never proved it
        citizen, _created = Citizen.objects.select_for_update().get_or_create(user=user)
        citizen.login_phone = phone
        citizen.phone = phone
        citizen.phone_verified_at = timezone.now() if verified else None
        citizen.save(update_fields=["login_phone", "phone", "phone_verified_at"])
        if user.phone != phone:
            user.phone = phone
            user.save(update_fields=["phone"])


def mark_phone_verified(user, phone: str) -> None:
    """The citizen proved they hold ``phone`` (allauth checked the code)."""
    from motcua.portal.models import Citizen

    Citizen.objects.filter(user=user, login_phone=clean_mobile(phone)).update(phone_verified_at=timezone.now())


def login_phone_of(user) -> tuple[str, bool] | None:
    """(log-in phone, verified) or None when the account has no log-in phone."""
    from motcua.portal.models import Citizen

    row = Citizen.objects.filter(user=user).values("login_phone", "phone_verified_at").first()
    if not row or not row["login_phone"]:
        return None
    return row["login_phone"], row["phone_verified_at"] is not None


def user_by_login_phone(phone: str):
    """The account whose log-in phone is ``phone`` (any spelling of it), or None."""
    from motcua.org.models import User

    try:
        phone = clean_mobile(phone)
    except ValidationError:
        return None
    stale = _stale_holders(phone).values("user_id")
    return User.objects.filter(citizen__login_phone=phone).exclude(pk__in=stale).first()


def phone_hold_time() -> timedelta:
    """How long an unverified sign-up keeps its number (``MOTCUA_PHONE_HOLD_HOURS``, 24 by default)."""
    return timedelta(hours=int(getattr(settings, "MOTCUA_PHONE_HOLD_HOURS", 24)))


def _stale_holders(phone: str):
    """Accounts holding ``phone`` without ever proving it, past the hold time: the number is free again, so a
    sign-up that never finished cannot keep the real holder out."""
    from motcua.portal.models import Citizen

    return Citizen.objects.filter(
        login_phone=phone,
        phone_verified_at__isnull=True,
        user__last_login__isnull=True,
        user__date_joined__lt=timezone.now() - phone_hold_time(),
    )


# --- verification codes by SMS ------------------------------------------------------------------
CODE_SALT = "motcua.portal.phone-code"


def _fernet():
    """Seals the code in the task's arguments, so the task table never holds it in clear."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    key = hashlib.sha256(f"{CODE_SALT}:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()


def queue_code_sms(phone: str, code: str) -> None:
    """Send a verification code by SMS from a task once the current transaction commits (invariant 6).

    The idempotency key names this one code, so a retried task never texts it twice.
    """
    phone = clean_mobile(phone)
    key = "otp-" + salted_hmac(CODE_SALT, f"{phone}:{code}:{secrets.token_hex(8)}", algorithm="sha256").hexdigest()[:32]
    sealed = seal(code)
    transaction.on_commit(lambda: _enqueue_sms(phone, "code", sealed, key))


def queue_account_exists_sms(phone: str) -> None:
    """A sign-up named a number that has an account: tell its holder (the form itself does not say)."""
    phone = clean_mobile(phone)
    key = f"exists-{phone}-{timezone.now():%Y%m%d%H%M}"
    transaction.on_commit(lambda: _enqueue_sms(phone, "exists", "", key))


def _enqueue_sms(phone: str, kind: str, sealed: str, key: str) -> None:
    from motcua.portal import tasks

    tasks.send_account_sms.enqueue(phone, kind, sealed, key)
