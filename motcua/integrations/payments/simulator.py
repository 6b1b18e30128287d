"""A payment gateway simulator: a real HTTP server on 127.0.0.1, used by tests and the demo.

``GET /pay?...`` shows a page where the browser pays or cancels; the simulator then calls our IPN
(server to server, signed) and redirects the browser to the return URL. ``behaviour`` tells it to
``fail`` (report failure), ``delay`` (seconds before the IPN), ``repeat`` (send the IPN n times) or
``out_of_order`` (send a stale "pending" notice after the "paid" one) or ``drop_ipn`` (lose the IPN: only
the status query, ``GET /query``, tells the outcome). The query answers with a notice signed like the IPN.
"""

from __future__ import annotations

import html
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import requests

from motcua.integrations.payments.gateway import HASH_FIELD, sign, signed
from motcua.simulation import ServedInThread


class GatewaySimulator(ServedInThread):
    def __init__(self, secret: str, merchant_code: str = "MOTCUA", port: int = 0) -> None:
        self.port = port
        self.secret = secret
        self.merchant_code = merchant_code
        self.behaviour: dict[str, Any] = {
            "fail": False,
            "delay": 0.0,
            "repeat": 1,
            "out_of_order": False,
            "drop_ipn": False,
        }
        self.orders: dict[str, dict[str, str]] = {}
        self.results: dict[str, dict[str, str]] = {}  # the final notice of each completed order
        self.queries: list[str] = []
        self.ipn_log: list[tuple[dict[str, str], int]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> GatewaySimulator:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, code: int, body: str, headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = dict(parse_qsl(url.query))
                if url.path == "/pay":
                    sim._pay_page(self, params)
                elif url.path == "/query":
                    sim._query(self, params)
                else:
                    self._send(404, "not found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                if urlparse(self.path).path == "/complete":
                    sim._complete(self, params)
                else:
                    self._send(404, "not found")

        return self._serve(ThreadingHTTPServer(("127.0.0.1", self.port), Handler), "payment-gateway-simulator")

    # --- pages ---------------------------------------------------------------------------------

    def _pay_page(self, handler: Any, params: dict[str, str]) -> None:
        if params.get(HASH_FIELD) != sign(params, self.secret):
            handler._send(400, "<p>Sai chữ ký yêu cầu</p>")
            return
        ref = params["merchant_trans_id"]
        self.orders[ref] = params
        esc = html.escape
        handler._send(
            200,
            f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cổng thanh toán (mô phỏng)</title>
</head><body><main><h1>Cổng thanh toán (mô phỏng)</h1>
<p>Mã giao dịch: <span id="ref">{esc(ref)}</span></p>
<p>Số tiền: <span id="amount">{esc(params["net_cost"])}</span> VND</p>
<form method="post" action="/complete"><input type="hidden" name="ref" value="{esc(ref)}">
<button name="action" value="pay">Thanh toán</button> <button name="action" value="cancel">Hủy</button>
</form></main></body></html>""",
        )

    def notice_for(self, ref: str, code: str, seq: int, trans_id: str) -> dict[str, str]:
        order = self.orders[ref]
        return signed(
            {
                "merchant_code": order["merchant_code"],
                "merchant_trans_id": ref,
                "net_cost": order["net_cost"],
                "trans_id": trans_id,
                "response_code": code,
                "method": "ATM/NAPAS",
                "seq": seq,
            },
            self.secret,
        )

    def send_ipn(self, ipn_url: str, notice: dict[str, str]) -> int:
        status = requests.post(ipn_url, data=notice, timeout=10).status_code
        self.ipn_log.append((notice, status))
        return status

    def _complete(self, handler: Any, params: dict[str, str]) -> None:
        ref = params.get("ref", "")
        if ref not in self.orders:
            handler._send(404, "unknown order")
            return
        order = self.orders[ref]
        paid = params.get("action") == "pay" and not self.behaviour["fail"]
        code = "00" if paid else "24"
        trans_id = uuid.uuid4().hex[:16]
        time.sleep(float(self.behaviour["delay"]))
        self.results[ref] = self.notice_for(ref, code, 2, trans_id)
        notices = [self.results[ref]] * int(self.behaviour["repeat"])
        if self.behaviour["out_of_order"]:
            notices.append(self.notice_for(ref, "01", 1, trans_id))
        if self.behaviour["drop_ipn"]:
            notices = []
        for notice in notices:
            self.send_ipn(order["ipn_url"], notice)
        back = signed({"merchant_trans_id": ref, "response_code": code}, self.secret)
        handler._send(302, "", {"Location": f"{order['return_url']}?{urlencode(back)}"})

    def _query(self, handler: Any, params: dict[str, str]) -> None:
        """The order's final notice, or "pending" (01) while the browser has not finished."""
        import json

        if params.get(HASH_FIELD) != sign(params, self.secret):
            handler._send(400, json.dumps({"error": "bad signature"}), {"Content-Type": "application/json"})
            return
        ref = params.get("merchant_trans_id", "")
        self.queries.append(ref)
        answer = self.results.get(ref)
        if answer is None:
            order = self.orders.get(ref, {})
            answer = signed(
                {
                    "merchant_code": self.merchant_code,
                    "merchant_trans_id": ref,
                    "net_cost": order.get("net_cost", "0"),
                    "response_code": "01",
                    "seq": 0,
                },
                self.secret,
            )
        handler._send(200, json.dumps(answer), {"Content-Type": "application/json"})
