"""Channel adapters: SMS over an HTTP brandname gateway (eSMS-like, integrations.md §5.2) or SMPP
(§5.3) behind one interface, Zalo ZNS (§6) with its token store, and e-mail through Django.

Configuration (``settings.MOTCUA_MESSAGING``), everything unconfirmed kept configurable:
``{"sms": {"backend": "http"|"smpp", "url", "api_key", "secret_key", "brandname", "sms_type", "host", "port",
"system_id", "password"}, "zalo": {"oauth_url", "api_url", "app_id", "secret_key"}, "timeout": 10,
"backoff": [seconds...], "max_attempts": 8}``. Outside calls happen only in tasks (invariant 6).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone


class SendError(Exception):
    """A failure; ``transient`` ones are retried later with backoff."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class NoZaloAccount(SendError):
    """ZNS -118: the phone has no Zalo account, so the message goes by SMS instead."""

    def __init__(self, message: str = "no Zalo account (-118)") -> None:
        super().__init__(message, transient=False)


@dataclass(frozen=True)
class Message:
    recipient: str
    subject: str
    body: str
    params: dict[str, Any]
    key: str  # idempotency key: eSMS RequestId, ZNS tracking_id
    zns_template_id: str = ""


class Sender(Protocol):
    def send(self, message: Message) -> str:
        """Send, or raise SendError; returns the provider's message id."""
        ...


def conf() -> dict[str, Any]:
    return dict(getattr(settings, "MOTCUA_MESSAGING", {}))


def _timeout() -> float:
    return float(conf().get("timeout", 10))


def international(phone: str) -> str:
    """0912345678 → 84912345678 (ZNS and most gateways want it without + or a leading 0)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


def _post(url: str, **kwargs: Any) -> requests.Response:
    try:
        response = requests.post(url, timeout=_timeout(), **kwargs)
    except requests.RequestException as exc:
        raise SendError(f"transport: {exc.__class__.__name__}", transient=True) from exc
    if response.status_code >= 500:
        raise SendError(f"HTTP {response.status_code}", transient=True)
    return response


class HttpSmsSender:
    """eSMS-like JSON API; ``RequestId`` = our key, and code 124 (duplicate RequestId) means already sent."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def send(self, message: Message) -> str:
        o = self.options
        response = _post(
            o["url"],
            json={
                "ApiKey": o.get("api_key", ""),
                "SecretKey": o.get("secret_key", ""),
                "Phone": message.recipient,
                "Content": message.body,
                "Brandname": o.get("brandname", ""),
                "SmsType": str(o.get("sms_type", "2")),
                "IsUnicode": "1" if any(ord(c) > 127 for c in message.body) else "0",
                "Sandbox": "1" if o.get("sandbox") else "0",
                "RequestId": message.key,
            },
        )
        try:
            data = response.json()
        except ValueError as exc:
            raise SendError("unreadable reply", transient=True) from exc
        code = str(data.get("CodeResult", ""))
        if code in ("100", "124"):
            return str(data.get("SMSID", "")) or message.key
        raise SendError(f"eSMS code {code}", transient=code in ("", "103"))


class SmppSender:
    """SMPP 3.4 through ``smpplib``: bind as a transmitter, one ``submit_sm`` a part, unbind.

    A text that does not fit one SMS is split by smpplib into concatenated parts (UDH); text with
    Vietnamese letters goes as UCS-2 (data_coding 8, 67 characters a part). Each part waits for
    its ``submit_sm_resp``; the provider id returned is the SMSC's message ids joined by commas.
    Wrong credentials or a refused destination are permanent; a connection refused, dropped or
    timed out and the SMSC's busy statuses are transient (the task retries with backoff). SMPP has
    no idempotency key: a connection lost after the SMSC took a part can repeat that part.
    """

    #: bind_*_resp statuses that no retry will fix: invalid password, system id or system type.
    PERMANENT_BIND = frozenset({0x0E, 0x0F, 0x53})
    #: submit_sm_resp statuses worth retrying: system error, queue full, submit failed, throttled,
    #: temporary application errors.
    TRANSIENT_SUBMIT = frozenset({0x08, 0x14, 0x45, 0x58, 0x64})

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def send(self, message: Message) -> str:
        try:
            import smpplib.client
            import smpplib.consts
            import smpplib.exceptions
            import smpplib.gsm
        except ImportError as exc:  # pinned in requirements.txt; a clear error if left out
            raise SendError("SMPP backend needs the smpplib package, which is not installed", transient=False) from exc
        o = self.options
        try:
            parts, coding, esm_class = smpplib.gsm.make_parts(message.body)
        except smpplib.exceptions.MessageTooLong as exc:
            raise SendError("SMPP: the text needs more than 255 parts", transient=False) from exc
        client = smpplib.client.Client(
            o["host"],
            int(o.get("port", 2775)),
            timeout=_timeout(),
            logger_name="motcua.messaging.smpp",
            allow_unknown_opt_params=True,
        )
        try:
            client.connect()
            try:
                client.bind_transmitter(
                    system_id=o["system_id"], password=o["password"], system_type=o.get("system_type", "")
                )
            except UnicodeEncodeError as exc:  # SMPP credentials are ASCII (password: 9 octets at most)
                raise SendError("SMPP: system_id and password must be ASCII text", transient=False) from exc
            ids = []
            for part in parts:
                submit = client.send_message(
                    source_addr_ton=int(o.get("source_addr_ton", smpplib.consts.SMPP_TON_ALNUM)),
                    source_addr=o.get("brandname", ""),
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    destination_addr=international(message.recipient),
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=False,
                )
                ids.append(self._message_id(client, submit.sequence))
            # Every part was accepted: a failed unbind does not make the message unsent.
            with contextlib.suppress(smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError):
                client.unbind()
            return ",".join(ids)
        except SendError:
            raise
        except smpplib.exceptions.PDUError as exc:
            status = exc.args[1] if len(exc.args) > 1 else None
            raise SendError(f"SMPP: {exc.args[0]}", transient=status not in self.PERMANENT_BIND) from exc
        except (smpplib.exceptions.ConnectionError, OSError) as exc:  # refused, dropped, timed out
            raise SendError(f"SMPP connection: {exc.__class__.__name__} {exc}".strip(), transient=True) from exc
        finally:
            client.disconnect()

    def _message_id(self, client: Any, sequence: int) -> str:
        """Read until the ``submit_sm_resp`` of ``sequence``; answer the SMSC's enquire_link meanwhile."""
        import smpplib.consts
        import smpplib.smpp

        while True:
            pdu = client.read_pdu()
            if pdu.command == "enquire_link":
                reply = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
                reply.sequence = pdu.sequence
                client.send_pdu(reply)
                continue
            if pdu.command not in ("submit_sm_resp", "generic_nack") or pdu.sequence != sequence:
                continue
            if pdu.is_error():
                text = smpplib.consts.DESCRIPTIONS.get(pdu.status, "unknown status")
                raise SendError(
                    f"SMPP submit refused: ({pdu.status:#x}) {text}", transient=pdu.status in self.TRANSIENT_SUBMIT
                )
            message_id = pdu.message_id
            return message_id.decode() if isinstance(message_id, bytes) else str(message_id or "")


def sms_sender() -> Sender:
    options = dict(conf().get("sms", {}))
    return SmppSender(options) if options.get("backend") == "smpp" else HttpSmsSender(options)


# --- Zalo ---------------------------------------------------------------------------------------


def _zalo_options() -> dict[str, Any]:
    return dict(conf().get("zalo", {}))


def refresh_zalo_token(stale_access: str | None = None) -> str:
    """Rotate the pair under a row lock: the refresh token is single-use, so only one refresher calls
    Zalo; a second one waiting on the lock finds a fresh token and uses it. Called from tasks only."""
    from motcua.integrations.messaging.models import ZaloToken

    o = _zalo_options()
    with transaction.atomic():
        row = ZaloToken.objects.select_for_update().get(app_id=o["app_id"])
        fresh = row.expires_at and row.expires_at > timezone.now() + timedelta(seconds=60)
        if row.access_token and fresh and row.access_token != stale_access:
            return row.access_token  # someone else refreshed while we waited
        response = _post(
            o["oauth_url"],
            headers={"secret_key": o.get("secret_key", "")},
            data={"grant_type": "refresh_token", "app_id": o["app_id"], "refresh_token": row.refresh_token},
        )
        data = response.json()
        if "access_token" not in data or "refresh_token" not in data:
            raise SendError(f"Zalo token refresh refused: {data.get('error', '')}", transient=False)
        row.access_token = data["access_token"]
        row.refresh_token = data["refresh_token"]
        row.expires_at = timezone.now() + timedelta(seconds=int(data.get("expires_in", 90000)))
        row.refreshed_at = timezone.now()
        row.save(update_fields=["access_token", "refresh_token", "expires_at", "refreshed_at"])
        return row.access_token


def zalo_access_token() -> str:
    from motcua.integrations.messaging.models import ZaloToken

    row = ZaloToken.objects.filter(app_id=_zalo_options()["app_id"]).first()
    if row is None:
        raise SendError("no Zalo token stored for this app", transient=False)
    if row.access_token and row.expires_at and row.expires_at > timezone.now() + timedelta(seconds=60):
        return row.access_token
    return refresh_zalo_token(row.access_token or None)


class ZnsSender:
    """ZNS template message; -124 → refresh once and retry; -118 → NoZaloAccount (SMS fallback)."""

    def send(self, message: Message) -> str:
        token = zalo_access_token()
        for attempt in (1, 2):
            response = _post(
                _zalo_options()["api_url"],
                headers={"access_token": token},
                json={
                    "phone": international(message.recipient),
                    "template_id": message.zns_template_id,
                    "template_data": {k: str(v) for k, v in message.params.items()},
                    "tracking_id": message.key,
                },
            )
            try:
                error = int(response.json().get("error"))
            except (ValueError, TypeError) as exc:
                raise SendError("ambiguous ZNS reply", transient=True) from exc
            if error == 0:
                return str(response.json().get("data", {}).get("msg_id", ""))
            if error == -124 and attempt == 1:
                token = refresh_zalo_token(token)
                continue
            if error == -118:
                raise NoZaloAccount()
            raise SendError(f"ZNS error {error}", transient=False)
        raise SendError("ZNS token refused twice", transient=True)


class EmailSender:
    def send(self, message: Message) -> str:
        try:
            EmailMessage(subject=message.subject, body=message.body, to=[message.recipient]).send()
        except OSError as exc:
            raise SendError(f"mail: {exc}", transient=True) from exc
        return message.key


def sender_for(channel: str) -> Sender:
    return {"email": EmailSender, "zalo": ZnsSender}.get(channel, sms_sender)()
