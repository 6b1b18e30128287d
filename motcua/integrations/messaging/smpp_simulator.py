"""An SMPP 3.4 SMSC simulator: a real TCP server on 127.0.0.1 for the tests and the demo.

It speaks the wire protocol itself (no SMPP library), so the adapter is tested against bytes an
SMSC would send: ``bind_transmitter`` / ``bind_transceiver`` / ``bind_receiver`` (checked against
``credentials``), ``submit_sm`` → ``submit_sm_resp`` with a message id, ``enquire_link``,
``unbind``, and ``generic_nack`` for anything else. Concatenated parts (UDH, 8- or 16-bit
reference) are put back together, and the text decoded by its ``data_coding`` (0: GSM 03.38
unpacked as smpplib sends it, 3: Latin-1, 8: UCS-2).

Knobs a test sets: ``submit_status`` + ``fail_submit_next`` (answer the next n submits with an
error status), ``drop_next`` (close the connection on the next n submits without an answer),
``bind_status`` (refuse every bind with that status). Run it by hand with
``python -m motcua.integrations.messaging.smpp_simulator --port 2775 --system-id motcua [--password …]``.
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import socketserver
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

from motcua.simulation import ServedInThread

BIND_RECEIVER, BIND_TRANSMITTER, SUBMIT_SM, UNBIND, BIND_TRANSCEIVER, ENQUIRE_LINK = 0x1, 0x2, 0x4, 0x6, 0x9, 0x15
RESP, GENERIC_NACK = 0x80000000, 0x80000000
BINDS = {BIND_RECEIVER: "receiver", BIND_TRANSMITTER: "transmitter", BIND_TRANSCEIVER: "transceiver"}
# Status codes (SMPP 3.4, 5.1.3)
ROK, RINVMSGLEN, RINVCMDID, RINVBNDSTS, RALYBND = 0x0, 0x1, 0x3, 0x4, 0x5
RSYSERR, RINVDSTADR, RINVPASWD, RINVSYSID, RTHROTTLED = 0x8, 0xB, 0xE, 0xF, 0x58

GSM_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>"
    "?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ`¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]"}
GSM_EXTENSION |= {0x40: "|", 0x65: "€"}


def decode_text(data: bytes, data_coding: int) -> str:
    """The text of a short message by its data coding (the schemes an SMSC in Vietnam accepts)."""
    if data_coding == 8:
        return data.decode("utf-16-be")
    if data_coding == 3:
        return data.decode("latin-1")
    out, escape = [], False
    for byte in data:  # GSM 03.38, one septet a byte (unpacked), 0x1B escapes to the extension table
        if escape:
            out.append(GSM_EXTENSION.get(byte, "?"))
            escape = False
        elif byte == 0x1B:
            escape = True
        else:
            out.append(GSM_TABLE[byte] if byte < len(GSM_TABLE) else "?")
    return "".join(out)


def _cstring(body: bytes, at: int) -> tuple[str, int]:
    end = body.index(b"\x00", at)
    return body[at:end].decode("latin-1"), end + 1


@dataclass
class Part:
    """One submit_sm as received."""

    system_id: str
    source: str
    destination: str
    data_coding: int
    esm_class: int
    text: str
    message_id: str
    reference: int | None = None  # concatenation: (reference, total, number) from the UDH
    total: int = 1
    number: int = 1


@dataclass
class Sms:
    """A whole message: its parts put back together."""

    destination: str
    source: str
    text: str
    parts: list[Part] = field(default_factory=list)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # a test can restart the simulator on the same port
    daemon_threads = True


class SmppSimulator(ServedInThread):
    def __init__(self, credentials: dict[str, str] | None = None, port: int = 0) -> None:
        self.credentials = dict(credentials or {"motcua": secrets.token_hex(4)})
        self.port = port
        self.bind_status: int | None = None
        self.submit_status = RSYSERR
        self.fail_submit_next = 0
        self.drop_next = 0
        self.binds: list[dict[str, Any]] = []  # every bind tried: system_id, mode, status
        self.parts: list[Part] = []
        self.messages: list[Sms] = []
        self.commands: list[str] = []
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[tuple[str, str, int], dict[int, Part]] = {}
        self._server: _Server | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return host, port

    # --- protocol --------------------------------------------------------------------------
    def _bind(self, command: int, body: bytes, session: dict[str, Any]) -> tuple[int, bytes]:
        system_id, at = _cstring(body, 0)
        password, at = _cstring(body, at)
        with self.lock:
            if session.get("bound"):
                status = RALYBND
            elif self.bind_status is not None:
                status = self.bind_status
            elif system_id not in self.credentials:
                status = RINVSYSID
            elif self.credentials[system_id] != password:
                status = RINVPASWD
            else:
                status = ROK
            self.binds.append({"system_id": system_id, "mode": BINDS[command], "status": status})
        if status == ROK:
            session.update(bound=BINDS[command], system_id=system_id)
            return ROK, b"MOTCUA-SMSC\x00"
        return status, b""

    def _submit(self, body: bytes, session: dict[str, Any]) -> tuple[int, bytes] | None:
        if session.get("bound") not in ("transmitter", "transceiver"):
            return RINVBNDSTS, b""
        with self.lock:
            if self.drop_next > 0:
                self.drop_next -= 1
                return None  # the connection is closed without an answer
            if self.fail_submit_next > 0:
                self.fail_submit_next -= 1
                return self.submit_status, b""
        _service_type, at = _cstring(body, 0)
        at += 2  # source ton, npi
        source, at = _cstring(body, at)
        at += 2  # destination ton, npi
        destination, at = _cstring(body, at)
        esm_class = body[at]
        at += 3  # esm_class, protocol_id, priority_flag
        _schedule, at = _cstring(body, at)
        _validity, at = _cstring(body, at)
        at += 2  # registered_delivery, replace_if_present_flag
        data_coding = body[at]
        length = body[at + 2]
        short_message = body[at + 3 : at + 3 + length]
        if len(short_message) != length:
            return RINVMSGLEN, b""
        if not destination.isdigit():
            return RINVDSTADR, b""
        reference, total, number = None, 1, 1
        if esm_class & 0x40 and short_message:  # UDHI: a user data header leads the message
            header = short_message[1 : 1 + short_message[0]]
            short_message = short_message[1 + short_message[0] :]
            if header[:2] == b"\x00\x03":
                reference, total, number = header[2], header[3], header[4]
            elif header[:2] == b"\x08\x04":
                reference, total, number = struct.unpack(">HBB", header[2:6])
        message_id = f"SIM{next(self._ids):08d}"
        part = Part(
            session["system_id"],
            source,
            destination,
            data_coding,
            esm_class,
            decode_text(short_message, data_coding),
            message_id,
            reference,
            total,
            number,
        )
        with self.lock:
            self.parts.append(part)
            if reference is None:
                self.messages.append(Sms(destination, source, part.text, [part]))
            else:
                group = self._pending.setdefault((source, destination, reference), {})
                group[number] = part
                if len(group) == total:
                    ordered = [group[n] for n in sorted(group)]
                    self.messages.append(Sms(destination, source, "".join(p.text for p in ordered), ordered))
                    del self._pending[(source, destination, reference)]
        return ROK, message_id.encode() + b"\x00"

    def start(self) -> SmppSimulator:
        sim = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                session: dict[str, Any] = {}
                stream = self.request.makefile("rb")
                while True:
                    header = stream.read(16)
                    if len(header) < 16:
                        return
                    length, command, _status, sequence = struct.unpack(">IIII", header)
                    body = stream.read(length - 16) if length > 16 else b""
                    with sim.lock:
                        sim.commands.append(hex(command))
                    if command in BINDS:
                        status, reply = sim._bind(command, body, session)
                    elif command == SUBMIT_SM:
                        answer = sim._submit(body, session)
                        if answer is None:
                            return
                        status, reply = answer
                    elif command == ENQUIRE_LINK:
                        status, reply = ROK, b""
                    elif command == UNBIND:
                        self._send(RESP | UNBIND, ROK, sequence, b"")
                        return
                    elif command & RESP:  # a response to something we never send: ignore
                        continue
                    else:
                        self._send(GENERIC_NACK, RINVCMDID, sequence, b"")
                        continue
                    self._send(RESP | command, status, sequence, reply)

            def _send(self, command: int, status: int, sequence: int, body: bytes) -> None:
                self.request.sendall(struct.pack(">IIII", 16 + len(body), command, status, sequence) + body)

        return self._serve(_Server(("127.0.0.1", self.port), Handler), "smpp-simulator")


def main() -> None:
    parser = argparse.ArgumentParser(description="SMPP 3.4 SMSC simulator on 127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--system-id", default="motcua")
    parser.add_argument("--password", default="", help="8 characters at most; made for this run when left out")
    args = parser.parse_args()
    password = args.password or secrets.token_hex(4)
    sim = SmppSimulator({args.system_id: password}, port=args.port).start()
    print(f"SMPP simulator on {sim.address[0]}:{sim.address[1]} (Ctrl-C stops)")
    print(f"MOTCUA_SMPP_SYSTEM_ID={args.system_id} MOTCUA_SMPP_PASSWORD={password}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sim.stop()
        for message in sim.messages:
            print(f"{message.destination}: {message.text}")


if __name__ == "__main__":
    main()
