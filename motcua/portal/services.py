"""State changes of the portal's own models (ratings); dossier changes live in dossiers.services."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
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


def register_citizen(*, email: str, full_name: str, password: str, phone: str = "") -> tuple[object, str]:
    """A local citizen account, inactive until its e-mail address is verified; returns (user, token).

    The caller sends the token in a link (``verify_email``). Raises ValidationError (nothing saved).
    """
    from django.contrib.auth.password_validation import validate_password
    from django.core import signing
    from django.core.validators import validate_email

    from motcua.org.models import Role, User, UserRole
    from motcua.phones import is_vietnamese_phone, normalize_phone
    from motcua.portal.models import Citizen

    errors: dict[str, list[str]] = {}
    email = str(email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid e-mail address.")]
    else:
        if User.objects.filter(email=email).exists():
            errors["email"] = [_("An account with this e-mail address exists already: log in instead.")]
    name = normalize(str(full_name or ""))
    if not name or len(name) > 150:
        errors["full_name"] = [_("Enter your full name (at most 150 characters).")]
    phone = normalize_phone(str(phone or "").strip())
    if phone and not is_vietnamese_phone(phone):
        errors["phone"] = [_("Enter a Vietnamese phone number such as 0912345678.")]
    try:
        validate_password(password or "", User(email=email, full_name=name))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, full_name=name, is_active=False)
        UserRole.objects.create(user=user, role=Role.CITIZEN)
        Citizen.objects.create(user=user, full_name=name, phone=phone)
    return user, signing.dumps({"u": user.pk, "e": email}, salt=VERIFY_SALT)


def verify_email(token: str):
    """Activate the account the token was made for; None for a bad, old or already used token."""
    from django.core import signing

    from motcua.org.models import User

    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), email=data.get("e"), is_active=False).first()
    if user is None or user.last_login is not None:
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user
