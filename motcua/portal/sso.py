"""Log citizens in with the national SSO (OpenID Connect, authorization code + PKCE) through Authlib's Django client.

Configured from settings ``PORTAL_SSO = {"server_url", "client_id", "client_secret"}`` or the
environment (``MOTCUA_SSO_SERVER_URL``, ``MOTCUA_SSO_CLIENT_ID``, ``MOTCUA_SSO_CLIENT_SECRET``);
the provider's endpoints come from its discovery document. The id_token (RS256, nonce) is
validated by Authlib against the provider's JWKS; the national claims come from userinfo.
"""

import os

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from motcua.portal import services


def config() -> dict[str, str] | None:
    conf = getattr(settings, "PORTAL_SSO", None) or {
        "server_url": os.environ.get("MOTCUA_SSO_SERVER_URL", ""),
        "client_id": os.environ.get("MOTCUA_SSO_CLIENT_ID", ""),
        "client_secret": os.environ.get("MOTCUA_SSO_CLIENT_SECRET", ""),
    }
    return conf if conf.get("server_url") and conf.get("client_id") else None


def _client():
    conf = config()
    if conf is None:
        raise Http404(_("Single sign-on is not configured."))
    oauth = OAuth()  # one registry per request: the configuration may change (tests, several providers)
    return oauth.register(
        name="national",
        client_id=conf["client_id"],
        client_secret=conf.get("client_secret", ""),
        server_metadata_url=conf["server_url"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid", "code_challenge_method": "S256", "timeout": 10},
    )


def sso_login(request: HttpRequest) -> HttpResponse:
    """Send the citizen to the national SSO."""
    return _client().authorize_redirect(request, request.build_absolute_uri(reverse("portal:sso-callback")))


def sso_callback(request: HttpRequest) -> HttpResponse:
    """Back from the SSO: check state, nonce and id_token, map the claims, log the citizen in."""
    client = _client()
    try:
        token = client.authorize_access_token(request)
        claims = dict(client.userinfo(token=token))
        if claims.get("sub") != token["userinfo"]["sub"]:
            raise OAuthError(description="userinfo subject differs from the id_token's")
        user = services.citizen_from_claims(claims)
    except (OAuthError, ValidationError, PermissionDenied, KeyError) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        return render(
            request,
            "portal/login.html",
            {"errors": [_("Single sign-on failed: %(reason)s") % {"reason": message}]},
            status=400,
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("portal:my")
