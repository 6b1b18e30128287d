"""Receiving at the counter: codes, due moments, documents and files, and bad input that saves nothing."""

from datetime import date, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierCodeSequence, DossierDocument, DossierEvent
from motcua.org.models import Agency
from tests.dossiers.conftest import (
    FORM,
    LIENBAO,
    MONDAY,
    PDF,
    PNG,
    applicant,
    at,
    make_procedure,
    nothing_saved,
    pdf,
    stored_files,
    user,
)

pytestmark = pytest.mark.django_db


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- codes -------------------------------------------------------------------------------------------


def test_codes_run_per_agency_and_day(receive, clerk_tamhop, birth):
    first, second = receive(), receive()
    assert first.code == f"{LIENBAO}-261130-0001"
    assert second.code == f"{LIENBAO}-261130-0002"
    other = receive(clerk=clerk_tamhop)
    assert other.code == "000.22.32.H62-261130-0001"
    tuesday = receive(now=at(1, 8, month=12))
    assert tuesday.code == f"{LIENBAO}-261201-0001"


def test_the_day_is_the_local_day(receive):
    # 23:30 UTC on Monday is 06:30 on Tuesday in Hà Nội.
    from datetime import UTC, datetime

    dossier = receive(now=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert dossier.code.endswith("-261201-0001")


def test_numbers_widen_past_9999(receive, org):
    DossierCodeSequence.objects.create(
        agency=Agency.objects.get(code=LIENBAO), day=date(2026, 11, 30), last_number=9999
    )
    assert receive().code == f"{LIENBAO}-261130-10000"


def test_the_code_format_is_a_setting(receive, settings):
    # A format whose codes no URL can carry ("/") is refused at start-up: tests/dossiers/test_code_format_check.py.
    settings.MOTCUA_DOSSIER_CODE_FORMAT = "{agency}_{date:%Y%m%d}_{number:06d}"
    assert receive().code == f"{LIENBAO}_20261130_000001"


# --- what a receipt records -------------------------------------------------------------------------


def test_receipt_records_everything_and_one_event(receive, clerk, birth, media):
    dossier = receive(documents=birth.documents(f0=pdf("../../etc/passwd.pdf"), f1=SimpleUploadedFile("anh.png", PNG)))
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED
    assert dossier.procedure_version == birth.version
    assert dossier.receiving_agency.code == dossier.competent_agency.code == LIENBAO
    assert dossier.received_by == clerk
    assert dossier.received_at == dossier.valid_receipt_at == dossier.submitted_at == MONDAY
    assert dossier.applicant_phone == "0912345678"
    assert dossier.form_data == {"ho_ten_tre": "Nguyễn Văn Bình", "ngay_sinh_tre": "2026-11-20", "ghi_chu": ""}
    assert "nguyen van an" in dossier.search_text and dossier.code.lower() in dossier.search_text

    docs = {d.component_id: d for d in dossier.documents.all()}
    assert len(docs) == 3
    scan = docs[birth.components[0].pk]
    assert scan.original_filename == "passwd.pdf"  # sanitised, not refused: the content is a real PDF
    assert scan.content_type == "application/pdf" and scan.size == len(PDF)
    assert scan.file.name.startswith(f"dossiers/{dossier.pk}/") and ".." not in scan.file.name
    assert scan.file.read() == PDF
    assert docs[birth.components[1].pk].content_type == "image/png"
    assert docs[birth.components[2].pk].file.name in (None, "")
    assert len(stored_files(media)) == 2

    [event] = DossierEvent.objects.filter(dossier=dossier)
    assert (event.actor, event.actor_role, event.agency.code) == (clerk, "clerk", LIENBAO)
    assert (event.action, event.from_status, event.to_status) == ("received", "", "received")
    assert event.at == MONDAY and event.client_address == "203.0.113.7"
    assert event.data["code"] == dossier.code


def test_html_in_names_is_stored_verbatim(receive):
    name = "<script>alert('x')</script> Lê Thị <b>Hoa</b>"
    dossier = receive(applicant=applicant(full_name=name))
    dossier.refresh_from_db()
    assert dossier.applicant_name == name


def test_decomposed_input_is_nfc_normalised(receive):
    import unicodedata

    dossier = receive(applicant=applicant(full_name=unicodedata.normalize("NFD", "  Hoàng   Thị Hòa ")))
    assert dossier.applicant_name == unicodedata.normalize("NFC", "Hoàng Thị Hòa")


@pytest.mark.parametrize("phone", ["+84 912 345 678", "0084912345678", "091.234.5678", "02113862345"])
def test_phone_forms_are_accepted_and_normalised(receive, phone):
    assert receive(applicant=applicant(phone=phone)).applicant_phone.startswith("0")


# --- due moments -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at(30, 9), at(1, 11, 30, month=12)),  # Monday 09:00 + 1 day → Tuesday 11:30
        (at(30, 14), at(1, 17, month=12)),  # Monday 14:00 + 1 day → Tuesday 17:00
        (at(28, 10), at(30, 17)),  # received on Saturday → Monday 17:00
    ],
)
def test_due_moment_of_working_days(receive, received, due):
    assert receive(now=received).due_at == due


def test_immediate_procedure_has_no_due(receive, org):
    proc = make_procedure("1.000894", time_kind=ProcedureVersion.TimeKind.IMMEDIATE, days="0")
    assert receive(procedure_code=proc.code, documents=proc.documents()).due_at is None


@pytest.mark.parametrize(
    ("received", "due"),
    [(at(30, 14, 59), at(30, 17)), (at(30, 15, 0), at(1, 17, month=12)), (at(30, 16), at(1, 17, month=12))],
)
def test_same_day_cut_off(receive, org, received, due):
    proc = make_procedure("2.000815", time_kind=ProcedureVersion.TimeKind.SAME_DAY, days="1", cutoff=time(15, 0))
    assert receive(procedure_code=proc.code, documents=proc.documents(), now=received).due_at == due


# --- who may receive what --------------------------------------------------------------------------


def test_province_centre_receives_for_a_commune_but_must_name_it_when_several(clerk_centre, birth):
    base = {"procedure_code": birth.code, "applicant": applicant(), "form_data": FORM, "documents": birth.documents()}
    with pytest.raises(ValidationError) as excinfo:
        services.receive_at_counter(clerk=clerk_centre, now=MONDAY, **base)
    assert "competent_agency" in errors_of(excinfo)
    dossier = services.receive_at_counter(clerk=clerk_centre, competent_agency=LIENBAO, now=MONDAY, **base)
    assert dossier.code.startswith("000.00.24.H62-261130-")
    assert dossier.competent_agency.code == LIENBAO


def test_a_commune_desk_cannot_receive_for_another_commune(receive):
    with pytest.raises(ValidationError) as excinfo:
        receive(competent_agency="000.22.32.H62")
    assert "competent_agency" in errors_of(excinfo)
    nothing_saved()


def test_a_commune_clerk_cannot_receive_a_provincial_procedure(receive, org):
    proc = make_procedure(
        "1.001612", name="Cấp phiếu lý lịch tư pháp", levels=("province",), agencies=("000.00.14.H62", "000.00.24.H62")
    )
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        receive(procedure_code=proc.code, documents=proc.documents())
    assert errors_of(excinfo)["procedure_code"] == [
        "This procedure is not carried out by your agency or the agencies your desk receives for."
    ]
    nothing_saved()


def test_only_clerks_receive(receive, org):
    with pytest.raises(PermissionDenied):
        receive(clerk=user("chuyenvien.lienbao"))
    nothing_saved()


# --- bad input: a clear message and nothing saved ----------------------------------------------------

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"applicant": applicant(id_number="02609000123")},
            "applicant.id_number",
            "The CCCD number must have exactly 12 digits.",
        ),
        (
            {"applicant": applicant(id_number="02609000123A")},
            "applicant.id_number",
            "The CCCD number must have exactly 12 digits.",
        ),
        (
            {"applicant": applicant(id_number="")},
            "applicant.id_number",
            "Enter the 12-digit personal identification number (CCCD).",
        ),
        (
            {"applicant": applicant(phone="+1 212 555 0100")},
            "applicant.phone",
            "Enter a Vietnamese phone number such as 0912345678, +84912345678 or 02113862xxx.",
        ),
        (
            {"applicant": applicant(phone="0112345678")},
            "applicant.phone",
            "Enter a Vietnamese phone number such as 0912345678, +84912345678 or 02113862xxx.",
        ),
        ({"applicant": applicant(email="an@")}, "applicant.email", "Enter a valid e-mail address."),
        ({"applicant": applicant(full_name="   ")}, "applicant.full_name", "Enter the applicant's full name."),
        ({"form_data": {"ngay_sinh_tre": "20/11/2026"}}, "form_data.ho_ten_tre", "This field is required."),
        ({"procedure_code": "9.999999"}, "procedure_code", "No published procedure has the code “9.999999”."),
    ],
)
def test_bad_input_is_refused_with_a_message(receive, media, overrides, field, message):
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        receive(**overrides)
    assert errors_of(excinfo)[field] == [message]
    nothing_saved(media)


def test_a_mandatory_document_not_ticked(receive, birth, media):
    documents = birth.documents()
    documents[1].update(originals=0, copies=0)
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        receive(documents=documents, applicant=applicant(id_number="1"))
    errors = errors_of(excinfo)
    assert errors["documents"] == ["The mandatory document “Giấy chứng sinh” has not been received."]
    assert "applicant.id_number" in errors  # every problem is reported at once
    nothing_saved(media)


@pytest.mark.parametrize("content", [EXE, ELF, b"<html><script>x</script>", b"PK\x03\x04zip"])
def test_files_are_checked_by_content_not_name(receive, birth, media, content):
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        receive(documents=birth.documents(f0=PDF and pdf(content=content), f1=pdf()))
    assert errors_of(excinfo) == {
        "documents.0.file": ["Only PDF, JPEG and PNG files are accepted; this file is none of them."]
    }
    nothing_saved(media)


def test_file_size_limits(receive, birth, media, settings):
    settings.MOTCUA_MAX_FILE_SIZE = 1000
    settings.MOTCUA_MAX_DOSSIER_SIZE = 1500
    big = pdf(content=PDF + b"0" * 1000)
    with pytest.raises(ValidationError) as excinfo:
        receive(documents=birth.documents(f0=big))
    assert list(errors_of(excinfo)) == ["documents.0.file"]
    nothing_saved(media)
    half = PDF + b"0" * (800 - len(PDF))
    with pytest.raises(ValidationError) as excinfo:
        receive(documents=birth.documents(f0=pdf(content=half), f1=pdf(content=half)))
    assert list(errors_of(excinfo)) == ["documents"]
    nothing_saved(media)


def test_a_component_of_another_procedure_is_refused(receive, birth, org):
    other = make_procedure("1.000894")
    documents = birth.documents()
    documents[2]["component"] = other.components[0].pk
    with pytest.raises(ValidationError) as excinfo:
        receive(documents=documents)
    assert "documents.2.component" in errors_of(excinfo)
    nothing_saved()


def test_a_failure_after_the_files_are_stored_removes_them_and_everything_else(receive, birth, media, monkeypatch):
    real = services._record

    def record_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_record", record_then_fail)
    with pytest.raises(RuntimeError):
        receive(documents=birth.documents(f0=pdf(), f1=pdf()))
    nothing_saved(media)
    assert DossierDocument.objects.count() == 0
    monkeypatch.setattr(services, "_record", real)
    assert receive().code.endswith("-0001")  # the number was given back


# --- guidance and refusal at the counter -----------------------------------------------------------


def test_return_for_completion_records_guidance_without_code_or_clock(clerk, birth):
    dossier = services.return_for_completion(
        clerk=clerk,
        procedure_code=birth.code,
        applicant={"full_name": "Trần Thị Bình", "phone": "0987654321"},
        missing=["Giấy chứng sinh"],
        reason="Thiếu giấy chứng sinh",
        now=MONDAY,
    )
    assert (dossier.code, dossier.status, dossier.due_at, dossier.received_at) == (
        None,
        Status.RETURNED_FOR_COMPLETION,
        None,
        None,
    )
    [event] = dossier.events.all()
    assert event.action == "returned_for_completion" and event.data["missing"] == ["Giấy chứng sinh"]
    assert not DossierCodeSequence.objects.exists()


def test_refusal_needs_a_reason(clerk, birth):
    with pytest.raises(ValidationError) as excinfo:
        services.refuse(clerk=clerk, procedure_code=birth.code, applicant={"full_name": "A"}, reason=" ")
    assert "reason" in errors_of(excinfo)
    nothing_saved()
    dossier = services.refuse(
        clerk=clerk, procedure_code=birth.code, applicant={"full_name": "A"}, reason="Không thuộc thẩm quyền"
    )
    assert dossier.status == Status.REFUSED and dossier.code is None
    assert Dossier.objects.count() == DossierEvent.objects.count() == 1


def test_messages_are_vietnamese_by_default(receive, birth):
    documents = birth.documents()
    documents[0].update(originals=0, copies=0)
    with translation.override("vi"), pytest.raises(ValidationError) as excinfo:
        receive(applicant=applicant(id_number="123", phone="12345"), documents=documents)
    errors = errors_of(excinfo)
    assert errors["applicant.id_number"] == ["Số CCCD phải gồm đúng 12 chữ số."]
    assert errors["applicant.phone"][0].startswith("Nhập số điện thoại Việt Nam")
    assert errors["documents"] == ["Chưa nhận giấy tờ bắt buộc “Tờ khai”."]
