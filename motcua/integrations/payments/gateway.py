"""Payment gateway adapters: one interface, a KeyPay/PayGov-like adapter (integrations.md §4).

PayGov's field names and checksum method are not public (§4.1, UNCONFIRMED), so everything that
depends on them is configuration: ``settings.MOTCUA_PAYMENT`` = {"base_url", "merchant_code",
"secret", "hash" ("hmac-sha256" | "hmac-sha512"), "timeout"}, read from the ``MOTCUA_PAYMENT_*``
environment variables in settings.py. There is no default secret: without one nothing is signed and
every notice is refused (invariant 7). The hashing here is pure (no Django).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import requests

HASH_FIELD = "secure_hash"


@dataclass(frozen=True)
class GatewayConfig:
    base_url: str
    merchant_code: str
    secret: str
    hash: str = "hmac-sha256"
    timeout: float = 10.0


@dataclass(frozen=True)
class Notice:
    """What a verified notification says; amounts are integer VND."""

    txn_ref: str
    gateway_trans_id: str
    amount: int
    status: str  # "paid" | "failed" | "pending"
    merchant_code: str
    method: str
    sequence: int


class InvalidChecksum(ValueError):
    """The notification's keyed hash does not match: not from the gateway, or altered."""


class NotConfigured(InvalidChecksum):
    """No secret or merchant code is set: nothing can be signed, and no notice can be trusted."""


class Gateway(Protocol):
    name: str

    def create_payment(self, *, txn_ref: str, amount: int, description: str, return_url: str, ipn_url: str) -> str: ...

    def verify_notice(self, params: dict[str, str]) -> Notice: ...

    def query_status(self, txn_ref: str) -> dict[str, Any]: ...


def sign(params: dict[str, Any], secret: str, algorithm: str = "hmac-sha256") -> str:
    """Keyed hash over ``k=v`` pairs sorted by key, joined by ``&``, the hash field left out."""
    digest = {"hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512}[algorithm]
    canonical = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != HASH_FIELD)
    return hmac.new(secret.encode(), canonical.encode(), digest).hexdigest()


def signed(params: dict[str, Any], secret: str, algorithm: str = "hmac-sha256") -> dict[str, str]:
    out = {k: str(v) for k, v in params.items()}
    out[HASH_FIELD] = sign(out, secret, algorithm)
    return out


class KeyPayLikeGateway:
    """Redirect with a signed query string; IPN and status query signed the same way."""

    name = "keypay"

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config

    @property
    def configured(self) -> bool:
        return bool(self.config.secret and self.config.merchant_code and self.config.base_url)

    def _require_config(self) -> None:
        if not self.configured:
            raise NotConfigured("payment gateway not configured: set MOTCUA_PAYMENT_URL, _MERCHANT_CODE and _SECRET")

    def create_payment(self, *, txn_ref: str, amount: int, description: str, return_url: str, ipn_url: str) -> str:
        if not self.configured:
            from django.core.exceptions import ValidationError
            from django.utils.translation import gettext as _

            # A 4xx message for the citizen; the operator sees the missing variables in check --deploy.
            raise ValidationError(_("Online payment is not available at the moment. Please pay at the counter."))
        params = signed(
            {
                "merchant_code": self.config.merchant_code,
                "merchant_trans_id": txn_ref,
                "net_cost": amount,
                "currency_code": "VND",
                "desc_1": description,
                "return_url": return_url,
                "ipn_url": ipn_url,
                "version": "1.0",
            },
            self.config.secret,
            self.config.hash,
        )
        return f"{self.config.base_url.rstrip('/')}/pay?{urlencode(params)}"

    def verify_notice(self, params: dict[str, str]) -> Notice:
        self._require_config()
        given = params.get(HASH_FIELD, "")
        expected = sign(params, self.config.secret, self.config.hash)
        if not given or not hmac.compare_digest(given, expected):
            raise InvalidChecksum("checksum mismatch")
        # A notice signed for another merchant of the same gateway account is not ours.
        if not hmac.compare_digest(params.get("merchant_code", "").encode(), self.config.merchant_code.encode()):
            raise InvalidChecksum("merchant code mismatch")
        try:
            return Notice(
                txn_ref=params["merchant_trans_id"],
                gateway_trans_id=params.get("trans_id", ""),
                amount=int(params["net_cost"]),
                status={"00": "paid", "01": "pending"}.get(params.get("response_code", ""), "failed"),
                merchant_code=params.get("merchant_code", ""),
                method=params.get("method", ""),
                sequence=int(params.get("seq", "0") or 0),
            )
        except (KeyError, ValueError) as exc:
            raise InvalidChecksum(f"malformed notice: {exc}") from exc

    def query_status(self, txn_ref: str) -> dict[str, Any]:
        """Reconciliation poll; never called inside a web request's transaction."""
        self._require_config()
        params = signed(
            {"merchant_code": self.config.merchant_code, "merchant_trans_id": txn_ref},
            self.config.secret,
            self.config.hash,
        )
        response = requests.get(f"{self.config.base_url.rstrip('/')}/query", params=params, timeout=self.config.timeout)
        response.raise_for_status()
        return response.json()


def default_gateway() -> KeyPayLikeGateway:
    """The gateway of ``settings.MOTCUA_PAYMENT``; no value is made up when one is missing."""
    from django.conf import settings

    conf = dict(getattr(settings, "MOTCUA_PAYMENT", {}) or {})
    return KeyPayLikeGateway(
        GatewayConfig(
            base_url=str(conf.get("base_url") or ""),
            merchant_code=str(conf.get("merchant_code") or ""),
            secret=str(conf.get("secret") or ""),
            hash=str(conf.get("hash") or "hmac-sha256"),
            timeout=float(conf.get("timeout") or 10.0),
        )
    )
