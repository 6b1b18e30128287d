"""A known history built through the dossier services (never by writing the tables directly).

Three months of 2026 (September–November), two communes of two districts, and the provincial
service centre receiving for the land branches (placed in their district *and* belonging to the
provincial Land Registration Office: dual accountability). ``EXPECTED`` is the hand count of every
figure, worked out from the timeline below with the default calendar (sessions 07:30–11:30 and
13:30–17:00, Monday–Friday; 1 day = 2 sessions, counted from the session after receipt).

Liên Bảo (Vĩnh Yên), procedure of 1 day:
  A1 Mon 14/9 09:00, due Tue 15/9 11:30, resolved Mon 14/9 15:00 ............ early (Sep)
  A2 Mon 14/9 09:00, resolved Tue 15/9 10:00 .................................. on time (Sep)
  A3 Mon 14/9 09:00, resolved Wed 16/9 09:00 .................................. late (Sep)
  A4 Mon 28/9 09:00, due Tue 29/9 11:30, resolved Thu 1/10 09:00 .............. overdue at end of Sep, late (Oct)
  A5 Mon 12/10 09:00 online, resolved Mon 12/10 16:00 ......................... early (Oct)
  A6 Mon 12/10 09:00, withdrawn Tue 13/10 09:00 ............................... withdrawn (Oct)
  A7 Fri 30/10 09:00, due Mon 2/11 11:30, resolved Mon 2/11 10:00 ............. within time at end of Oct, on time (Nov)
  A8 Mon 16/11 09:00, supplement asked Mon 16/11 10:00 (before due) ........... in progress within time at end of Nov
  A9 Mon 16/11 09:00, due Tue 17/11 11:30, nothing more ....................... overdue at end of Nov
  A10 refused at the counter Tue 17/11 ........................................ refused (Nov)
Tam Hợp (Bình Xuyên), procedure of 1 day:
  B1 Tue 13/10 09:00, due Wed 14/10 11:30, resolved Wed 14/10 10:00 ........... on time (Oct)
  B2 Tue 13/10 09:00, stopped Tue 20/10 09:00 ................................. stopped (Oct)
  B3 Mon 16/11 09:00, due Tue 17/11 11:30, supplement asked Wed 18/11 09:00 (already overdue),
     received Thu 19/11 09:00 (due unchanged), resolved Fri 20/11 09:00 ....... late (Nov)
Provincial centre for the land branches, procedure of 2 days with a fee, fully online:
  C1 Vĩnh Yên branch, Mon 12/10 09:00, due Wed 14/10 11:30, resolved Tue 13/10 . early (Oct)
  C2 Vĩnh Yên branch, Mon 12/10 09:00 online, resolved Thu 15/10 09:00 ........ late (Oct)
  C3 Vĩnh Yên branch, Mon 16/11 09:00, due Wed 18/11 11:30, supplement asked Tue 17/11 09:00
     (2 sessions left), received Thu 19/11 09:00 → due Fri 20/11 11:30, resolved Fri 20/11 10:00 .. on time (Nov)
  D1 Bình Xuyên branch, Mon 16/11 09:00, resolved Mon 16/11 14:00 ............ early (Nov)
"""

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from motcua.catalog.models import DocumentComponent, FeeLine, Field, Procedure, ProcedureVersion
from motcua.dossiers import services
from motcua.dossiers.models import Dossier
from motcua.org.models import AdministrativeLevel, Agency, User
from motcua.worktime import selectors as worktime_selectors

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LIENBAO, TICHSON, HUONGCANH, TAMHOP = "000.21.31.H62", "000.22.31.H62", "000.21.32.H62", "000.22.32.H62"
BRANCH_VY, BRANCH_BX = "001.01.12.H62", "002.01.12.H62"
LAND_OFFICE = "000.01.12.H62"


def at(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


def user(local: str, domain: str = "vinhphuc.gov.vn") -> User:
    return User.objects.get(email=f"{local}@{domain}")


def make_procedure(
    code: str,
    name: str,
    *,
    days: str,
    agencies: list[str],
    field: Field,
    online: str,
    fee: int,
    time_kind: str = ProcedureVersion.TimeKind.WORKING_DAYS,
):
    procedure = Procedure.objects.create(code=code)
    version = ProcedureVersion.objects.create(
        procedure=procedure,
        number=1,
        name=name,
        field=field,
        time_kind=time_kind,
        resolution_days=Decimal(days),
        same_day_cutoff=time(15, 0),
        online_level=online,
    )
    version.levels.set(AdministrativeLevel.objects.filter(code__in=["commune", "district"]))
    version.agencies.set(Agency.objects.filter(code__in=agencies))
    DocumentComponent.objects.create(version=version, name="Tờ khai", order=1)
    FeeLine.objects.create(version=version, name="Lệ phí", amount=Decimal(fee))
    version.status = ProcedureVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    procedure.current_version = version
    procedure.save(update_fields=["current_version"])
    return version


def applicant(n: int) -> dict:
    return {"full_name": f"Nguyễn Văn Thử {n}", "id_number": f"0260900{n:05d}", "phone": "0912345678"}


@dataclass
class History:
    dossiers: dict[str, Dossier]
    civil: ProcedureVersion
    land: ProcedureVersion


def _receive(clerk, version, moment, n, *, channel="counter", competent=None, scanned=False) -> Dossier:
    from django.core.files.uploadedfile import SimpleUploadedFile

    component = version.components.first()
    upload = (
        SimpleUploadedFile("to-khai.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf") if scanned else None
    )
    return services.receive_at_counter(
        clerk=clerk,
        procedure_code=version.procedure.code,
        applicant=applicant(n),
        form_data={},
        documents=[{"component": component.pk, "originals": 1, "file": upload}],
        channel=channel,
        competent_agency=competent,
        now=moment,
    )


def build_history() -> History:
    """The timeline of the module docstring, through the services only."""
    worktime_selectors.clear_cache()
    civil_field, _ = Field.objects.get_or_create(code="HO_TICH", defaults={"name": "Hộ tịch"})
    land_field, _ = Field.objects.get_or_create(code="DAT_DAI", defaults={"name": "Đất đai"})
    civil = make_procedure(
        "1.001193",
        "Đăng ký khai sinh",
        days="1",
        agencies=[LIENBAO, TICHSON, HUONGCANH, TAMHOP],
        field=civil_field,
        online="partial",
        fee=0,
    )
    land = make_procedure(
        "1.004227",
        "Đăng ký biến động đất đai",
        days="2",
        agencies=[BRANCH_VY, BRANCH_BX],
        field=land_field,
        online="full",
        fee=50000,
    )
    lienbao, tamhop, centre = user("motcua.lienbao"), user("motcua.tamhop"), user("motcua.tinh")
    d: dict[str, Dossier] = {}

    d["A1"] = _receive(lienbao, civil, at(14, 9, 9), 1, scanned=True)
    d["A2"] = _receive(lienbao, civil, at(14, 9, 9), 2, scanned=True)
    d["A3"] = _receive(lienbao, civil, at(14, 9, 9), 3)
    d["A4"] = _receive(lienbao, civil, at(28, 9, 9), 4)
    for key, moment in (("A1", at(14, 9, 15)), ("A2", at(15, 9, 10)), ("A3", at(16, 9, 9)), ("A4", at(1, 10, 9))):
        services.start_processing(d[key], actor=lienbao, now=moment)
        services.mark_result_ready(d[key], actor=lienbao, now=moment)
    services.return_result(d["A1"], actor=lienbao, now=at(15, 9, 8))

    d["A5"] = _receive(lienbao, civil, at(12, 10, 9), 5, channel="online", scanned=True)
    services.start_processing(d["A5"], actor=lienbao, now=at(12, 10, 10))
    services.mark_result_ready(d["A5"], actor=lienbao, now=at(12, 10, 16))
    d["A6"] = _receive(lienbao, civil, at(12, 10, 9), 6)
    services.withdraw(d["A6"], actor=lienbao, reason="Công dân rút hồ sơ", now=at(13, 10, 9))
    d["A7"] = _receive(lienbao, civil, at(30, 10, 9), 7)
    services.start_processing(d["A7"], actor=lienbao, now=at(30, 10, 10))
    services.mark_result_ready(d["A7"], actor=lienbao, now=at(2, 11, 10))

    d["A8"] = _receive(lienbao, civil, at(16, 11, 9), 8)
    services.start_processing(d["A8"], actor=lienbao, now=at(16, 11, 9, 30))
    services.request_supplement(d["A8"], actor=lienbao, reason="Thiếu bản sao giấy tờ", now=at(16, 11, 10))
    d["A9"] = _receive(lienbao, civil, at(16, 11, 9), 9)
    services.refuse(
        clerk=lienbao,
        procedure_code=civil.procedure.code,
        applicant=applicant(10),
        reason="Không thuộc thẩm quyền",
        now=at(17, 11, 9),
    )

    d["B1"] = _receive(tamhop, civil, at(13, 10, 9), 11)
    services.start_processing(d["B1"], actor=tamhop, now=at(13, 10, 10))
    services.mark_result_ready(d["B1"], actor=tamhop, now=at(14, 10, 10))
    d["B2"] = _receive(tamhop, civil, at(13, 10, 9), 12)
    services.start_processing(d["B2"], actor=tamhop, now=at(13, 10, 10))
    services.stop(d["B2"], actor=tamhop, reason="Không đủ điều kiện", now=at(20, 10, 9))
    d["B3"] = _receive(tamhop, civil, at(16, 11, 9), 13)
    services.start_processing(d["B3"], actor=tamhop, now=at(16, 11, 10))
    services.request_supplement(d["B3"], actor=tamhop, reason="Bổ sung", now=at(18, 11, 9))
    services.supplement_received(d["B3"], actor=tamhop, now=at(19, 11, 9))
    services.mark_result_ready(d["B3"], actor=tamhop, now=at(20, 11, 9))

    d["C1"] = _receive(centre, land, at(12, 10, 9), 14, competent=BRANCH_VY)
    d["C2"] = _receive(centre, land, at(12, 10, 9), 15, competent=BRANCH_VY, channel="online")
    for key, moment in (("C1", at(13, 10, 9)), ("C2", at(15, 10, 9))):
        services.start_processing(d[key], actor=centre, now=at(12, 10, 10))
        services.mark_result_ready(d[key], actor=centre, now=moment)
    d["C3"] = _receive(centre, land, at(16, 11, 9), 16, competent=BRANCH_VY)
    services.start_processing(d["C3"], actor=centre, now=at(16, 11, 10))
    services.request_supplement(d["C3"], actor=centre, reason="Bổ sung bản đồ", now=at(17, 11, 9))
    services.supplement_received(d["C3"], actor=centre, now=at(19, 11, 9))
    services.mark_result_ready(d["C3"], actor=centre, now=at(20, 11, 10))
    d["D1"] = _receive(centre, land, at(16, 11, 9), 17, competent=BRANCH_BX)
    services.start_processing(d["D1"], actor=centre, now=at(16, 11, 10))
    services.mark_result_ready(d["D1"], actor=centre, now=at(16, 11, 14))
    for dossier in d.values():
        dossier.refresh_from_db()
    return History(d, civil, land)


# Hand counts: agency → month → the II.06a columns (3–16) and the flows the indicators read.
# Columns: 4 online, 5 in person/post, 6 carried over, 8 early, 9 on time, 10 late, 12 within, 13 overdue,
# 14 withdrawn, 15 stopped, 16 refused. Totals (3, 7, 11) follow from them and are checked too.
EXPECTED = {
    LIENBAO: {
        9: {4: 0, 5: 4, 6: 0, 8: 1, 9: 1, 10: 1, 12: 0, 13: 1, 14: 0, 15: 0, 16: 0},
        10: {4: 1, 5: 2, 6: 1, 8: 1, 9: 0, 10: 1, 12: 1, 13: 0, 14: 1, 15: 0, 16: 0},
        11: {4: 0, 5: 2, 6: 1, 8: 0, 9: 1, 10: 0, 12: 1, 13: 1, 14: 0, 15: 0, 16: 1},
    },
    TAMHOP: {
        9: {},
        10: {4: 0, 5: 2, 6: 0, 8: 0, 9: 1, 10: 0, 12: 0, 13: 0, 14: 0, 15: 1, 16: 0},
        11: {4: 0, 5: 1, 6: 0, 8: 0, 9: 0, 10: 1, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0},
    },
    BRANCH_VY: {
        9: {},
        10: {4: 1, 5: 1, 6: 0, 8: 1, 9: 0, 10: 1, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0},
        11: {4: 0, 5: 1, 6: 0, 8: 0, 9: 1, 10: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0},
    },
    BRANCH_BX: {
        9: {},
        10: {},
        11: {4: 0, 5: 1, 6: 0, 8: 1, 9: 0, 10: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0},
    },
}


def expected_columns(agency_code: str, month: int) -> dict[int, int]:
    """All II.06a columns 3–16 of the hand count, totals derived from the parts."""
    parts = {n: EXPECTED[agency_code][month].get(n, 0) for n in (4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 16)}
    parts[3] = parts[4] + parts[5] + parts[6]
    parts[7] = parts[8] + parts[9] + parts[10]
    parts[11] = parts[12] + parts[13]
    return parts


@pytest.fixture
def history(demo_org) -> History:
    return build_history()


@pytest.fixture(autouse=True)
def _media_and_calendars(settings, tmp_path):
    """Uploaded and exported files go to a temporary folder; calendars are rebuilt per test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    worktime_selectors.clear_cache()
    yield
    worktime_selectors.clear_cache()


def summary_rows() -> dict:
    """The non-zero day and month summary rows, keyed by (table, period, agency, version): what a rebuild
    must reproduce exactly."""
    from motcua.reports.models import DailyFigures, MonthlyFigures

    rows = {}
    for model, key in ((DailyFigures, "day"), (MonthlyFigures, "month")):
        for row in model.objects.values():
            row.pop("id")
            counts = {k: v for k, v in row.items() if k not in (key, "agency_id", "procedure_version_id")}
            if any(counts.values()):
                rows[(model.__name__, row[key], row["agency_id"], row["procedure_version_id"])] = counts
    return rows
