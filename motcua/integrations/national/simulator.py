"""A national-portal simulator: a real HTTP server on 127.0.0.1 for the tests, the bench and the demo.

It speaks what ``client`` speaks (integrations.md §1): a login that returns a ``session``
carried in the body, an OAuth2 client-credentials token endpoint, the business operations on
the integration path (``DongBoHoSoMC``, ``CapNhatTienDoHoSoMC``, ``TraCuuHoSo``, the inbox of
dossiers submitted on the portal) and the catalogue operations on the share path (``LayThuTuc``,
``LayDanhSachTTHC``). It keeps what it applied, deduplicates items by their idempotency key
(a repeat is recorded as a duplicate and answered with success, never applied twice), and
checks what a portal would check: known dossier before an update or progress, no second
creation, status codes 1–10, ``yyyyMMddHHmmss`` dates.

Faults, set through ``set_faults`` or ``POST /_simulator/faults``: a share of calls failing with
HTTP 500 (nothing applied), timing out (applied, then the reply is held back past the client's
timeout), answering slowly, dropping the reply (applied, then the connection is reset), being
down (every portal call reset unanswered) and rejecting payloads that match a rule. A call is
all-or-nothing: a rejected batch applies none of its items.

Run it with ``python manage.py national_portal_simulator``; in tests use it as a context manager.
Standard library only (``http.server.ThreadingHTTPServer``), no Django.
"""

import base64
import contextlib
import json
import random
import secrets
import socket
import struct
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

from motcua.integrations.national.mapping import DATE_FORMAT, NATIONAL_STATUS_MEANINGS
from motcua.simulation import ServedInThread

CONTROL_PREFIX = "/_simulator"
DATE_FIELDS = ("NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy")


@dataclass
class RejectRule:
    """Reject any item whose ``field`` equals (or, with ``contains``, contains) ``value``."""

    field: str
    value: str
    message: str = ""
    contains: bool = False
    service: str = ""

    def matches(self, service: str, item: dict[str, Any]) -> bool:
        if self.service and self.service != service:
            return False
        actual = item.get(self.field)
        if actual is None:
            return False
        actual = str(actual)
        return self.value in actual if self.contains else actual == self.value


@dataclass
class Faults:
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 2.0
    drop_rate: float = 0.0
    delay_seconds: float = 0.0
    down: bool = False
    reject: list[RejectRule] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Faults":
        values = {key: value for key, value in data.items() if key in cls.__dataclass_fields__ and key != "reject"}
        faults = cls(**values)
        faults.reject = [
            rule if isinstance(rule, RejectRule) else RejectRule(**rule) for rule in data.get("reject", [])
        ]
        return faults


@dataclass
class Credentials:
    username: str = "motcua"
    password: str = "motcua-simulator"
    client_id: str = "motcua"
    client_secret: str = "motcua-simulator-secret"
    token_lifetime: int = 3600


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of texts that may hold Vietnamese letters."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed worker, a timeout) is not worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Abort(Exception):
    """Reset the connection without answering."""


class SimulatorState:
    """Everything the portal knows and received; guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.dossiers: dict[str, dict[str, Any]] = {}
        self.progress: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.applied: list[dict[str, Any]] = []
        self.duplicates: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.keys: dict[str, set[str]] = defaultdict(set)
        self.procedures: dict[str, dict[str, Any]] = {}
        self.inbox: list[dict[str, Any]] = []
        self.sessions: set[str] = set()
        self.tokens: dict[str, float] = {}
        self.sequence = 0


class NationalPortalSimulator(ServedInThread):
    """``with NationalPortalSimulator() as sim: sim.url`` — see the module docstring."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: Credentials | None = None,
        unit_code: str = "",
        key_field: str = "IdempotencyKey",
        auth_path: str = "/auth/login",
        token_path: str = "/oauth2/token",
        integration_path: str = "/integration",
        share_path: str = "/share",
        inbox_service: str = "LayDanhSachHoSoMoi",
        seed: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.credentials = credentials or Credentials()
        self.unit_code = unit_code
        self.key_field = key_field
        self.paths = {"auth": auth_path, "token": token_path, "integration": integration_path, "share": share_path}
        self.inbox_service = inbox_service
        self.verbose = verbose
        self.state = SimulatorState()
        self.faults = Faults()
        self.rng = random.Random(seed)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> "NationalPortalSimulator":
        handler = type("Handler", (_Handler,), {"simulator": self})
        server = _Server((self.host, self.port), handler)
        self.port = server.server_address[1]
        return self._serve(server, "national-portal-sim")

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the management command)."""
        handler = type("Handler", (_Handler,), {"simulator": self})
        self._server = _Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- control (Python) ----------------------------------------------------------------

    def set_faults(self, **values: Any) -> None:
        with self.state.lock:
            self.faults = Faults.from_dict(values)

    def reset(self) -> None:
        with self.state.lock:
            self.state.reset()
            self.faults = Faults()

    def expire_sessions(self) -> None:
        """Forget every session and token, as a platform restart would."""
        with self.state.lock:
            self.state.sessions.clear()
            self.state.tokens.clear()

    def add_inbox(self, dossiers: Iterable[dict[str, Any]]) -> None:
        """Dossiers submitted on the portal: in its inbox for us, and known to it with status 1."""
        with self.state.lock:
            for dossier in dossiers:
                self.state.inbox.append(dict(dossier))
                code = str(dossier.get("MaHoSo") or "")
                if code:
                    self.state.dossiers.setdefault(code, {**dossier, "TrangThaiHoSo": "1"})

    def set_procedures(self, records: Iterable[dict[str, Any]]) -> None:
        with self.state.lock:
            self.state.procedures = {str(r["MATTHC"]): dict(r) for r in records}

    def applied(self, service: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(a) for a in self.state.applied if service is None or a["service"] == service]

    def duplicates(self, service: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(d) for d in self.state.duplicates if service is None or d["service"] == service]

    def calls(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(c) for c in self.state.calls]

    def dossier(self, code: str) -> dict[str, Any] | None:
        with self.state.lock:
            found = self.state.dossiers.get(code)
            return dict(found) if found else None

    def progress(self, code: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(p) for p in self.state.progress.get(code, [])]

    def summary(self) -> dict[str, Any]:
        with self.state.lock:
            outcomes: dict[str, int] = defaultdict(int)
            for call in self.state.calls:
                outcomes[call["outcome"]] += 1
            return {
                "dossiers": len(self.state.dossiers),
                "applied": len(self.state.applied),
                "duplicates": len(self.state.duplicates),
                "calls": len(self.state.calls),
                "outcomes": dict(outcomes),
                "faults": asdict(self.faults),
            }

    # --- the portal ----------------------------------------------------------------------

    def _roll(self) -> str:
        """Decide the fate of one portal call from the fault rates."""
        faults = self.faults
        if faults.down:
            return "down"
        with self.state.lock:
            r = self.rng.random()
        if r < faults.fail_rate:
            return "failed"
        if r < faults.fail_rate + faults.timeout_rate:
            return "timeout"
        if r < faults.fail_rate + faults.timeout_rate + faults.drop_rate:
            return "dropped"
        return "ok"

    def _record_call(self, path: str, service: str, outcome: str, items: int = 0, message: str = "") -> None:
        with self.state.lock:
            self.state.calls.append(
                {"at": time.time(), "path": path, "service": service, "outcome": outcome, "items": items}
                | ({"message": message} if message else {})
            )

    def login(self, body: Any) -> tuple[int, dict[str, Any]]:
        creds = self.credentials
        if (
            isinstance(body, dict)
            and _same(str(body.get("username", "")), creds.username)
            and _same(str(body.get("password", "")), creds.password)
        ):
            session = secrets.token_hex(16)
            with self.state.lock:
                self.state.sessions.add(session)
            return 200, {"error_code": 0, "message": "Đăng nhập thành công", "session": session}
        return 200, {"error_code": "1", "message": "Sai tên đăng nhập hoặc mật khẩu."}

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
                client_id, client_secret = (unquote_plus(part) for part in decoded.partition(":")[::2])
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = ""
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "Chỉ hỗ trợ client_credentials."}
        creds = self.credentials
        if not (_same(client_id, creds.client_id) and _same(client_secret, creds.client_secret)):
            return 401, {"error": "invalid_client", "error_description": "Sai mã ứng dụng hoặc khóa bí mật."}
        token = secrets.token_hex(20)
        with self.state.lock:
            self.state.tokens[token] = time.time() + creds.token_lifetime
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": creds.token_lifetime}

    def authorised(self, body: dict[str, Any], authorization: str) -> bool:
        with self.state.lock:
            if body.get("session") and str(body["session"]) in self.state.sessions:
                return True
            if authorization.lower().startswith("bearer "):
                expires = self.state.tokens.get(authorization[7:].strip())
                return expires is not None and expires > time.time()
        return False

    def business(self, body: dict[str, Any], *, share: bool) -> tuple[dict[str, Any], bool]:
        """(reply, applied) for one authorised call; all-or-nothing under the state lock."""
        service = str(body.get("service", ""))
        if self.unit_code and str(body.get("madonvi", "")) != self.unit_code:
            return {"error_code": "98", "message": f"Mã đơn vị {body.get('madonvi')!r} không đúng."}, False
        with self.state.lock:
            if share:
                return self._share(service, body), False
            if service == "DongBoHoSoMC":
                return self._sync_dossiers(body)
            if service == "CapNhatTienDoHoSoMC":
                return self._push_progress(body)
            if service == "TraCuuHoSo":
                found = self.state.dossiers.get(str(body.get("mahoso", "")))
                return {"error_code": 0, "result": [found] if found else []}, False
            if service == self.inbox_service:
                since = str(body.get("tuNgay") or "")
                result = [d for d in self.state.inbox if str(d.get("NgayNopHoSo", "")) >= since]
                return {"error_code": 0, "result": result}, False
        return {"error_code": "404", "message": f"Dịch vụ {service!r} không tồn tại."}, False

    def _share(self, service: str, body: dict[str, Any]) -> dict[str, Any]:
        if service == "LayThuTuc":
            found = self.state.procedures.get(str(body.get("maTTHC", "")))
            return {"error_code": 0, "result": [found] if found else []}
        if service == "LayDanhSachTTHC":
            return {"error_code": 0, "result": list(self.state.procedures.values())}
        return {"error_code": "404", "message": f"Dịch vụ {service!r} không tồn tại."}

    def _items(self, service: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        data = body.get("data")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            return [], ["Trường data phải là một danh sách đối tượng."]
        problems = []
        for item in data:
            for rule in self.faults.reject:
                if rule.matches(service, item):
                    problems.append(
                        rule.message or f"Hồ sơ {item.get('MaHoSo')}: giá trị {rule.field} không được chấp nhận."
                    )
        return data, problems

    def _split(self, service: str, data: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(fresh, repeats): a repeat carries a key that was already applied."""
        fresh, repeats = [], []
        for item in data:
            key = str(item.get(self.key_field) or "")
            (repeats if key and key in self.state.keys[service] else fresh).append(item)
        return fresh, repeats

    def _repeated(self, service: str, repeats: list[dict[str, Any]]) -> None:
        for item in repeats:
            self.state.duplicates.append(
                {
                    "service": service,
                    "key": str(item.get(self.key_field)),
                    "code": item.get("MaHoSo"),
                    "at": time.time(),
                }
            )

    def _apply(self, service: str, item: dict[str, Any], status: str) -> None:
        key = str(item.get(self.key_field) or "")
        if key:
            self.state.keys[service].add(key)
        self.state.sequence += 1
        self.state.applied.append(
            {
                "service": service,
                "key": key,
                "code": item.get("MaHoSo"),
                "status": status,
                "seq": self.state.sequence,
                "at": time.time(),
            }
        )

    def _check_dates(self, item: dict[str, Any], names: Iterable[str], problems: list[str]) -> None:
        for name in names:
            value = str(item.get(name) or "")
            if not value:
                continue
            try:
                time.strptime(value, DATE_FORMAT)
                valid = len(value) == 14
            except ValueError:
                valid = False
            if not valid:
                problems.append(f"Hồ sơ {item.get('MaHoSo')}: {name} “{value}” không đúng định dạng yyyyMMddHHmmss.")

    def _sync_dossiers(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        service = "DongBoHoSoMC"
        updating = str(body.get("isUpdating", "")).lower() == "true"
        data, problems = self._items(service, body)
        fresh, repeats = self._split(service, data)
        for item in fresh:
            code = str(item.get("MaHoSo") or "")
            if not code or not item.get("MaTTHC"):
                problems.append("Thiếu MaHoSo hoặc MaTTHC.")
                continue
            if str(item.get("TrangThaiHoSo")) not in NATIONAL_STATUS_MEANINGS:
                problems.append(f"Hồ sơ {code}: TrangThaiHoSo “{item.get('TrangThaiHoSo')}” không hợp lệ.")
            self._check_dates(item, DATE_FIELDS, problems)
            exists = code in self.state.dossiers
            if updating and not exists:
                problems.append(f"Hồ sơ {code} chưa có trên Cổng, không thể cập nhật.")
            if not updating and exists:
                problems.append(f"Hồ sơ {code} đã tồn tại trên Cổng.")
        if problems:
            return {"error_code": "99", "message": " ".join(problems)}, False
        self._repeated(service, repeats)
        for item in fresh:
            self.state.dossiers[str(item["MaHoSo"])] = dict(item)
            self._apply(service, item, str(item["TrangThaiHoSo"]))
        return {"error_code": 0, "message": "Đồng bộ thành công"}, bool(fresh)

    def _push_progress(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        service = "CapNhatTienDoHoSoMC"
        data, problems = self._items(service, body)
        fresh, repeats = self._split(service, data)
        for item in fresh:
            code = str(item.get("MaHoSo") or "")
            if code not in self.state.dossiers:
                problems.append(f"Hồ sơ {code} chưa có trên Cổng, không thể cập nhật tiến độ.")
            if str(item.get("TrangThai")) not in NATIONAL_STATUS_MEANINGS:
                problems.append(f"Hồ sơ {code}: TrangThai “{item.get('TrangThai')}” không hợp lệ.")
            self._check_dates(item, ("ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh"), problems)
        if problems:
            return {"error_code": "99", "message": " ".join(problems)}, False
        self._repeated(service, repeats)
        for item in fresh:
            self.state.progress[str(item["MaHoSo"])].append(dict(item))
            self._apply(service, item, str(item["TrangThai"]))
        return {"error_code": 0, "message": "Cập nhật tiến độ thành công"}, bool(fresh)

    def control(self, method: str, path: str, body: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
        action = path[len(CONTROL_PREFIX) :].strip("/")
        if method == "GET" and action == "state":
            detail = query.get("detail", ["0"])[0] == "1"
            result = self.summary()
            if detail:
                result.update(applied=self.applied(), duplicates=self.duplicates(), calls=self.calls())
            return 200, result
        if method != "POST":
            return 405, {"message": "Use POST."}
        if action == "faults":
            try:
                self.set_faults(**(body or {}))
            except TypeError as exc:
                return 400, {"message": str(exc)}
            return 200, {"faults": asdict(self.faults)}
        if action == "reset":
            self.reset()
            return 200, {"message": "reset"}
        if action == "expire-sessions":
            self.expire_sessions()
            return 200, {"message": "expired"}
        if action == "inbox" and isinstance(body, list):
            self.add_inbox(body)
            return 200, {"inbox": len(self.state.inbox)}
        if action == "procedures" and isinstance(body, list):
            self.set_procedures(body)
            return 200, {"procedures": len(self.state.procedures)}
        return 404, {"message": f"Unknown control action {action!r}."}


class _Handler(BaseHTTPRequestHandler):
    simulator: NationalPortalSimulator
    protocol_version = "HTTP/1.1"
    server_version = "NationalPortalSimulator/1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.simulator.verbose:
            super().log_message(format, *args)

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset_connection(self) -> None:
        """Close with a TCP reset: the client sees its connection dropped, no reply."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith(CONTROL_PREFIX):
            status, body = self.simulator.control("GET", url.path, None, parse_qs(url.query))
            self._send(status, body)
        else:
            self._send(404, {"error_code": "404", "message": "Không tìm thấy."})

    def do_POST(self) -> None:
        sim = self.simulator
        url = urlsplit(self.path)
        raw = self._read()
        if url.path.startswith(CONTROL_PREFIX):
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                self._send(400, {"message": "Invalid JSON."})
                return
            status, reply = sim.control("POST", url.path, body, parse_qs(url.query))
            self._send(status, reply)
            return
        paths = sim.paths
        if url.path not in paths.values():
            self._send(404, {"error_code": "404", "message": "Không tìm thấy."})
            return
        try:
            self._portal(url.path, raw)
        except _Abort:
            self._reset_connection()

    def _portal(self, path: str, raw: bytes) -> None:
        sim = self.simulator
        paths = sim.paths
        fate = sim._roll()
        if fate == "down":
            sim._record_call(path, "", "down")
            raise _Abort
        if fate == "failed":
            sim._record_call(path, "", "failed")
            self._send(500, {"error_code": "500", "message": "Lỗi hệ thống (mô phỏng)."})
            return
        if sim.faults.delay_seconds:
            time.sleep(sim.faults.delay_seconds)

        if path == paths["token"]:
            form = {key: values[0] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
            status, reply = sim.token(form, self.headers.get("Authorization", ""))
            sim._record_call(path, "token", "ok" if status == 200 else "unauthorised")
            self._answer(fate, status, reply)
            return
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            sim._record_call(path, "", "bad_json")
            self._send(400, {"error_code": "400", "message": "Nội dung yêu cầu không phải JSON hợp lệ."})
            return
        if path == paths["auth"]:
            status, reply = sim.login(body)
            sim._record_call(path, "login", "ok" if reply.get("session") else "unauthorised")
            self._answer(fate, status, reply)
            return
        if not isinstance(body, dict):
            self._send(400, {"error_code": "400", "message": "Nội dung yêu cầu phải là một đối tượng JSON."})
            return
        service = str(body.get("service", ""))
        if not sim.authorised(body, self.headers.get("Authorization", "")):
            sim._record_call(path, service, "unauthorised")
            self._send(401, {"error_code": "401", "message": "Phiên làm việc không hợp lệ hoặc đã hết hạn."})
            return
        reply, _applied = sim.business(body, share=path == paths["share"])
        items = len(body.get("data") or []) if isinstance(body.get("data"), list) else 0
        outcome = "ok" if str(reply.get("error_code")) in ("0", "00") else "rejected"
        message = str(reply.get("message", "")) if outcome == "rejected" else ""
        sim._record_call(path, service, outcome if fate == "ok" else fate, items, message)
        self._answer(fate, 200, reply)

    def _answer(self, fate: str, status: int, reply: dict[str, Any]) -> None:
        """Send the reply, or lose it as the fault says (the work above is already done)."""
        if fate == "dropped":
            raise _Abort
        if fate == "timeout":
            time.sleep(self.simulator.faults.timeout_seconds)
        with contextlib.suppress(OSError):
            self._send(status, reply)
