"""Fixtures for the dossier tests: the demo organisation, catalogue rows made with the ORM, a fixed clock.

Catalogue rows are created directly (not through catalog services, which another change is still
shaping): a version is filled while a draft, then marked published, as publishing would.
"""

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from motcua.catalog.models import DocumentComponent, FeeLine, FormField, Procedure, ProcedureVersion
from motcua.dossiers.models import Dossier, DossierCodeSequence, DossierEvent
from motcua.org.models import AdministrativeLevel, Agency, User
from motcua.worktime import selectors as worktime_selectors

VN = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNES = ["000.21.31.H62", "000.22.31.H62", "000.21.32.H62", "000.22.32.H62"]
LIENBAO = "000.21.31.H62"
TAMHOP = "000.22.32.H62"
PROVINCE_CENTRE = "000.00.24.H62"
#: Monday 30 November 2026, a working day.
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=VN)
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


@dataclass
class Proc:
    version: ProcedureVersion
    components: list[DocumentComponent] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.version.procedure.code

    def documents(self, **files) -> list[dict]:
        """Every component ticked (1 original); ``files`` maps component index (as ``f0``…) to a file."""
        return [
            {"component": c.pk, "originals": 1, "copies": 0, "file": files.get(f"f{i}")}
            for i, c in enumerate(self.components)
        ]


def make_procedure(
    code: str,
    *,
    name: str = "Đăng ký khai sinh",
    time_kind: str = ProcedureVersion.TimeKind.WORKING_DAYS,
    days: str = "1",
    cutoff: time | None = time(15, 0),
    levels: tuple[str, ...] = ("commune",),
    agencies: tuple[str, ...] = tuple(COMMUNES),
) -> Proc:
    procedure = Procedure.objects.create(code=code)
    version = ProcedureVersion.objects.create(
        procedure=procedure,
        number=1,
        name=name,
        time_kind=time_kind,
        resolution_days=Decimal(days),
        same_day_cutoff=cutoff,
    )
    version.levels.set(AdministrativeLevel.objects.filter(code__in=levels))
    version.agencies.set(Agency.objects.filter(code__in=agencies))
    components = [
        DocumentComponent.objects.create(version=version, name="Tờ khai", order=1),
        DocumentComponent.objects.create(version=version, name="Giấy chứng sinh", order=2),
        DocumentComponent.objects.create(
            version=version,
            name="Văn bản ủy quyền",
            order=3,
            requirement=DocumentComponent.Requirement.CONDITIONAL,
            condition_note="Khi nộp thay",
        ),
    ]
    FormField.objects.create(version=version, name="ho_ten_tre", label="Họ tên trẻ", order=1)
    FormField.objects.create(version=version, name="ngay_sinh_tre", label="Ngày sinh", type="date", order=2)
    FormField.objects.create(version=version, name="ghi_chu", label="Ghi chú", required=False, order=3)
    FeeLine.objects.create(version=version, name="Lệ phí", amount=Decimal(0))
    version.status = ProcedureVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    procedure.current_version = version
    procedure.save(update_fields=["current_version"])
    return Proc(version=version, components=components)


def applicant(**overrides) -> dict:
    data = {
        "full_name": "Nguyễn Văn An",
        "id_number": "026090001234",
        "phone": "0912345678",
        "email": "an@example.vn",
        "address": "Phường Liên Bảo, Vĩnh Yên",
        "accepts_sms": True,
    }
    data.update(overrides)
    return data


FORM = {"ho_ten_tre": "Nguyễn Văn Bình", "ngay_sinh_tre": "20/11/2026"}


def pdf(name: str = "to-khai.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _fresh_calendars():
    worktime_selectors.clear_cache()
    yield
    worktime_selectors.clear_cache()


@pytest.fixture
def media(_media) -> Path:
    return _media


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def nothing_saved(media: Path | None = None) -> None:
    assert Dossier.objects.count() == 0
    assert DossierEvent.objects.count() == 0
    assert DossierCodeSequence.objects.filter(last_number__gt=0).count() == 0
    if media is not None:
        assert stored_files(media) == []


@pytest.fixture(scope="module")
def _demo_module(django_db_setup, django_db_blocker):
    """The demo organisation, loaded once per module inside a transaction rolled back at its end.

    Loading it costs ~0.6 s; each test still runs in its own savepoint (pytest-django's ``db``),
    so tests stay independent. Transactional tests (the concurrency test) load it themselves.
    """
    from django.db import transaction

    from motcua.org import demo

    with django_db_blocker.unblock(), transaction.atomic():
        units = demo.load()
        yield units
        transaction.set_rollback(True)


@pytest.fixture
def demo_org(_demo_module, db):
    """Overrides the root fixture of the same name with the module-wide copy (see ``_demo_module``)."""
    return _demo_module


@pytest.fixture
def org(demo_org):
    return demo_org


def user(email_local: str) -> User:
    return User.objects.get(email=f"{email_local}@vinhphuc.gov.vn")


@pytest.fixture
def clerk(org) -> User:
    return user("motcua.lienbao")


@pytest.fixture
def clerk_tamhop(org) -> User:
    return user("motcua.tamhop")


@pytest.fixture
def clerk_centre(org) -> User:
    return user("motcua.tinh")


@pytest.fixture
def birth(org) -> Proc:
    """A commune procedure of 1 working day with two mandatory documents and a three-field form."""
    return make_procedure("1.001193")


@pytest.fixture
def receive(clerk, birth):
    """Receive a valid dossier at Liên Bảo's counter; keyword arguments override the defaults."""
    from motcua.dossiers import services

    def _receive(**overrides) -> Dossier:
        values = {
            "clerk": clerk,
            "procedure_code": birth.code,
            "applicant": applicant(),
            "form_data": dict(FORM),
            "documents": birth.documents(),
            "now": MONDAY,
            "ip": "203.0.113.7",
        }
        values.update(overrides)
        return services.receive_at_counter(**values)

    return _receive
