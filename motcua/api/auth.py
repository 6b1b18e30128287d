"""Authentication of the API: ``auth=token_auth`` on a ninja router or operation.

Bearer tokens (``Authorization: Bearer mc_…``, see ``motcua.api.services.issue_token``) come
first, for scripts and partner systems; an authenticated Django session comes second, so the
app's own pages can call the API — with Django's CSRF check, as a cookie is sent by any page.
Every failure answers 401 in the API's one error shape (``motcua.api.errors``), except a
password older than ``MOTCUA_PASSWORD_MAX_AGE_DAYS``: 403 with a ``detail`` saying to change it
first, for a token as for a session (the pages redirect to the change form instead).
"""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth
from ninja.utils import check_csrf

from motcua.api import selectors, services
from motcua.org.middleware import password_expired, password_expired_message


class InvalidToken(AuthenticationError):
    """A token was presented but is unknown, revoked, expired or its owner inactive."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class PasswordExpired(HttpError):
    """The credentials are good, but the owner's password is too old: 403 until it is changed."""

    def __init__(self) -> None:
        super().__init__(403, password_expired_message())


def refuse_expired(user) -> None:
    if password_expired(user):
        raise PasswordExpired()


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` checked against the stored SHA-256 hashes."""

    def __call__(self, request: HttpRequest) -> Any | None:
        header = request.headers.get(self.header)
        if not header:
            return None  # no header: let the session try
        scheme, _sep, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidToken(_("The Authorization header must be “Bearer <token>”."))
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        row = selectors.token_for_secret(token)
        if row is None:
            raise InvalidToken(_("The API token is not valid."))
        if row.revoked_at is not None:
            raise InvalidToken(_("The API token has been revoked."))
        if not row.is_usable():
            if not row.user.is_active:
                raise InvalidToken(_("The account of this API token is disabled."))
            raise InvalidToken(_("The API token has expired."))
        refuse_expired(row.user)
        services.touch(row)
        request.user = row.user
        request.api_token = row
        return row.user


class CsrfSessionAuth(SessionAuth):
    """The logged-in Django session; CSRF is checked only once there is a session user.

    ninja's ``django_auth`` checks CSRF before looking at the user, so a script that sent no
    credentials at all would get "CSRF failed" instead of 401; here it gets 401.
    """

    def __call__(self, request: HttpRequest) -> Any | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, _("The CSRF check failed: reload the page and try again."))
        refuse_expired(user)
        return user


bearer_auth = BearerTokenAuth()
session_auth = CsrfSessionAuth()

#: Pass as ``auth=`` to ninja routers and operations: bearer token first, then the session.
token_auth = [bearer_auth, session_auth]
