"""Limits on the staff log-ins (``/staff/login/`` and the desk's ``/admin/login/``), on django-axes.

axes counts failed log-ins in its tables (``AccessAttempt``, ``AccessFailureLog``; successful
log-ins in ``AccessLog``) and refuses further tries, even with the right password, once an account
has ``AXES_FAILURE_LIMIT`` failures or a client address ``MOTCUA_LOGIN_FAILURE_LIMIT_PER_ADDRESS``
failures (across accounts) within the cool-off period; the lock ends ``AXES_COOLOFF_TIME`` after
the last failure, or when a unit administrator unlocks the account in the desk.

Citizens log in through allauth, which has its own limits (``ACCOUNT_RATE_LIMITS``); only the
two staff log-in pages are counted here, so a citizen's typo never locks a counter PC.
"""

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse


def is_staff_login(request: HttpRequest | None) -> bool:
    """A POST to one of the two staff log-in pages (the only requests axes counts)."""
    if request is None or not getattr(request, "path", ""):
        return False
    return request.path in {reverse("dossiers:login"), reverse("admin:login")}


def username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The e-mail as staff log in with it: stripped and lower-case, so "A@x" and "a@x " count together."""
    value = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if value is None and request is not None:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return str(value).strip().lower()[:255] if value is not None else None


class StaffLoginBackend(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a locked account or address on the staff log-ins.

    Other callers of ``authenticate()`` (allauth's citizen log-in, Django's test client, which
    passes no request) are left to the backends after it.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password=None, **kwargs):
        if not is_staff_login(request):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class StaffLoginHandler(AxesDatabaseHandler):
    """axes' database handler, counting the staff log-ins only, with a separate limit per address."""

    def is_allowed(self, request, credentials=None) -> bool:
        return not is_staff_login(request) or super().is_allowed(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if is_staff_login(request):
            super().user_login_failed(sender, credentials, request=request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        if not is_staff_login(request):
            return
        super().user_logged_in(sender, request, user, **kwargs)
        # Forget this account's own failures (not the address's failures for other accounts, as
        # AXES_RESET_ON_SUCCESS would: one known password must not reset the count for the others).
        AccessAttempt.objects.filter(username=user.get_username().lower()).delete()

    def get_failures(self, request, credentials=None) -> int:
        """The larger of the account's failures and the address's, the latter scaled so that
        ``MOTCUA_LOGIN_FAILURE_LIMIT_PER_ADDRESS`` of them reach the account's limit."""
        limit = get_failure_limit(request, credentials)
        per_address = max(int(getattr(settings, "MOTCUA_LOGIN_FAILURE_LIMIT_PER_ADDRESS", limit)), 1)
        worst = 0
        for parameter, attempts in zip(
            settings.AXES_LOCKOUT_PARAMETERS, self.get_user_attempts(request, credentials), strict=True
        ):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if parameter == "ip_address":
                count = count * limit // per_address  # ≥ limit exactly when count ≥ per_address
            worst = max(worst, count)
        return worst


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page shown instead of the log-in form while locked: how long, and whom to ask."""
    cool_off = get_cool_off(request)
    minutes = max(int(cool_off.total_seconds() // 60), 1) if cool_off else None
    return render(
        request,
        "org/login_locked.html",
        {"minutes": minutes, "login_url": reverse("dossiers:login")},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
