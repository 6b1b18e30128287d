"""django-allauth adapters for citizen accounts: local accounts (e-mail and/or mobile phone) and the national SSO.

allauth runs the flows (sign-up, log-in, verification codes, rate limits, OpenID Connect); these adapters
tie them to the project: the log-in phone lives on ``portal.Citizen`` (normalised as a Vietnamese mobile),
codes go out by SMS from a task after the commit, every citizen gets the CITIZEN role and a profile, the
national SSO's claims are mapped by ``services.citizen_from_claims`` (keyed by ``SoDinhDanh``) and a staff
account is never taken over. User-facing messages are our own msgids, translated in the portal's catalogue.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.stages import EmailVerificationStage, PhoneVerificationStage
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse, RateLimited
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthError
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from motcua.org.client_address import client_ip
from motcua.org.selectors import is_staff_account
from motcua.portal import services


class CitizenEmailVerificationStage(EmailVerificationStage):
    """allauth's e-mail stage, mandatory for a real address and skipped for a stand-in one.

    ``ACCOUNT_EMAIL_VERIFICATION = "mandatory"`` would oblige every citizen to give an e-mail; here a
    phone-only account (stand-in address, verified by SMS in the phone stage) skips it, the national SSO
    (``SOCIALACCOUNT_EMAIL_VERIFICATION = "none"``: VNeID proved the identity) skips it, and every local
    log-in of an account with a real address must have confirmed it.
    """

    def handle(self):
        user = self.login.user
        if user is not None and services.has_real_email(user):
            if self.login.email_verification != EmailVerificationMethod.NONE:
                self.login.email_verification = EmailVerificationMethod.MANDATORY
        elif user is not None:
            self.login.email_verification = EmailVerificationMethod.NONE
        return super().handle()


class CitizenPhoneVerificationStage(PhoneVerificationStage):
    """allauth's phone stage, answering 429 (and dropping the half-done log-in) when codes are asked too often.

    allauth raises RateLimited from inside the stage when the number got a code a moment ago; uncaught,
    that is a server error.
    """

    def handle(self):
        try:
            return super().handle()
        except RateLimited:
            return ratelimit.respond_429(self.request), False


class CitizenAccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "account_inactive": _("This account is locked. Please contact the one-stop office."),
        "email_password_mismatch": _("The e-mail address, the phone number or the password is wrong."),
        "phone_password_mismatch": _("The e-mail address, the phone number or the password is wrong."),
        "username_password_mismatch": _("The e-mail address, the phone number or the password is wrong."),
        "invalid_login": _("The e-mail address, the phone number or the password is wrong."),
        "email_taken": _("An account with this e-mail address exists already: log in instead."),
        "phone_taken": _("An account with this phone number exists already: log in instead."),
        "incorrect_code": _("The code is wrong."),
        "invalid_or_expired_key": _("This link is wrong or has expired."),
        "too_many_login_attempts": _("Too many failed log-in attempts. Try again later."),
        "unknown_email": _("No account has this e-mail address."),
        "unknown_phone": _("No account has this phone number."),
        "rate_limited": _("Too many requests. Please wait a moment and try again."),
        "same_as_current": _("The new value must be different from the current one."),
        "unverified_primary_email": _("Your e-mail address must be verified first."),
        "enter_current_password": _("Please type your current password."),
        "incorrect_password": _("The password is wrong."),
    }

    # --- the log-in stages ----------------------------------------------------------------------
    def get_login_stages(self) -> list[str]:
        ours = {
            "allauth.account.stages.EmailVerificationStage": "motcua.portal.adapters.CitizenEmailVerificationStage",
            "allauth.account.stages.PhoneVerificationStage": "motcua.portal.adapters.CitizenPhoneVerificationStage",
        }
        return [ours.get(path, path) for path in super().get_login_stages()]

    def authenticate(self, request, **credentials: Any):
        """Citizens only: a staff account's e-mail and password get the same "wrong" answer as a typo.

        Django's ModelBackend accepts the ``email=`` that allauth passes, so without this a staff
        member could log in here and skip the staff log-in's limits; staff log in at /staff/login/.
        """
        user = super().authenticate(request, **credentials)
        if user is not None and is_staff_account(user):
            self.authentication_failed(request, **credentials)
            return None
        return user

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        """Nothing for a staff account: the page says "sent" as for an unknown address, and a staff
        member's unit administrator sets a new password in the desk (the seed's procedure)."""
        if is_staff_account(user):
            return
        super().send_password_reset_mail(user, email, context)

    def get_client_ip(self, request) -> str:
        """The client's address behind the trusted proxies (``MOTCUA_TRUSTED_PROXIES``), for the limits."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def get_login_redirect_url(self, request) -> str:
        """Citizens land on "my dossiers" (LOGIN_REDIRECT_URL is left to the staff side)."""
        return reverse("portal:my")

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        """Only our own (translated) texts: allauth's message templates are English-only, and our pages say the
        same in Vietnamese."""
        if message is not None:
            super().add_message(request, level, message=message, extra_tags=extra_tags)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        if email.endswith(".invalid"):  # stand-in address of a phone-only or SSO account
            return
        super().send_mail(template_prefix, email, context)

    # --- sign-up ----------------------------------------------------------------------------------
    def populate_username(self, request, user) -> None:
        """No usernames here; a phone-only account gets a stand-in address (Django's User needs one)."""
        if not user.email:
            user.email = services.placeholder_email()

    def clean_email(self, email: str) -> str:
        """Stand-in addresses (``.invalid``) are ours: nobody signs up with one and skips verification."""
        email = super().clean_email(email)
        if email.endswith(".invalid"):
            raise ValidationError(_("Enter a valid e-mail address."), code="invalid")
        return email

    def save_user(self, request, user, form, commit: bool = True):
        """The user, its CITIZEN role and profile, and the log-in phone: all in one transaction."""
        user.full_name = form.cleaned_data.get("full_name") or ""
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                services.setup_citizen(user, full_name=user.full_name)
        return user

    # --- phone ------------------------------------------------------------------------------------
    def phone_form_field(self, **kwargs: Any):
        from motcua.portal.forms import VietnameseMobileField

        return VietnameseMobileField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        try:
            return services.clean_mobile(phone)
        except ValidationError as error:
            raise ValidationError(error.messages[0], code="invalid_phone") from None

    def set_phone(self, user, phone: str, verified: bool) -> None:
        services.set_login_phone(user, phone, verified=verified)

    def get_phone(self, user) -> tuple[str, bool] | None:
        return services.login_phone_of(user)

    def set_phone_verified(self, user, phone: str) -> None:
        services.mark_phone_verified(user, phone)

    def get_user_by_phone(self, phone: str):
        return services.user_by_login_phone(phone)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs: Any) -> None:
        services.queue_code_sms(phone, code)

    def send_account_already_exists_sms(self, phone: str) -> None:
        services.queue_account_exists_sms(phone)

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        """Nothing: a text to a number without an account would only cost money."""


class NationalSSOAdapter(DefaultSocialAccountAdapter):
    """Log citizens in with the national SSO (allauth's openid_connect provider, app ``vneid``)."""

    def pre_social_login(self, request, sociallogin) -> None:
        """Map the national claims to the citizen account keyed by ``SoDinhDanh`` and attach this identity.

        Refuses unusable claims and staff accounts with a 400 page; nothing is written then.
        """
        data = sociallogin.account.extra_data or {}
        claims = dict(data.get("userinfo") or data.get("id_token") or {})
        id_token = data.get("id_token") or {}
        try:
            if id_token.get("sub") and claims.get("sub") != id_token.get("sub"):
                raise ValidationError(_("The identity provider gave two different subjects."))
            user = services.citizen_from_claims(claims)
            if sociallogin.is_existing and sociallogin.user.pk != user.pk:
                raise PermissionDenied(_("This identity is linked to another account."))
        except (ValidationError, PermissionDenied) as error:
            message = error.messages[0] if isinstance(error, ValidationError) else str(error)
            raise ImmediateHttpResponse(sso_failed(request, message)) from None
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)
        else:
            sociallogin.user = user

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        """A failed SSO round trip (wrong state, refused code, bad token) shows our page, status 400."""
        if error == AuthError.CANCELLED:
            return  # allauth shows its "cancelled" page
        raise ImmediateHttpResponse(sso_failed(request, _("the identity provider's answer could not be verified.")))


def sso_failed(request, reason: str):
    return render(
        request,
        "socialaccount/authentication_error.html",
        {"errors": [_("Single sign-on failed: %(reason)s") % {"reason": reason}]},
        status=400,
    )
