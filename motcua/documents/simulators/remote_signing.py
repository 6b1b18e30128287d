"""A local remote-signing service in the shape of VNPT SmartCA's SP769 API (integrations.md §7.2).

A real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a thread), for the tests and the demo:

- ``POST {base}/credentials/get_certificate`` → ``data.user_certificates[]`` (cert_id, cert_subject,
  serial_number, cert_valid_from/to, cert_data = base64 DER, chain_data, cert_status_code);
- ``POST {base}/signatures/sign`` with ``sign_files[].data_to_be_signed`` (hex SHA-256 hash) →
  ``data.transaction_id``; the signer "approves in the app" after ``approve_after_polls`` polls;
- ``GET {base}/signatures/sign/{transaction_id}/status`` → ``data.status`` PENDING / SUCCESS /
  EXPIRED / REJECTED and, on success, ``data.signatures[].signature_value`` (base64 RSA PKCS#1 v1.5).

Replies carry ``status_code`` 0 on success, like the real service. Each account has a behaviour
so the tests can make the service refuse, fail, hang or return a wrong signature. The fields of
the real ``signatures/sign`` request were not captured (UNCONFIRMED); these are our assumption.

For the demo: ``python manage.py remote_signing_simulator`` serves the demo PKI's remote accounts.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.serialization import Encoding

BASE_PATH = "/sca/sp769/v1"
APPROVE, REJECT, EXPIRE, ERROR, HANG, WRONG_KEY = "approve", "reject", "expire", "error", "hang", "wrong_key"


@dataclass
class Account:
    user_id: str
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    behaviour: str = APPROVE


@dataclass
class Transaction:
    account: Account
    digests: list[tuple[str, bytes]]
    polls: int = 0
    created: float = field(default_factory=time.monotonic)


class RemoteSigningSimulator:
    def __init__(
        self,
        *,
        sp_id: str = "motcua-demo",
        sp_password: str = "",
        approve_after_polls: int = 1,
        hang_seconds: float = 5.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.sp_id = sp_id
        self.sp_password = sp_password or secrets.token_urlsafe(12)
        self.approve_after_polls = approve_after_polls
        self.hang_seconds = hang_seconds
        self.accounts: dict[str, Account] = {}
        self.transactions: dict[str, Transaction] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- control -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    def add_account(
        self,
        user_id: str,
        key: rsa.RSAPrivateKey,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
        behaviour: str = APPROVE,
    ) -> Account:
        account = Account(user_id, key, certificate, tuple(chain), behaviour)
        with self._lock:
            self.accounts[user_id] = account
        return account

    def start(self) -> RemoteSigningSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="remote-signing-simulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the demo command)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> RemoteSigningSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the service ---------------------------------------------------------------------------

    def _authorised(self, body: dict) -> bool:
        return body.get("sp_id") == self.sp_id and body.get("sp_password") == self.sp_password

    def get_certificate(self, body: dict) -> tuple[int, dict]:
        if not self._authorised(body):
            return 401, {"status_code": 401, "message": "Unauthorized: wrong sp_id or sp_password"}
        account = self.accounts.get(str(body.get("user_id", "")))
        if account is None:
            return 200, {"status_code": 404, "message": "USER_NOT_FOUND"}
        cert = account.certificate
        item = {
            "cert_id": format(cert.serial_number, "x")[:16],
            "cert_subject": cert.subject.rfc4514_string(),
            "serial_number": format(cert.serial_number, "x"),
            "cert_valid_from": cert.not_valid_before_utc.isoformat(),
            "cert_valid_to": cert.not_valid_after_utc.isoformat(),
            "cert_data": base64.b64encode(cert.public_bytes(Encoding.DER)).decode(),
            "chain_data": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in account.chain],
            "cert_status_code": "VALID",
        }
        return 200, {"status_code": 0, "message": "success", "data": {"user_certificates": [item]}}

    def sign(self, body: dict) -> tuple[int, dict]:
        if not self._authorised(body):
            return 401, {"status_code": 401, "message": "Unauthorized: wrong sp_id or sp_password"}
        account = self.accounts.get(str(body.get("user_id", "")))
        if account is None:
            return 200, {"status_code": 404, "message": "USER_NOT_FOUND"}
        if account.behaviour == ERROR:
            return 503, {"status_code": 503, "message": "Hệ thống ký số đang bảo trì"}
        if account.behaviour == HANG:
            time.sleep(self.hang_seconds)
        try:
            digests = [(str(f["doc_id"]), bytes.fromhex(f["data_to_be_signed"])) for f in body["sign_files"]]
        except (KeyError, TypeError, ValueError):
            return 400, {"status_code": 400, "message": "Invalid sign_files"}
        if not digests or any(len(d) != 32 for _doc, d in digests):
            return 400, {"status_code": 400, "message": "data_to_be_signed must be a SHA-256 hash"}
        transaction_id = str(body.get("transaction_id") or secrets.token_hex(16))
        with self._lock:
            self.transactions[transaction_id] = Transaction(account, digests)
        return 200, {
            "status_code": 0,
            "message": "success",
            "data": {"transaction_id": transaction_id, "tran_code": secrets.token_hex(4)},
        }

    def status(self, transaction_id: str) -> tuple[int, dict]:
        with self._lock:
            transaction = self.transactions.get(transaction_id)
            if transaction is not None:
                transaction.polls += 1
        if transaction is None:
            return 200, {"status_code": 404, "message": "TRANSACTION_NOT_FOUND"}
        behaviour = transaction.account.behaviour
        data: dict = {"transaction_id": transaction_id}
        if behaviour == REJECT:
            data["status"] = "REJECTED"
        elif behaviour == EXPIRE:
            data["status"] = "EXPIRED"
        elif transaction.polls < self.approve_after_polls:
            data["status"] = "PENDING"
        else:
            key = transaction.account.key
            if behaviour == WRONG_KEY:
                key = rsa.generate_private_key(public_exponent=65537, key_size=key.key_size)
            data["status"] = "SUCCESS"
            data["signatures"] = [
                {
                    "doc_id": doc_id,
                    "signature_value": base64.b64encode(
                        key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
                    ).decode(),
                }
                for doc_id, digest in transaction.digests
            ]
        return 200, {"status_code": 0, "message": data["status"], "data": data}

    def _handler(self):
        simulator = self
        status_path = re.compile(rf"^{re.escape(BASE_PATH)}/signatures/sign/([^/]+)/status$")

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args) -> None:  # quiet in tests
                pass

            def _reply(self, code: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_POST(self) -> None:
                simulator.requests.append(("POST", self.path))
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._reply(400, {"status_code": 400, "message": "Invalid JSON"})
                    return
                if self.path == f"{BASE_PATH}/credentials/get_certificate":
                    self._reply(*simulator.get_certificate(body))
                elif self.path == f"{BASE_PATH}/signatures/sign":
                    self._reply(*simulator.sign(body))
                else:
                    self._reply(404, {"status_code": 404, "message": "Not found"})

            def do_GET(self) -> None:
                simulator.requests.append(("GET", self.path))
                match = status_path.match(self.path)
                if match:
                    self._reply(*simulator.status(match.group(1)))
                else:
                    self._reply(404, {"status_code": 404, "message": "Not found"})

        return Handler
