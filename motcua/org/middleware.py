"""Send staff whose password is older than the allowed age to the password-change page."""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _


def password_expired(user) -> bool:
    max_age = settings.MOTCUA_PASSWORD_MAX_AGE_DAYS
    if not max_age or not user.is_authenticated or not user.has_usable_password():
        return False
    changed = user.password_changed_at
    return changed is None or timezone.now() - changed > timedelta(days=max_age)


class PasswordExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if password_expired(request.user):
            # Desk users change it in the desk; other staff (clerks, officers) on the staff page.
            change = "admin:password_change" if request.user.is_staff else "dossiers:password-change"
            allowed = {
                reverse(change),
                reverse("admin:password_change_done"),
                reverse("admin:logout"),
                reverse("dossiers:logout"),
            }
            if request.path not in allowed and not request.path.startswith(("/static/", "/api/", "/i18n/")):
                messages.warning(
                    request,
                    _("Your password has not been changed for %(days)s days. Please choose a new one to continue.")
                    % {"days": settings.MOTCUA_PASSWORD_MAX_AGE_DAYS},
                )
                return redirect(change)
        return self.get_response(request)
