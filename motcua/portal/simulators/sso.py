"""A real OpenID Connect provider on 127.0.0.1 standing in for the national SSO (DVCQG / VNeID), for tests and the demo.

Authorization-code flow with discovery, JWKS, an RS256-signed id_token (with the ``nonce``), PKCE
(S256) when the client sends a challenge, and a userinfo endpoint answering the national claims
(integrations.md §3: ``sub``, ``HoVaTen``, ``SoDinhDanh``, ``NgayThangNamSinh``, ``loginIdp``…).
The "login" at the provider is automatic: the identity in ``server.identity`` is the one that
logs in. Run it with ``python -m motcua.portal.simulators.sso --port 8765``.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from authlib.jose import JsonWebKey, jwt

DEFAULT_IDENTITY = {
    "sub": "vneid-026090001234",
    "TechID": "TECH-0001",
    "LoaiTaiKhoan": "1",
    "HoVaTen": "Nguyễn Văn An",
    "SoDinhDanh": "026090001234",
    "NgayThangNamSinh": "19900315",
    "loginIdp": "BCA",
}


class SSOServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, *, client_id: str = "motcua-portal", client_secret: str = "sim-secret"):
        super().__init__(("127.0.0.1", port), _Handler)
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "sim-1"})
        self.identity: dict[str, Any] = dict(DEFAULT_IDENTITY)
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "SSOServer":
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def metadata(self) -> dict[str, Any]:
        base = self.url
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "token_endpoint": f"{base}/oauth2/token",
            "userinfo_endpoint": f"{base}/oauth2/userinfo",
            "jwks_uri": f"{base}/oauth2/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid"],
        }


class _Handler(BaseHTTPRequestHandler):
    server: SSOServer

    def log_message(self, format: str, *args) -> None:  # quiet in tests
        return

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            return self._json(200, self.server.metadata())
        if url.path == "/oauth2/jwks":
            return self._json(200, {"keys": [self.server.key.as_dict(is_private=False)]})
        if url.path == "/oauth2/authorize":
            return self._authorize(query)
        if url.path == "/oauth2/userinfo":
            return self._userinfo()
        self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if urlparse(self.path).path != "/oauth2/token":
            return self._json(404, {"error": "not_found"})
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._token(form)

    def _authorize(self, query: dict[str, str]) -> None:
        if query.get("client_id") != self.server.client_id or query.get("response_type") != "code":
            return self._json(400, {"error": "invalid_request"})
        if "openid" not in query.get("scope", "").split() or not query.get("redirect_uri"):
            return self._json(400, {"error": "invalid_scope"})
        code = secrets.token_urlsafe(24)
        with self.server.lock:
            self.server.codes[code] = {
                "redirect_uri": query["redirect_uri"],
                "nonce": query.get("nonce"),
                "challenge": query.get("code_challenge"),
                "identity": dict(self.server.identity),
                "expires": time.time() + 120,
            }
        back = {"code": code}
        if "state" in query:
            back["state"] = query["state"]
        separator = "&" if "?" in query["redirect_uri"] else "?"
        self.send_response(302)
        self.send_header("Location", f"{query['redirect_uri']}{separator}{urlencode(back)}")
        self.end_headers()

    def _client_ok(self, form: dict[str, str]) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.server.client_id and secrets.compare_digest(secret, self.server.client_secret)

    def _token(self, form: dict[str, str]) -> None:
        if not self._client_ok(form):
            return self._json(401, {"error": "invalid_client"})
        with self.server.lock:
            grant = self.server.codes.pop(form.get("code", ""), None)  # a code is used once
        if grant is None or grant["expires"] < time.time() or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._json(400, {"error": "invalid_grant"})
        if grant["challenge"]:
            verifier = form.get("code_verifier", "").encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
            if digest != grant["challenge"]:
                return self._json(400, {"error": "invalid_grant"})
        now = int(time.time())
        identity = grant["identity"]
        claims = {
            "iss": self.server.url,
            "sub": identity["sub"],
            "aud": self.server.client_id,
            "iat": now,
            "exp": now + 300,
            "acr": "LoA1",
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": "sim-1"}, claims, self.server.key).decode()
        access = secrets.token_urlsafe(24)
        with self.server.lock:
            self.server.tokens[access] = identity
        self._json(200, {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

    def _userinfo(self) -> None:
        header = self.headers.get("Authorization", "")
        identity = self.server.tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if identity is None:
            return self._json(401, {"error": "invalid_token"})
        self._json(200, identity)


def main() -> None:  # pragma: no cover - manual demo
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = SSOServer(args.port)
    print(f"SSO simulator at {server.url} (client id {server.client_id}, secret {server.client_secret})")
    server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
