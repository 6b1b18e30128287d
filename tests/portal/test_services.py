"""Online submission services: drafts, submission, the clerk's decisions, the citizen's supplement, ratings."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from motcua.dossiers import services
from motcua.dossiers.lifecycle import IllegalTransition, Status
from motcua.dossiers.models import Channel, Dossier, DossierEvent
from motcua.org.models import Agency
from motcua.portal import services as portal_services
from motcua.portal.models import DossierOwner, Rating
from tests.dossiers.conftest import FORM, LIENBAO, MONDAY, applicant, at, pdf, stored_files

Action = DossierEvent.Action


def full_draft(citizen, proc, **overrides):
    kwargs = {
        "procedure_code": proc.code,
        "agency": LIENBAO,
        "applicant": applicant(),
        "form_data": FORM,
        "documents": [{"component": c.pk, "file": pdf()} for c in proc.components[:2]],
        "now": MONDAY,
    }
    kwargs.update(overrides)
    return services.save_draft(citizen, **kwargs)


def submitted(citizen, proc, now=MONDAY):
    draft = full_draft(citizen, proc)
    return services.submit_online(citizen, draft, now=now)


def test_draft_then_submit_then_receive_like_the_counter(citizen, clerk, online_birth, media):
    draft = full_draft(citizen, online_birth)
    assert draft.status == Status.DRAFT and draft.code is None and draft.channel == Channel.ONLINE
    assert DossierOwner.objects.get(dossier=draft).user == citizen
    assert not draft.events.exists()
    assert len(stored_files(media)) == 2

    sent = services.submit_online(citizen, draft, ip="10.0.0.9", now=at(30, 10))
    assert sent.status == Status.SUBMITTED_ONLINE and sent.submitted_at == at(30, 10)
    event = sent.events.get()
    assert (event.action, event.actor, event.actor_role) == (Action.SUBMITTED_ONLINE, citizen, "citizen")

    received = services.receive_online(sent, clerk, now=at(30, 14))
    assert received.status == Status.RECEIVED
    assert received.code and received.code.startswith(LIENBAO)
    # Same clock rule as the counter: 1 working day from 14:00 Monday → Tuesday 17:00.
    assert received.due_at == at(1, 17, month=12)
    assert received.received_by == clerk and received.received_at == at(30, 14)
    assert list(received.events.values_list("action", flat=True).order_by("pk")) == [
        Action.SUBMITTED_ONLINE,
        Action.RECEIVED,
    ]
    # The counter's code sequence is shared: the next counter dossier gets the next number.
    counter = services.receive_at_counter(
        clerk=clerk,
        procedure_code=online_birth.code,
        applicant=applicant(),
        form_data=FORM,
        documents=online_birth.documents(),
        now=at(30, 15),
    )
    assert (counter.code[:-3], int(counter.code[-3:])) == (received.code[:-3], int(received.code[-3:]) + 1)


def test_received_on_saturday_is_due_monday_afternoon(citizen, clerk, online_birth):
    sent = submitted(citizen, online_birth, now=at(28, 10))
    received = services.receive_online(sent, clerk, now=at(28, 10))
    assert received.due_at == at(30, 17)


def test_incomplete_draft_is_not_sent(citizen, online_birth):
    draft = full_draft(citizen, online_birth, documents=[], applicant=applicant(id_number=""), form_data={})
    with pytest.raises(ValidationError) as error:
        services.submit_online(citizen, draft, now=MONDAY)
    fields = error.value.message_dict
    assert "documents" in fields and "applicant.id_number" in fields and "form_data.ho_ten_tre" in fields
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and not draft.events.exists()


@pytest.mark.parametrize(
    "upload, message",
    [
        (
            SimpleUploadedFile("x.pdf", b"<script>alert(1)</script>", content_type="application/pdf"),
            "Chỉ chấp nhận tệp PDF",
        ),
        (SimpleUploadedFile("x.pdf", b"", content_type="application/pdf"), "Tệp rỗng"),
    ],
)
def test_fake_or_empty_files_are_refused_and_nothing_saved(citizen, online_birth, media, upload, message):
    with pytest.raises(ValidationError) as error:
        full_draft(citizen, online_birth, documents=[{"component": online_birth.components[0].pk, "file": upload}])
    assert message in str(error.value.message_dict)
    assert Dossier.objects.count() == 0 and stored_files(media) == []


def test_oversized_file_is_refused(citizen, online_birth, media, settings):
    settings.MOTCUA_MAX_FILE_SIZE = 20
    with pytest.raises(ValidationError) as error:
        full_draft(citizen, online_birth)
    assert "Tệp quá lớn" in str(error.value.message_dict)
    assert Dossier.objects.count() == 0 and stored_files(media) == []


def test_bad_formats_in_a_draft(citizen, online_birth):
    with pytest.raises(ValidationError) as error:
        full_draft(citizen, online_birth, applicant=applicant(id_number="12ab", phone="123", email="nope"))
    assert {"applicant.id_number", "applicant.phone", "applicant.email"} <= set(error.value.message_dict)
    assert Dossier.objects.count() == 0


def test_script_in_text_is_stored_as_text(citizen, online_birth):
    draft = full_draft(citizen, online_birth, applicant=applicant(full_name="<script>alert(1)</script>"))
    assert draft.applicant_name == "<script>alert(1)</script>"


def test_staff_cannot_submit_online(clerk, online_birth):
    with pytest.raises(PermissionDenied):
        full_draft(clerk, online_birth)


def test_procedure_not_online_is_refused(citizen, online_birth):
    from motcua.catalog.models import ProcedureVersion

    ProcedureVersion.objects.filter(pk=online_birth.version.pk).update(online_level=ProcedureVersion.OnlineLevel.NONE)
    with pytest.raises(ValidationError) as error:
        full_draft(citizen, online_birth)
    assert "procedure_code" in error.value.message_dict


def test_agency_must_carry_out_the_procedure(citizen, online_birth):
    with pytest.raises(ValidationError) as error:
        full_draft(citizen, online_birth, agency="000.00.24.H62")
    assert "agency" in error.value.message_dict
    with pytest.raises(ValidationError):
        full_draft(citizen, online_birth, agency=None)  # four communes: the citizen must choose


def test_another_citizens_draft_cannot_be_sent_or_edited(citizen, other_citizen, online_birth):
    draft = full_draft(citizen, online_birth)
    with pytest.raises(Dossier.DoesNotExist):
        services.submit_online(other_citizen, draft, now=MONDAY)
    with pytest.raises(Dossier.DoesNotExist):
        services.save_draft(other_citizen, draft=draft, applicant=applicant(), agency=LIENBAO)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_return_for_completion_then_resend(citizen, clerk, online_birth):
    sent = submitted(citizen, online_birth)
    with pytest.raises(ValidationError):
        services.return_online_for_completion(sent, clerk, missing=[" "], reason="")
    back = services.return_online_for_completion(sent, clerk, missing=["Giấy chứng sinh bản rõ hơn"], now=at(30, 10))
    assert back.status == Status.RETURNED_FOR_COMPLETION and back.code is None
    services.save_draft(citizen, draft=back, applicant=applicant(), form_data=FORM, agency=LIENBAO, now=at(30, 11))
    again = services.submit_online(citizen, back, now=at(30, 11))
    assert again.status == Status.SUBMITTED_ONLINE


def test_refuse_needs_a_reason_and_is_final(citizen, clerk, online_birth):
    sent = submitted(citizen, online_birth)
    with pytest.raises(ValidationError):
        services.refuse_online(sent, clerk, reason="  ")
    refused = services.refuse_online(sent, clerk, reason="Không thuộc thẩm quyền")
    assert refused.status == Status.REFUSED
    with pytest.raises(IllegalTransition):
        services.receive_online(refused, clerk)


def test_clerk_of_another_commune_cannot_receive(citizen, clerk_tamhop, online_birth):
    sent = submitted(citizen, online_birth)
    with pytest.raises(PermissionDenied):
        services.receive_online(sent, clerk_tamhop)
    sent.refresh_from_db()
    assert sent.status == Status.SUBMITTED_ONLINE and sent.code is None


def test_citizen_answers_a_supplement_request_and_the_clock_resumes(citizen, other_citizen, clerk, online_birth):
    received = services.receive_online(submitted(citizen, online_birth), clerk, now=at(30, 9))
    services.start_processing(received, actor=clerk, now=at(30, 9, 30))
    services.request_supplement(received, actor=clerk, reason="Thiếu bản sao", now=at(30, 10))
    due_before = Dossier.objects.get(pk=received.pk).due_at

    with pytest.raises(Dossier.DoesNotExist):
        services.answer_supplement(other_citizen, received, documents=[{"name": "x", "file": pdf()}])
    with pytest.raises(ValidationError):
        services.answer_supplement(citizen, received, documents=[])

    done = services.answer_supplement(
        citizen, received, documents=[{"name": "Bản sao", "file": pdf()}], now=at(1, 10, month=12)
    )
    assert done.status == Status.IN_PROCESS and done.paused_at is None
    assert done.due_at > due_before
    event = done.events.latest("pk")
    assert (event.action, event.actor, event.actor_role) == (Action.SUPPLEMENT_RECEIVED, citizen, "citizen")
    # Only this action is open to the applicant.
    with pytest.raises(PermissionDenied):
        services.mark_result_ready(done, actor=citizen)


def test_national_sync_can_submit_without_a_citizen(online_birth, org):
    agency = Agency.objects.get(code=LIENBAO)
    dossier = services.submit_online(
        None,
        procedure_code=online_birth.code,
        applicant=applicant(),
        receiving_agency=agency,
        form_data=FORM,
        documents=[{"name": "Tờ khai (nộp trên Cổng DVCQG)"}],
        event_data={"source": "dvcqg"},
        now=MONDAY,
    )
    assert dossier.status == Status.SUBMITTED_ONLINE and not DossierOwner.objects.filter(dossier=dossier).exists()
    assert dossier.events.get().data["source"] == "dvcqg"
    assert list(dossier.documents.values_list("name", flat=True)) == ["Tờ khai (nộp trên Cổng DVCQG)"]
    with pytest.raises(ValidationError):  # a file given is checked all the same
        services.submit_online(
            None,
            procedure_code=online_birth.code,
            applicant=applicant(),
            receiving_agency=agency,
            documents=[{"name": "x", "file": SimpleUploadedFile("x.pdf", b"MZ", "application/pdf")}],
        )


def test_rating_once_after_return(citizen, other_citizen, clerk, online_birth):
    received = services.receive_online(submitted(citizen, online_birth), clerk, now=at(30, 9))
    with pytest.raises(ValidationError):
        portal_services.rate(citizen, received, score=5)
    services.start_processing(received, actor=clerk, now=at(30, 9, 30))
    services.mark_result_ready(received, actor=clerk, now=at(30, 10))
    services.return_result(received, actor=clerk, now=at(30, 11))
    with pytest.raises(Dossier.DoesNotExist):
        portal_services.rate(other_citizen, received, score=5)
    for bad in (0, 6, "x", None):
        with pytest.raises(ValidationError):
            portal_services.rate(citizen, received, score=bad)
    portal_services.rate(citizen, received, score=4, comment="Nhanh")
    with pytest.raises(ValidationError):
        portal_services.rate(citizen, received, score=5)
    assert Rating.objects.get().score == 4


def test_a_draft_of_a_retired_version_is_not_sent(citizen, online_birth):
    from motcua.catalog.models import ProcedureVersion

    draft = full_draft(citizen, online_birth)
    ProcedureVersion.objects.filter(pk=online_birth.version.pk).update(status=ProcedureVersion.Status.RETIRED)
    with pytest.raises(ValidationError) as error:
        services.submit_online(citizen, draft, now=MONDAY)
    assert "procedure_code" in error.value.message_dict
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.parametrize("id_number", ["０２６０９０００１２３４", "٠٢٦٠٩٠٠٠١٢٣٤", "²²²²²²²²²²²²"])
def test_sso_claims_with_non_ascii_digits_are_refused(db, id_number):
    with pytest.raises(ValidationError):
        portal_services.citizen_from_claims({"SoDinhDanh": id_number, "HoVaTen": "Nguyễn Văn A"})
