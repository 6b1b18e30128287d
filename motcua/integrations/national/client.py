"""HTTP client of the national portal (through the provincial integration platform, LGSP).

No Django here: the services build a ``ClientSettings`` from the desk's configuration and the
environment, and call this client only outside database transactions (invariant 6). Every call
has a connect and a read timeout. Two authentication styles are supported, as seen in public
code (integrations.md §1.1, §2): a login whose ``session`` travels in every request body, and an
OAuth2 client-credentials bearer token (fetched with Authlib); a static bearer token and no
authentication (an IP allow-list) are there for provinces that use them.

Errors are sorted by what the caller must do:

- ``TransportError``: the portal could not be reached or did not answer properly (connection
  refused, timeout, HTTP 5xx/429, a reply that is not JSON). Nothing is known about the
  payload; send again later. A timeout may hide a request that *was* applied, which is why
  every item carries an idempotency key.
- ``AuthError``: the credentials were refused (after one fresh login). A configuration problem.
- ``Rejected``: the portal answered and said no (``error_code`` not a success). The payload or
  the data is at fault; the portal's message says why.
"""

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from motcua.integrations.national import mapping

SESSION_LOGIN = "session"
OAUTH2 = "oauth2"
STATIC_BEARER = "bearer"
NO_AUTH = "none"
AUTH_MODES = (SESSION_LOGIN, OAUTH2, STATIC_BEARER, NO_AUTH)


class PortalError(Exception):
    """Base of the client's errors; ``str()`` is a short English/Vietnamese technical message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransportError(PortalError):
    """The portal was not reached or gave no usable answer: try again later."""


class AuthError(PortalError):
    """The portal refused our credentials."""


class Rejected(PortalError):
    """The portal answered with an error code: it refused the request as it is."""

    def __init__(self, message: str, error_code: Any = None, reply: Mapping | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.reply = dict(reply or {})


@dataclass(frozen=True)
class ServiceNames:
    """The ``service`` value of each operation (§1.2); the last two are UNCONFIRMED names."""

    sync_dossiers: str = "DongBoHoSoMC"
    push_progress: str = "CapNhatTienDoHoSoMC"
    find_dossier: str = "TraCuuHoSo"
    get_procedure: str = "LayThuTuc"
    list_procedures: str = "LayDanhSachTTHC"
    fetch_inbox: str = "LayDanhSachHoSoMoi"


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    auth_mode: str = SESSION_LOGIN
    auth_path: str = "/auth/login"
    token_url: str = "/oauth2/token"
    integration_path: str = "/integration"
    share_path: str = "/share"
    unit_code: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    scope: str = ""
    bearer_token: str = field(default="", repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    success_codes: tuple[str, ...] = ("0", "00")
    auth_error_codes: tuple[str, ...] = ("401",)
    verify: bool | str = True
    services: ServiceNames = field(default_factory=ServiceNames)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    @property
    def credential_key(self) -> tuple:
        """What a cached session or token belongs to (never the secret itself)."""
        return (self.base_url, self.auth_mode, self.auth_path, self.token_url, self.username, self.client_id)


class _TokenCache:
    """Sessions and tokens shared by the clients of one process, so a worker loop logs in once
    (OpenCPS logs in before every call, which loads the platform for nothing: §1.6)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple, tuple[str, float]] = {}

    def get(self, key: tuple) -> str | None:
        with self._lock:
            value = self._values.get(key)
        if value is None or value[1] <= time.monotonic():
            return None
        return value[0]

    def put(self, key: tuple, token: str, lifetime: float | None) -> None:
        expires = time.monotonic() + (lifetime if lifetime is not None else 365 * 86400)
        with self._lock:
            self._values[key] = (token, expires)

    def drop(self, key: tuple, token: str | None = None) -> None:
        with self._lock:
            if token is None or self._values.get(key, (None,))[0] == token:
                self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


TOKENS = _TokenCache()


def _reply_json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise TransportError(f"HTTP {response.status_code}: the reply is not JSON.") from None
    if not isinstance(body, dict):
        raise TransportError(f"HTTP {response.status_code}: the reply is not a JSON object.")
    return body


class NationalPortalClient:
    """One configured connection; thread-safe to share, cheap to create."""

    def __init__(self, settings: ClientSettings, http: requests.Session | None = None) -> None:
        if settings.auth_mode not in AUTH_MODES:
            raise ValueError(f"Unknown authentication mode {settings.auth_mode!r}.")
        self.settings = settings
        self.http = http or requests.Session()
        self.calls = 0

    # --- authentication ------------------------------------------------------------------

    def _login(self) -> str:
        s = self.settings
        try:
            response = self.http.post(
                s.url(s.auth_path),
                data=json.dumps({"username": s.username, "password": s.password}, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
                timeout=s.timeout,
                verify=s.verify,
            )
        except requests.RequestException as exc:
            raise TransportError(f"Login: {type(exc).__name__}: {exc}") from exc
        if response.status_code in (401, 403):
            raise AuthError(
                mapping.reply_message(_safe_json(response)) or f"Login refused (HTTP {response.status_code})."
            )
        if response.status_code >= 400:
            raise TransportError(f"Login: HTTP {response.status_code}.")
        reply = _reply_json(response)
        session = reply.get("session")
        if not mapping.is_success(reply.get("error_code"), s.success_codes) or not session:
            raise AuthError(mapping.reply_message(reply) or "Login refused.")
        return str(session)

    def _fetch_oauth_token(self) -> tuple[str, float | None]:
        s = self.settings
        oauth = OAuth2Session(
            client_id=s.client_id,
            client_secret=s.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            scope=s.scope or None,
        )
        try:
            token = oauth.fetch_token(s.url(s.token_url), grant_type="client_credentials", timeout=s.timeout)
        except OAuthError as exc:
            raise AuthError(f"OAuth2: {exc.error}: {exc.description or ''}".strip(": ")) from exc
        except requests.RequestException as exc:
            raise TransportError(f"OAuth2 token: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # a reply that is not JSON
            raise TransportError(f"OAuth2 token: unreadable reply ({exc}).") from exc
        finally:
            oauth.close()
        access = token.get("access_token")
        if not access:
            raise AuthError("OAuth2: the token reply has no access_token.")
        expires_in = token.get("expires_in")
        lifetime = max(1.0, float(expires_in) - 30) if expires_in else None
        return str(access), lifetime

    def _credential(self) -> str | None:
        s = self.settings
        if s.auth_mode == NO_AUTH:
            return None
        if s.auth_mode == STATIC_BEARER:
            return s.bearer_token
        token = TOKENS.get(s.credential_key)
        if token is None:
            if s.auth_mode == SESSION_LOGIN:
                token, lifetime = self._login(), None
            else:
                token, lifetime = self._fetch_oauth_token()
            TOKENS.put(s.credential_key, token, lifetime)
        return token

    def check_credentials(self) -> None:
        """Log in (or fetch a token) afresh; raises AuthError or TransportError."""
        TOKENS.drop(self.settings.credential_key)
        self._credential()

    # --- calls ---------------------------------------------------------------------------

    def call(self, service: str, fields: Mapping[str, Any] | None = None, *, share: bool = False) -> dict[str, Any]:
        """POST one operation; the reply when ``error_code`` is a success, else an error (module doc)."""
        s = self.settings
        url = s.url(s.share_path if share else s.integration_path)
        for attempt in (1, 2):
            credential = self._credential()
            body: dict[str, Any] = {"madonvi": s.unit_code, "service": service, **(fields or {})}
            headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
            if s.auth_mode == SESSION_LOGIN:
                body["session"] = credential
            elif credential:
                headers["Authorization"] = f"Bearer {credential}"
            self.calls += 1
            try:
                response = self.http.post(
                    url,
                    data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                    headers=headers,
                    timeout=s.timeout,
                    verify=s.verify,
                )
            except requests.Timeout as exc:
                raise TransportError(
                    f"{service}: no reply within {s.read_timeout:g} s ({type(exc).__name__})."
                ) from exc
            except requests.RequestException as exc:
                raise TransportError(f"{service}: {type(exc).__name__}: {exc}") from exc
            reply = _safe_json(response)
            auth_refused = response.status_code == 401 or (
                reply and str(reply.get("error_code", "")).strip() in s.auth_error_codes
            )
            if auth_refused and s.auth_mode in (SESSION_LOGIN, OAUTH2):
                TOKENS.drop(s.credential_key, credential)
                if attempt == 1:
                    continue  # the session may simply have expired: log in again once
            if auth_refused or response.status_code == 403:
                raise AuthError(mapping.reply_message(reply) or f"{service}: credentials refused.")
            if response.status_code >= 500 or response.status_code in (404, 408, 429):
                detail = mapping.reply_message(reply)
                raise TransportError(f"{service}: HTTP {response.status_code}" + (f": {detail}" if detail else "."))
            reply = _reply_json(response)
            if response.status_code >= 400 or not mapping.is_success(reply.get("error_code"), s.success_codes):
                message = mapping.reply_message(reply) or f"error_code {reply.get('error_code')!r}"
                raise Rejected(message, reply.get("error_code"), reply)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    # --- operations (§1.2) ---------------------------------------------------------------

    def sync_dossiers(self, items: list[dict[str, Any]], *, updating: bool) -> dict[str, Any]:
        return self.call(
            self.settings.services.sync_dossiers, {"isUpdating": "True" if updating else "False", "data": items}
        )

    def push_progress(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call(self.settings.services.push_progress, {"data": items})

    def find_dossier(self, code: str) -> dict[str, Any] | None:
        """The portal's copy of dossier ``code``, or None when it does not know it."""
        reply = self.call(self.settings.services.find_dossier, {"mahoso": code})
        result = reply.get("result") or []
        return result[0] if isinstance(result, list) and result and isinstance(result[0], dict) else None

    def get_procedure(self, code: str) -> mapping.NationalProcedure | None:
        reply = self.call(self.settings.services.get_procedure, {"maTTHC": code}, share=True)
        result = reply.get("result") or []
        return mapping.parse_procedure(result[0]) if isinstance(result, list) and result else None

    def list_procedures(self) -> list[mapping.NationalProcedure]:
        reply = self.call(self.settings.services.list_procedures, {}, share=True)
        result = reply.get("result") or []
        parsed = [mapping.parse_procedure(record) for record in result] if isinstance(result, list) else []
        return [proc for proc in parsed if proc is not None]

    def fetch_inbox(self, since: str = "") -> list[Any]:
        """Dossiers submitted on the national portal for our unit since ``since`` (yyyyMMddHHmmss)."""
        reply = self.call(self.settings.services.fetch_inbox, {"tuNgay": since})
        result = reply.get("result") or reply.get("data") or []
        return list(result) if isinstance(result, list) else []


def _safe_json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
