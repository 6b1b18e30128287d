"""SMS gateway and Zalo simulators: real HTTP servers on 127.0.0.1 for the tests and the demo.

Both can be told to ``fail_next`` n requests (HTTP 503), to ``delay`` seconds, and record what they
delivered (deduplicated by RequestId / tracking_id as the real services are assumed to do). The Zalo
one issues single-use refresh tokens, answers -124 for an expired access token and -118 for phones
in ``no_zalo``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from motcua.simulation import ServedInThread


class _Base(ServedInThread):
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.fail_next = 0
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self.delivered: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def start(self) -> _Base:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(sim.delay)
                with sim.lock:
                    if sim.fail_next > 0:
                        sim.fail_next -= 1
                        code, reply = 503, {"error": "unavailable"}
                    else:
                        code, reply = sim.handle(self.path, dict(self.headers), body)
                data = json.dumps(reply).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return self._serve(ThreadingHTTPServer(("127.0.0.1", self.port), Handler), type(self).__name__)


class SmsSimulator(_Base):
    """eSMS-like: ``POST /send`` JSON; 100 accepted, 124 duplicate RequestId, 108 bad phone."""

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        data = json.loads(body or b"{}")
        self.requests.append(data)
        phone = str(data.get("Phone", ""))
        if not phone.isdigit() or len(phone) < 9:
            return 200, {"CodeResult": "108"}
        key = str(data.get("RequestId", ""))
        if key in self.delivered:
            return 200, {"CodeResult": "124"}
        self.delivered[key] = data
        return 200, {"CodeResult": "100", "SMSID": secrets.token_hex(6)}


class ZaloSimulator(_Base):
    """``POST /oauth`` (refresh, single-use refresh tokens) and ``POST /zns`` (template message)."""

    def __init__(self, refresh_token: str = "rt-0", access_token: str = "", port: int = 0) -> None:
        super().__init__(port)
        self.refresh_tokens = {refresh_token}
        self.access_tokens = {access_token} if access_token else set()
        self.refresh_calls = 0
        self.no_zalo: set[str] = set()
        self.app_secret = secrets.token_urlsafe(16)  # made per simulator: no secret is fixed in code

    def expire_tokens(self) -> None:
        self.access_tokens.clear()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if path.startswith("/oauth"):
            form = dict(parse_qsl(body.decode()))
            self.refresh_calls += 1
            if headers.get("secret_key") != self.app_secret or form.get("grant_type") != "refresh_token":
                return 200, {"error": -14002, "error_name": "Invalid secret"}
            if form.get("refresh_token") not in self.refresh_tokens:
                return 200, {"error": -14014, "error_name": "Invalid refresh token"}
            self.refresh_tokens.discard(form["refresh_token"])  # single use
            access, refresh = f"at-{secrets.token_hex(4)}", f"rt-{secrets.token_hex(4)}"
            self.access_tokens = {access}
            self.refresh_tokens.add(refresh)
            return 200, {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
        data = json.loads(body or b"{}")
        self.requests.append(data)
        if headers.get("access_token") not in self.access_tokens:
            return 200, {"error": -124, "message": "Access token is invalid"}
        if data.get("phone") in self.no_zalo:
            return 200, {"error": -118, "message": "Zalo account not existed"}
        key = str(data.get("tracking_id", ""))
        self.delivered.setdefault(key, data)
        return 200, {"error": 0, "message": "Success", "data": {"msg_id": secrets.token_hex(8)}}
