"""The SMPP channel against a real SMPP 3.4 server on 127.0.0.1 (smpp_simulator.py).

Long Vietnamese texts go as concatenated UCS-2 parts and arrive whole; wrong credentials fail
for good; a server that is down, busy or drops the connection delays the message through the
task retry path but loses nothing.
"""

import socket
import struct

import pytest
import smpplib.client
import smpplib.smpp

from motcua.integrations.messaging import adapters
from motcua.integrations.messaging.models import Attempt, Outgoing
from motcua.integrations.messaging.smpp_simulator import RTHROTTLED, SmppSimulator
from tests.dossiers.conftest import applicant

LONG = (
    "Hồ sơ H62.22-261130-0007 của ông Nguyễn Văn Thành (khai sinh) đã được Bộ phận Một cửa UBND "
    "xã Đạo Đức tiếp nhận lúc 09:15 ngày 30/11/2026. Hẹn trả kết quả: 11:30 ngày 02/12/2026. "
    "Tra cứu tiến độ tại dichvucong.vinhphuc.gov.vn bằng mã hồ sơ và số điện thoại đã đăng ký."
)


@pytest.fixture
def smsc():
    with SmppSimulator({"motcua-vp": "Vp#2026s"}) as sim:
        yield sim


def options(sim: SmppSimulator, **extra) -> dict:
    host, port = sim.address
    return {
        "backend": "smpp",
        "host": host,
        "port": port,
        "system_id": "motcua-vp",
        "password": "Vp#2026s",
        "brandname": "UBND-VP",
        **extra,
    }


def message(body: str = LONG, phone: str = "0912345678") -> adapters.Message:
    return adapters.Message(recipient=phone, subject="", body=body, params={}, key="k-1")


def test_a_long_vietnamese_text_goes_as_ucs2_parts_and_arrives_whole(smsc):
    ids = adapters.SmppSender(options(smsc)).send(message())
    parts = smsc.parts
    assert len(LONG) > 134 and len(parts) == -(-len(LONG) // 67)  # 67 UCS-2 characters a part
    assert ids.split(",") == [p.message_id for p in parts]
    assert {p.data_coding for p in parts} == {8} and all(p.esm_class & 0x40 for p in parts)
    assert [(p.number, p.total) for p in parts] == [(n, len(parts)) for n in range(1, len(parts) + 1)]
    assert len({p.reference for p in parts}) == 1
    assert "".join(p.text for p in parts) == LONG and all(len(p.text) <= 67 for p in parts)
    [sms] = smsc.messages
    assert (sms.text, sms.destination, sms.source) == (LONG, "84912345678", "UBND-VP")
    assert smsc.binds == [{"system_id": "motcua-vp", "mode": "transmitter", "status": 0}]
    assert smsc.commands[0] == "0x2" and smsc.commands[-1] == "0x6"  # bound, then unbound


def test_a_short_plain_text_is_one_gsm_part(smsc):
    text = "Ho so H62.22-0007 da co ket qua. Lien he: motcua@vinhphuc.gov.vn_1 {ma}"
    ids = adapters.SmppSender(options(smsc)).send(message(text))
    [part] = smsc.parts
    assert (part.text, part.data_coding, part.reference, ids) == (text, 0, None, part.message_id)


def test_wrong_credentials_are_a_permanent_error(smsc):
    with pytest.raises(adapters.SendError) as wrong_password:
        adapters.SmppSender(options(smsc, password="sai")).send(message())
    assert not wrong_password.value.transient and "Invalid Password" in str(wrong_password.value)
    with pytest.raises(adapters.SendError) as wrong_id:
        adapters.SmppSender(options(smsc, system_id="khac")).send(message())
    assert not wrong_id.value.transient and "Invalid System ID" in str(wrong_id.value)
    with pytest.raises(adapters.SendError) as not_ascii:  # SMPP credentials are ASCII octets
        adapters.SmppSender(options(smsc, password="mật-khẩu")).send(message())
    assert not not_ascii.value.transient and "ASCII" in str(not_ascii.value)
    assert smsc.parts == [] and [b["status"] for b in smsc.binds] == [0x0E, 0x0F]


def test_down_busy_or_dropped_is_transient_and_a_bad_number_permanent(smsc):
    sender = adapters.SmppSender(options(smsc))
    smsc.fail_submit_next, smsc.submit_status = 1, RTHROTTLED
    with pytest.raises(adapters.SendError) as busy:
        sender.send(message())
    assert busy.value.transient and "0x58" in str(busy.value)
    smsc.drop_next = 1
    with pytest.raises(adapters.SendError) as dropped:
        sender.send(message())
    assert dropped.value.transient
    with pytest.raises(adapters.SendError) as bad_number:
        sender.send(message(phone="không-có-số"))
    assert not bad_number.value.transient and "Invalid Destination Address" in str(bad_number.value)
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(adapters.SendError) as down:
        adapters.SmppSender({**options(smsc), "port": closed}).send(message())
    assert down.value.transient and "refused" in str(down.value)
    assert smsc.messages == []


def test_the_simulator_answers_enquire_link_unbind_and_unknown_commands(smsc):
    client = smpplib.client.Client(*smsc.address, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    try:
        before_bind = smpplib.smpp.make_pdu(
            "submit_sm", client=client, source_addr="X", destination_addr="84912345678", short_message=b"x"
        )
        client._socket.sendall(before_bind.generate())  # the library refuses to send it unbound
        assert client.read_pdu().status == 0x04  # ESME_RINVBNDSTS
        client.bind_transceiver(system_id="motcua-vp", password="Vp#2026s")
        client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
        assert (client.read_pdu().command, smsc.commands[-1]) == ("enquire_link_resp", "0x15")
        client._socket.sendall(struct.pack(">IIII", 16, 0x103, 0, 99))  # data_sm: not supported here
        nack = client.read_pdu()
        assert (nack.command, nack.status, nack.sequence) == ("generic_nack", 0x03, 99)
        assert client.unbind().command == "unbind_resp"
    finally:
        client.disconnect()
    assert smsc.binds[-1]["mode"] == "transceiver"


@pytest.mark.django_db
def test_through_the_task_path_failures_are_retried_and_nothing_is_lost(
    settings, smsc, receive, django_capture_on_commit_callbacks, drain
):
    settings.MOTCUA_MESSAGING = {**settings.MOTCUA_MESSAGING, "sms": options(smsc)}
    smsc.fail_submit_next, smsc.submit_status, smsc.drop_next = 1, RTHROTTLED, 1
    with django_capture_on_commit_callbacks(execute=True):
        dossier = receive(applicant=applicant(accepts_sms=True, email="", phone="0987654321"))
    sms = dossier.messages.get(channel="sms")
    Outgoing.objects.filter(pk=sms.pk).update(body=LONG)  # a long text, several parts
    drain()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("sent", 3)
    assert sms.provider_id == ",".join(p.message_id for p in smsc.parts[-len(smsc.messages[-1].parts) :])
    assert [m.text for m in smsc.messages] == [LONG]  # the failed attempts left no whole message
    failures = list(Attempt.objects.filter(outgoing=sms, ok=False).order_by("pk").values_list("detail", flat=True))
    assert len(failures) == 2 and "connection" in failures[0] and "0x58" in failures[1]  # dropped, then busy


@pytest.mark.django_db
def test_through_the_task_path_wrong_credentials_fail_at_once(
    settings, smsc, receive, django_capture_on_commit_callbacks, drain
):
    settings.MOTCUA_MESSAGING = {**settings.MOTCUA_MESSAGING, "sms": options(smsc, password="sai")}
    with django_capture_on_commit_callbacks(execute=True):
        dossier = receive(applicant=applicant(accepts_sms=True, email="", phone="0987654321"))
    drain()
    sms = dossier.messages.get(channel="sms")
    assert (sms.status, sms.attempts) == ("failed", 1) and "Invalid Password" in sms.last_error
    assert smsc.parts == []
