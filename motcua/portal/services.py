"""State changes of the portal's own models (ratings); dossier changes live in dossiers.services."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.portal.models import Rating
from motcua.text import normalize


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
    if len(id_number) != ID_NUMBER_LENGTH or not id_number.isdigit():
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


VERIFY_SALT = "motcua.portal.verify-email"
VERIFY_MAX_AGE = 3 * 24 * 3600


def register_citizen(
    *, email: str = "", full_name: str, password: str, phone: str = "", now: datetime | None = None
) -> tuple[object, str]:
    """A local citizen account with an e-mail address and/or a mobile number, inactive until one of them
    is verified; returns (user, e-mail token or "").

    The caller sends the token in a link (``verify_email``) and, when a phone was given, a code by SMS
    (``send_phone_code``). The phone becomes the account's log-in phone, so it must be a Vietnamese
    mobile number held by no other account. Raises ValidationError (nothing saved).
    """
    from django.contrib.auth.password_validation import validate_password
    from django.core.validators import validate_email

    from motcua.org.models import Role, User, UserRole
    from motcua.phones import MOBILE_RE, normalize_phone
    from motcua.portal.models import Citizen

    moment = now or timezone.now()
    errors: dict[str, list[str]] = {}
    email = str(email or "").strip().lower()
    phone = normalize_phone(str(phone or "").strip())
    if not email and not phone:
        errors["email"] = [_("Enter an e-mail address or a mobile phone number.")]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
        else:
            if email.endswith(".invalid") or User.objects.filter(email=email).exists():
                errors["email"] = [_("An account with this e-mail address exists already: log in instead.")]
    if phone:
        if not MOBILE_RE.match(phone):
            errors["phone"] = [_("Enter a Vietnamese mobile number such as 0912345678.")]
        elif _phone_taken(phone, moment):
            errors["phone"] = [_("An account with this phone number exists already: log in instead.")]
    name = normalize(str(full_name or ""))
    if not name or len(name) > 150:
        errors["full_name"] = [_("Enter your full name (at most 150 characters).")]
    try:
        validate_password(password or "", User(email=email, full_name=name, phone=phone))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    # A phone-only account still needs a unique e-mail for Django: an address that cannot receive mail.
    login_email = email or f"sdt-{phone}-{secrets.token_hex(4)}@phone.invalid"
    try:
        with transaction.atomic():
            if phone:  # a number held by an account that never proved it (past the hold time) is released
                Citizen.objects.filter(
                    login_phone=phone, phone_verified_at__isnull=True, user__last_login__isnull=True
                ).update(login_phone=None)
            user = User.objects.create_user(
                email=login_email, password=password, full_name=name, phone=phone, is_active=False
            )
            UserRole.objects.create(user=user, role=Role.CITIZEN)
            Citizen.objects.create(user=user, full_name=name, phone=phone, login_phone=phone or None)
    except IntegrityError:  # a concurrent sign-up took the address or the number
        raise ValidationError(
            {"phone": [_("An account with this phone number exists already: log in instead.")]}
        ) from None
    return user, (signing.dumps({"u": user.pk, "e": email}, salt=VERIFY_SALT) if email else "")


def _phone_taken(phone: str, moment: datetime) -> bool:
    """Held by a verified account, or by an unverified one still within the hold time."""
    from motcua.portal.models import Citizen

    holder = Citizen.objects.select_related("user").filter(login_phone=phone).first()
    if holder is None:
        return False
    if holder.phone_verified_at is not None or holder.user.last_login is not None:
        return True
    return holder.user.date_joined > moment - phone_hold_time()


def verify_email(token: str):
    """Activate the account the token was made for; None for a bad, old or already used token."""
    from motcua.org.models import User

    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        return None
    # Used once: the link activates an inactive account (a phone code may have done it first).
    user = User.objects.filter(pk=data.get("u"), email=data.get("e"), is_active=False).first()
    if user is None or user.last_login is not None:
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


# --- phone verification --------------------------------------------------------------------------
# Settings (all optional): MOTCUA_PHONE_CODE = {"ttl_minutes": 10, "max_attempts": 5, "resend_after_seconds": 60,
# "max_per_hour": 5, "hold_hours": 24}.
PHONE_CODE_DEFAULTS = {
    "ttl_minutes": 10,
    "max_attempts": 5,
    "resend_after_seconds": 60,
    "max_per_hour": 5,
    "hold_hours": 24,
}
CODE_SALT = "motcua.portal.phone-code"


class RateLimited(ValidationError):
    """Codes asked for too often: the page answers 429."""


def phone_code_conf(key: str) -> int:
    return int(dict(getattr(settings, "MOTCUA_PHONE_CODE", {})).get(key, PHONE_CODE_DEFAULTS[key]))


def phone_hold_time() -> timedelta:
    """How long an unverified sign-up keeps its number before someone else may register it."""
    return timedelta(hours=phone_code_conf("hold_hours"))


def _code_hash(salt: str, phone: str, code: str) -> str:
    return salted_hmac(CODE_SALT, f"{salt}:{phone}:{code}", algorithm="sha256").hexdigest()


def _fernet():
    """Seals the code in the task's arguments, so the task table never holds it in clear either."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    key = hashlib.sha256(f"{CODE_SALT}:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def unseal_code(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()


def send_phone_code(phone: str, *, now: datetime | None = None) -> bool:
    """Create a new code for the account waiting to verify ``phone`` and send it by SMS (a task, after
    the commit). Returns False when no account waits for this number — the caller says the same thing
    either way, so the form does not tell who has an account. Raises ValidationError for a wrong
    number or when codes are asked for too often (at most one a minute and five an hour by default).
    """
    from motcua.phones import MOBILE_RE, normalize_phone
    from motcua.portal.models import Citizen, PhoneCode

    moment = now or timezone.now()
    phone = normalize_phone(str(phone or "").strip())
    if not MOBILE_RE.match(phone):
        raise ValidationError({"phone": [_("Enter a Vietnamese mobile number such as 0912345678.")]})
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().filter(login_phone=phone, phone_verified_at__isnull=True).first()
        if citizen is None:
            return False
        recent = PhoneCode.objects.filter(phone=phone, created_at__gt=moment - timedelta(hours=1))
        last = recent.first()
        wait = timedelta(seconds=phone_code_conf("resend_after_seconds"))
        if last is not None and last.created_at > moment - wait:
            raise RateLimited({"phone": [_("A code was sent a moment ago. Please wait a minute before asking again.")]})
        if recent.count() >= phone_code_conf("max_per_hour"):
            raise RateLimited({"phone": [_("Too many codes were asked for this number. Try again in an hour.")]})
        code = f"{secrets.randbelow(1_000_000):06d}"
        salt = secrets.token_hex(16)
        row = PhoneCode.objects.create(
            citizen=citizen,
            phone=phone,
            salt=salt,
            code_hash=_code_hash(salt, phone, code),
            created_at=moment,
            expires_at=moment + timedelta(minutes=phone_code_conf("ttl_minutes")),
        )
        sealed = _fernet().encrypt(code.encode()).decode()
        transaction.on_commit(lambda: _enqueue_code_sms(row.pk, sealed))
    return True


def _enqueue_code_sms(code_id: int, sealed: str) -> None:
    from motcua.portal import tasks

    tasks.send_phone_code_sms.enqueue(code_id, sealed)


def verify_phone(phone: str, code: str, *, now: datetime | None = None):
    """Check the latest code sent to ``phone``: right → the number is verified and the account active.

    Raises ValidationError with the reason (wrong, expired, used, too many tries). A wrong try is
    counted even though the call fails; nothing else changes.
    """
    from motcua.phones import normalize_phone
    from motcua.portal.models import Citizen, PhoneCode

    moment = now or timezone.now()
    phone = normalize_phone(str(phone or "").strip())
    code = str(code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationError({"code": [_("Enter the 6-digit code we sent by SMS.")]})
    wrong = ValidationError({"code": [_("The code is wrong.")]})
    with transaction.atomic():
        row = PhoneCode.objects.select_for_update().filter(phone=phone).select_related("citizen__user").first()
        if row is None:
            raise wrong
        if row.used_at is not None:
            raise ValidationError({"code": [_("This code has already been used.")]})
        if row.expires_at <= moment:
            raise ValidationError({"code": [_("The code has expired: ask for a new one.")]})
        if row.attempts >= phone_code_conf("max_attempts"):
            raise ValidationError({"code": [_("Too many wrong codes: ask for a new one.")]})
        if not constant_time_compare(row.code_hash, _code_hash(row.salt, phone, code)):
            PhoneCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            failed = True
        else:
            failed = False
            citizen = Citizen.objects.select_for_update().get(pk=row.citizen_id)
            if citizen.login_phone != phone:  # the number was released to another sign-up meanwhile
                raise wrong
            row.used_at = moment
            row.save(update_fields=["used_at"])
            citizen.phone_verified_at = moment
            citizen.save(update_fields=["phone_verified_at"])
            user = citizen.user
            if not user.is_active and user.last_login is None:
                user.is_active = True
                user.save(update_fields=["is_active"])
    if failed:  # raised after the commit, so the counted try is kept
        raise wrong
    return user


def user_for_login(identifier: str):
    """The account an e-mail address or a verified log-in phone names, and whether the phone still waits
    for its code: (user or None, waiting)."""
    from motcua.org.models import User
    from motcua.phones import normalize_phone
    from motcua.portal.models import Citizen

    identifier = str(identifier or "").strip()
    if "@" in identifier:
        return User.objects.filter(email=identifier.lower()).first(), False
    citizen = Citizen.objects.select_related("user").filter(login_phone=normalize_phone(identifier)).first()
    if citizen is None:
        return None, False
    return citizen.user, citizen.phone_verified_at is None
