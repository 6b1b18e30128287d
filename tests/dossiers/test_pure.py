"""Pure parts: code format and parser, lifecycle table, file sniffing and name sanitising (no database)."""

from datetime import date

import pytest
from django.utils import translation

from motcua.dossiers import codes, lifecycle, uploads
from motcua.dossiers.lifecycle import IllegalTransition, Status


def test_default_code_shape_and_widening():
    day = date(2026, 11, 30)
    assert codes.format_code("000.00.24.H62", day, 1) == "000.00.24.H62-261130-0001"
    assert codes.format_code("000.00.24.H62", day, 9999) == "000.00.24.H62-261130-9999"
    assert codes.format_code("000.00.24.H62", day, 10000) == "000.00.24.H62-261130-10000"
    with pytest.raises(ValueError):
        codes.format_code("000.00.24.H62", day, 0)


@pytest.mark.parametrize(
    ("value", "agency", "day", "number"),
    [
        ("000.00.24.H62-261130-0001", "000.00.24.H62", date(2026, 11, 30), 1),
        ("000.A0.01.H26-210212-9090", "000.A0.01.H26", date(2021, 2, 12), 9090),
        (" 000.00.12.H62-201105-10004 ", "000.00.12.H62", date(2020, 11, 5), 10004),
    ],
)
def test_parse_default_format(value, agency, day, number):
    assert codes.parse_code(value) == codes.DossierCode(agency, day, number)


@pytest.mark.parametrize(
    "value", ["", "000.00.24.H62-261130-001", "000.00.24.H62-261131-0001", "000.00.24.H62/261130/0001", "x-1-2"]
)
def test_parse_refuses_non_codes(value):
    assert not codes.is_dossier_code(value)
    with pytest.raises(ValueError):
        codes.parse_code(value)


def test_a_configured_format_is_read_back():
    fmt = "HS.{date:%Y%m%d}.{agency}.{number:05d}"
    code = codes.format_code("000.00.24.H62", date(2026, 1, 2), 7, fmt)
    assert code == "HS.20260102.000.00.24.H62.00007"
    assert codes.parse_code(code, fmt) == codes.DossierCode("000.00.24.H62", date(2026, 1, 2), 7)


@pytest.mark.parametrize("fmt", ["{agency}-{number}", "{agency}-{date:%H}-{number}", "{x}{agency}{date}{number}"])
def test_unusable_formats_are_refused(fmt):
    with pytest.raises(ValueError):
        codes.format_code("000.00.24.H62", date(2026, 1, 2), 1, fmt)


def test_every_status_has_a_row_and_final_states_lead_nowhere():
    assert set(lifecycle.TRANSITIONS) == set(Status)
    assert {Status.REFUSED, Status.RETURNED, Status.WITHDRAWN, Status.STOPPED} == lifecycle.FINAL
    for targets in lifecycle.TRANSITIONS.values():
        assert targets <= set(Status)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Status.DRAFT, Status.SUBMITTED_ONLINE),
        (Status.SUBMITTED_ONLINE, Status.RECEIVED),
        (Status.SUBMITTED_ONLINE, Status.RETURNED_FOR_COMPLETION),
        (Status.SUBMITTED_ONLINE, Status.REFUSED),
        (Status.RECEIVED, Status.IN_PROCESS),
        (Status.IN_PROCESS, Status.WAITING_FOR_SUPPLEMENT),
        (Status.IN_PROCESS, Status.WAITING_FOR_PAYMENT),
        (Status.IN_PROCESS, Status.RESULT_READY),
        (Status.WAITING_FOR_SUPPLEMENT, Status.IN_PROCESS),
        (Status.WAITING_FOR_PAYMENT, Status.WITHDRAWN),
        (Status.RESULT_READY, Status.RETURNED),
    ],
)
def test_legal_transitions(a, b):
    lifecycle.check_transition(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Status.DRAFT, Status.RECEIVED),
        (Status.RECEIVED, Status.RESULT_READY),
        (Status.RESULT_READY, Status.WITHDRAWN),
        (Status.RETURNED, Status.IN_PROCESS),
        (Status.REFUSED, Status.RECEIVED),
        (Status.WAITING_FOR_SUPPLEMENT, Status.RESULT_READY),
    ],
)
def test_illegal_transitions_raise(a, b):
    with pytest.raises(IllegalTransition):
        lifecycle.check_transition(a, b)


def test_illegal_transition_names_both_statuses_in_the_active_language():
    with translation.override("en"):
        assert str(IllegalTransition(Status.RETURNED, Status.IN_PROCESS)) == (
            "A dossier that is “result returned” cannot become “in process”."
        )
    with translation.override("vi"):
        message = str(IllegalTransition(Status.RETURNED, Status.IN_PROCESS))
    assert "Đã trả kết quả" in message or "đã trả kết quả" in message
    assert "đang giải quyết" in message.lower()


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.4\n", uploads.PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", uploads.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00", uploads.PNG),
        (b"MZ\x90\x00\x03\x00", None),
        (b"\x7fELF\x02\x01", None),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_sniff_by_content(head, kind):
    assert uploads.sniff(head) == kind


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\an\\scan.pdf", "scan.pdf"),
        ("to\x00khai\x1f\u202e.pdf", "tokhai.pdf"),
        ("  ..hidden.pdf ", "hidden.pdf"),
        ("Tờ khai.pdf", "Tờ khai.pdf"),
        ("", "tep.pdf"),
        ("../", "tep.pdf"),
    ],
)
def test_sanitize_filename(name, clean):
    assert uploads.sanitize_filename(name, ".pdf") == clean


def test_long_names_keep_their_extension():
    clean = uploads.sanitize_filename("a" * 500 + ".pdf")
    assert len(clean) == uploads.MAX_NAME_LENGTH and clean.endswith(".pdf")
