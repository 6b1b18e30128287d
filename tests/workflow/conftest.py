"""Fixtures of the workflow tests: the demo organisation, a land procedure of 5 working days and its
three-level workflow (commune → district land branch → province), built in the test with the ORM.

Moments are Vietnam time; the demo calendar has no holiday between 30/11 and 11/12/2026.
"""

import functools
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from motcua.catalog.models import DocumentComponent, FormField, Procedure, ProcedureVersion
from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.org.models import AdministrativeLevel, Agency, User
from motcua.workflow import services
from motcua.workflow.models import StepRun
from tests.dossiers import conftest as dossier_fixtures

# Fixtures shared with the dossier tests: the demo organisation loaded once per module, media, calendars.
_demo_module = dossier_fixtures._demo_module
demo_org = dossier_fixtures.demo_org
org = dossier_fixtures.org
_media = dossier_fixtures._media
media = dossier_fixtures.media
_fresh_calendars = dossier_fixtures._fresh_calendars

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LIENBAO = "000.21.31.H62"
TICHSON = "000.22.31.H62"
VINHYEN_BRANCH = "001.01.12.H62"
BINHXUYEN_BRANCH = "002.01.12.H62"
LAND_OFFICE = "000.01.12.H62"
DONRE = "000.00.12.H62"
LAND_CODE = "1.004227"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FORM = {"ho_ten": "Nguyễn Văn An", "dien_tich": "120.5"}


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A moment of December 2026 (30 November with ``month=11``), Vietnam time."""
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


MONDAY = at(30, 9, month=11)


def staff(local: str) -> User:
    return User.objects.get(email=f"{local}@vinhphuc.gov.vn")


def land_procedure(days: str = "5", code: str = LAND_CODE, time_kind: str = "working_days") -> ProcedureVersion:
    """A land procedure carried out by Liên Bảo, the land branches, the provincial office and department."""
    procedure = Procedure.objects.create(code=code)
    version = ProcedureVersion.objects.create(
        procedure=procedure,
        number=1,
        name="Đăng ký biến động đất đai",
        time_kind=time_kind,
        resolution_days=Decimal(days),
    )
    version.levels.set(AdministrativeLevel.objects.filter(code__in=["commune", "district", "province"]))
    version.agencies.set(
        Agency.objects.filter(code__in=[LIENBAO, TICHSON, VINHYEN_BRANCH, BINHXUYEN_BRANCH, LAND_OFFICE, DONRE])
    )
    DocumentComponent.objects.create(version=version, name="Đơn đăng ký", order=1)
    FormField.objects.create(version=version, name="ho_ten", label="Họ tên", order=1)
    FormField.objects.create(version=version, name="dien_tich", label="Diện tích (m²)", type="decimal", order=2)
    FormField.objects.create(version=version, name="uu_tien", label="Ưu tiên", required=False, order=3)
    FormField.objects.create(version=version, name="xa_thua_dat", label="Xã nơi có đất", required=False, order=4)
    version.status = ProcedureVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    procedure.current_version = version
    procedure.save(update_fields=["current_version"])
    return version


def step(key: str, name: str, budget: int = 0, kind: str = "task", **holder) -> dict:
    row = {"key": key, "name": name, "kind": kind, "budget_sessions": budget, "holder": "fixed", "role": "specialist"}
    row.update(holder)
    return row


def move(key: str, source: str, target: str, action: str = "forward", label: str = "", **extra) -> dict:
    row = {"key": key, "from": source, "to": target, "action": action, "label": label or key, "role": "specialist"}
    row.update(extra)
    return row


def three_levels(**changes) -> dict:
    """Commune 2 + district branch 4 + province office 3 + department leader 1 = 10 sessions (5 days)."""
    data = {
        "format": "motcua-workflow",
        "format_version": 1,
        "name": "Liên thông xã – huyện – tỉnh",
        "steps": [
            step("xa", "UBND xã xác nhận", 2, holder="receiving"),
            step("chi-nhanh", "Chi nhánh VPĐKĐĐ thẩm định", 4, holder="level", level="district", agency=LAND_OFFICE),
            step("van-phong", "VPĐKĐĐ tỉnh kiểm tra", 3, agency=LAND_OFFICE),
            step("lanh-dao", "Lãnh đạo Sở phê duyệt", 1, agency=DONRE, role="leader"),
            step("tra", "Trả kết quả", kind="result", holder="receiving", role="clerk", department="mot-cua"),
            step("tu-choi", "Trả lời từ chối", kind="refusal", holder="receiving", role="clerk"),
        ],
        "transitions": [
            move("len-huyen", "xa", "chi-nhanh", "transfer", "Chuyển Chi nhánh"),
            move("trinh-tinh", "chi-nhanh", "van-phong", "transfer", "Chuyển Văn phòng tỉnh"),
            move(
                "uu-tien", "chi-nhanh", "lanh-dao", "forward", "Trình thẳng lãnh đạo", condition="form.uu_tien == 'co'"
            ),
            move("tra-xa", "chi-nhanh", "xa", "return", "Trả lại xã"),
            move("bo-sung", "chi-nhanh", "", "request_supplement", "Yêu cầu bổ sung"),
            move("tu-choi", "chi-nhanh", "tu-choi", "reject", "Từ chối", role="leader"),
            move("trinh-ld", "van-phong", "lanh-dao", "forward", "Trình lãnh đạo", requires_attachment=True),
            move("duyet", "lanh-dao", "tra", "approve", "Phê duyệt", role="leader", requires_signature=True),
            move("khong-duyet", "lanh-dao", "tu-choi", "reject", "Không phê duyệt", role="leader"),
        ],
    }
    data.update(changes)
    return data


@pytest.fixture
def land(org) -> ProcedureVersion:
    return land_procedure()


@pytest.fixture
def workflow(land):
    return services.replace_definition(land, None, three_levels())


@pytest.fixture
def clerk(org) -> User:
    return staff("motcua.lienbao")


@pytest.fixture
def commune(org) -> User:
    return staff("chuyenvien.lienbao")


@pytest.fixture
def branch(org) -> User:
    return staff("chuyenvien.0010112h62")


@pytest.fixture
def office(org) -> User:
    return staff("chuyenvien.tinh")


@pytest.fixture
def leader(org) -> User:
    return staff("lanhdao.tinh")


@pytest.fixture
def receive(clerk, land):
    def _receive(now: datetime = MONDAY, form: dict | None = None, **overrides) -> Dossier:
        values = {
            "clerk": clerk,
            "procedure_code": LAND_CODE,
            "applicant": {"full_name": "Nguyễn Văn An", "id_number": "026090001234", "phone": "0912345678"},
            "form_data": {**FORM, **(form or {})},
            "documents": [{"component": land.components.get().pk, "originals": 1}],
            "now": now,
        }
        values.update(overrides)
        return dossier_services.receive_at_counter(**values)

    return _receive


def counts() -> tuple[int, int, int]:
    """(step runs, dossier events, open step runs): what a refused move must leave unchanged."""
    return (
        StepRun.objects.count(),
        DossierEvent.objects.count(),
        StepRun.objects.filter(finished_at__isnull=True).count(),
    )


def current(dossier: Dossier) -> StepRun | None:
    return StepRun.objects.filter(dossier=dossier, parent__isnull=True, finished_at__isnull=True).first()


def events(dossier: Dossier) -> list[str]:
    return list(DossierEvent.objects.filter(dossier=dossier).order_by("at", "pk").values_list("action", flat=True))


@pytest.fixture
def paper_signatures(settings):
    """Leaders' approvals are recorded, not signed digitally (``MOTCUA_SIGN_RESULTS = False``): for
    tests whose subject is the engine, the clock or the numbering at fixed moments where the demo
    certificates are not valid. Digital signing is tested in tests/workflow/test_result_signing.py."""
    settings.MOTCUA_SIGN_RESULTS = False


@functools.cache
def result_pdf(text: str = "QUYẾT ĐỊNH – kết quả giải quyết") -> bytes:
    """A real one-page A4 PDF (WeasyPrint), as an officer would attach."""
    import weasyprint

    html = f"<html><body style='font-family: serif'><h1>{text}</h1><p>Ủy ban nhân dân xã Liên Bảo</p></body></html>"
    return weasyprint.HTML(string=html).write_pdf()


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture
def pki(org, settings, pki_dir, media):
    """The demo PKI registered in this test's database (its key files are made once per session,
    valid from the moment they are made: signing tests use moments after that)."""
    from motcua.documents import demo as pki_demo

    settings.MOTCUA_PKI_DIR = pki_dir
    return pki_demo.load()
