"""Send people whose password is older than the allowed age to the password-change page, and keep
sessions alive only while they are used."""

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua.org.selectors import is_staff_account


def password_expired(user) -> bool:
    max_age = settings.MOTCUA_PASSWORD_MAX_AGE_DAYS
    if not max_age or not user.is_authenticated or not user.has_usable_password():
        return False
    changed = user.password_changed_at
    return changed is None or timezone.now() - changed > timedelta(days=max_age)


def password_expired_message() -> str:
    """The sentence shown on pages and in the API's 403 when the password is too old."""
    return _("Your password has not been changed for %(days)s days. Please choose a new one to continue.") % {
        "days": settings.MOTCUA_PASSWORD_MAX_AGE_DAYS
    }


def password_change_url(user) -> str:
    """Desk users change it in the desk, other staff on the staff page, citizens in the portal."""
    if not is_staff_account(user):
        return reverse("account_change_password")
    return reverse("admin:password_change" if user.is_staff else "dossiers:password-change")


class PasswordExpiryMiddleware:
    """Pages redirect to the change form; the API answers 403 itself (``motcua.api.auth``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if password_expired(request.user):
            change = password_change_url(request.user)
            allowed = {
                change,
                reverse("admin:password_change_done"),
                reverse("admin:logout"),
                reverse("dossiers:logout"),
                reverse("account_logout"),
            }
            if request.path not in allowed and not request.path.startswith(("/static/", "/api/", "/i18n/")):
                messages.warning(request, password_expired_message())
                return redirect(change)
        return self.get_response(request)


class SessionActivityMiddleware:
    """Save a logged-in session again at most every ``MOTCUA_SESSION_TOUCH_SECONDS``.

    The session store sets the expiry date (now + SESSION_COOKIE_AGE) on every save, so this turns
    SESSION_COOKIE_AGE into an idle limit: a counter PC left logged in is logged out after it,
    without a database write on every request (which SESSION_SAVE_EVERY_REQUEST would cost).
    """

    KEY = "_motcua_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated and not session.is_empty():
            now = int(time.time())
            every = int(getattr(settings, "MOTCUA_SESSION_TOUCH_SECONDS", 300))
            if now - int(session.get(self.KEY, 0)) >= every:
                session[self.KEY] = now
        return response
