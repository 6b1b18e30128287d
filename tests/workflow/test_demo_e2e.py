"""End to end, per demo procedure: receipt → every step → hand-over, through the HTTP API.

Each step is taken with its holder's own demo account and bearer token (``issue_token``), on the
demo workflows of ``motcua.workflow.demo`` loaded by ``load_demo``.

Time: the API reads the clock (``timezone.now()``), so each request runs with the clock stopped
at a fixed moment (``clock``, time-machine). The requests still go
through the whole stack (URL routing, token authentication, the engine, the database); only the
clock is fixed, which is what lets every due moment below be a literal computed by hand.
Calling the services with ``now=`` instead would skip the API path the issue asks to show.

The arithmetic, on the demo calendar (Monday–Friday; sessions 07:30–11:30 and 13:30–17:00;
no holiday in June–July 2026): a step handed over at moment T is due at the end of the n-th
working session that starts strictly after T (the holder's budget starts with the next session).
Moments are Vietnam time (+07:00).
"""

import base64
import io
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from motcua.api import services as token_services
from motcua.catalog.models import Procedure
from motcua.dossiers.models import Dossier
from motcua.org.models import User
from motcua.workflow import demo
from motcua.workflow.models import StepRun, Workflow, WorkflowRun
from tests.workflow.conftest import PDF

# Subject: the demo workflows and their times in June 2026, where the demo certificates are not valid.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("paper_signatures")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
LIENBAO, VINHYEN, VINHYEN_FINANCE, SERVICE_CENTRE = "000.21.31.H62", "000.00.31.H62", "000.02.31.H62", "000.00.24.H62"
VINHYEN_LAND_BRANCH, LAND_OFFICE, DONRE = "001.01.12.H62", "000.01.12.H62", "000.00.12.H62"
VINHYEN_LABOUR, DOLISA, JUSTICE = "000.03.31.H62", "000.00.13.H62", "000.00.14.H62"
APPLICANT = {"full_name": "Nguyễn Văn An", "id_number": "026090001234", "phone": "0912345678"}
SUPPLEMENT = "supplement-received"  # a move through the dossier API, not a transition
DRAFT = base64.b64encode(PDF).decode()


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


def iso(month: int, day: int, hour: int, minute: int = 0) -> str:
    return at(month, day, hour, minute).isoformat()


@contextmanager
def clock(moment: datetime):
    with time_machine.travel(moment, tick=False):
        yield


class Api(Client):
    def __init__(self, email: str) -> None:
        user = User.objects.get(email=f"{email}@vinhphuc.gov.vn")
        _token, plaintext = token_services.issue_token(user, "e2e")
        super().__init__(HTTP_ACCEPT_LANGUAGE="vi", HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    def post_json(self, url: str, body: dict, moment: datetime):
        with clock(moment):
            return self.post(url, body, content_type="application/json")


@pytest.fixture(scope="module")
def _demo(django_db_setup, django_db_blocker):
    """Loaded once for the module inside a transaction rolled back after it (as tests/api does)."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def loaded(_demo, db):
    """The whole demo (organisation, calendar, catalogue, workflows), loaded once per module."""
    assert Workflow.objects.filter(revision__gt=0).count() == 9


def receive(clerk: str, code: str, form: dict, moment: datetime) -> str:
    version = Procedure.objects.get(code=code).current_version
    documents = [
        {"component": c.order, "originals": c.originals, "copies": c.copies}
        for c in version.components.filter(requirement="mandatory").order_by("order")
    ]
    body = {"procedure_code": code, "applicant": APPLICANT, "form_data": form, "documents": documents}
    response = Api(clerk).post_json("/api/v1/dossiers", body, moment)
    assert response.status_code == 201, response.json()
    return response.json()["code"]


def needs_attachment(code: str, action: str) -> bool:
    """Whether the transition ``action`` of the dossier's workflow run requires an attachment."""
    definition = WorkflowRun.objects.get(dossier__code=code).definition
    return any(t["key"] == action and t.get("requires_attachment") for t in definition["transitions"])


def drive(code: str, moves: list[tuple]) -> None:
    """Each move: (account, action, moment, comment, expected HTTP status, due of the step it opens)."""
    for email, action, moment, comment, status, new_due in moves:
        api = Api(email)
        if action == SUPPLEMENT:
            response = api.post_json(f"/api/v1/dossiers/{code}/supplement-received", {}, moment)
        else:
            body = {"action": action, "comment": comment}
            if needs_attachment(code, action):  # "Trình lãnh đạo…": the draft the leader approves
                body["attachments"] = [{"name": "du-thao.pdf", "content_base64": DRAFT, "kind": "draft"}]
            response = api.post_json(f"/api/v1/dossiers/{code}/transitions", body, moment)
        assert response.status_code == status, (action, response.json())
        if new_due is not None:
            assert response.json()["step"]["due_at"] == new_due, action


def sheet(code: str, email: str, moment: datetime) -> list[tuple]:
    with clock(moment):
        response = Api(email).get(f"/api/v1/dossiers/{code}/steps")
    assert response.status_code == 200, response.json()
    return [
        (r["key"], r["agency"]["code"], r["started_at"], r["due_at"], r["finished_at"], r["timeliness"])
        for r in response.json()["steps"]
    ]


def test_demo_load_is_idempotent_and_covers_every_procedure(loaded):
    revisions = dict(Workflow.objects.values_list("pk", "revision"))
    demo.load()
    assert dict(Workflow.objects.values_list("pk", "revision")) == revisions
    codes = set(Workflow.objects.values_list("procedure_version__procedure__code", flat=True))
    assert codes == set(Procedure.objects.values_list("code", flat=True)) == set(demo.workflows())


def test_land_commune_district_province(loaded):
    """30 working days = 60 sessions; a late commune step, a supplement pause at the land branch."""
    received = at(6, 1, 9)  # Monday 01/06/2026 09:00
    form = {
        "ho_ten": "Nguyễn Văn An",
        "so_dinh_danh": "026090001234",
        "dia_chi_thua_dat": "Tổ 5, phường Liên Bảo",
        "to_ban_do_thua": "Tờ 12, thửa 345",
        "dien_tich": "450.5",
    }
    code = receive("motcua.lienbao", "1.004227", form, received)
    dossier = Dossier.objects.get(code=code)
    # 60 sessions from Mon 01/06 09:00: Mon pm = 1, then day k after = 2k (am), 2k+1 (pm) → k = 30 am:
    # the 30th working day after 01/06 is Mon 13/07 → 11:30.
    assert dossier.due_at == at(7, 13, 11, 30)
    drive(
        code,
        [
            ("chuyenvien.lienbao", "claim", at(6, 1, 9, 30), "", 200, None),
            # Commune, 10 sessions from Mon 01/06 09:00 → k = 5 am → Mon 08/06 11:30; acts 14:00: late.
            # Branch, 30 sessions from Mon 08/06 14:00 (pm running): Tue 09/06 am = 1, day k: 2k-1, 2k → k = 15 pm
            # → Mon 29/06 17:00.
            ("chuyenvien.lienbao", "len-huyen", at(6, 8, 14), "", 200, iso(6, 29, 17)),
            # Pause Wed 10/06 10:00: sessions left = 10/06 pm (1) + 11–12/06 (4) + 15–26/06 (20) + 29/06 (2) = 27.
            ("chuyenvien.0010112h62", "bo-sung", at(6, 10, 10), "Thiếu sơ đồ thửa đất", 200, None),
            # Nothing moves while paused.
            ("chuyenvien.0010112h62", "len-tinh", at(6, 12, 9), "", 409, None),
            # Resume Mon 15/06 08:00 (am running): 15/06 pm = 1, day k after: 2k, 2k+1 → 27 = k 13 pm → Thu 02/07 17:00.
            ("motcua.lienbao", SUPPLEMENT, at(6, 15, 8), "", 200, None),
            # 450.5 m² > 300: the shortcut to the Department's leader is not offered.
            ("chuyenvien.0010112h62", "trinh-so", at(6, 30, 9), "", 422, None),
            # Branch finishes Wed 01/07 (due Thu 02/07): early. Provincial office, 12 sessions from 01/07 10:00:
            # 01/07 pm = 1, day k: 2k, 2k+1 → k = 6 am → Thu 09/07 11:30.
            ("chuyenvien.0010112h62", "len-tinh", at(7, 1, 10), "", 200, iso(7, 9, 11, 30)),
            # Office finishes 09/07 11:00 ≤ 11:30 the same day: on time. Leader, 4 sessions from 09/07 11:00:
            # 09/07 pm, 10/07 am, pm, 13/07 am → Mon 13/07 11:30.
            ("chuyenvien.tinh", "trinh-ld", at(7, 9, 11), "", 200, iso(7, 13, 11, 30)),
            # A specialist cannot approve: that transition is the leader's.
            ("chuyenvien.tinh", "phe-duyet", at(7, 10, 8), "", 403, None),
            # Leader approves Fri 10/07 (due Mon 13/07): early. Commune document clerk, 4 sessions from 10/07 15:00:
            # 13/07 am, pm, 14/07 am, pm → Tue 14/07 17:00.
            ("lanhdao.tinh", "phe-duyet", at(7, 10, 15), "", 200, iso(7, 14, 17)),
            # Document clerk acts Wed 15/07 08:00 after Tue 17:00: late. The result goes to the commune's desk.
            ("vanthu.lienbao", "vao-so", at(7, 15, 8), "", 200, None),
            ("motcua.lienbao", "hand_over", at(7, 16, 9), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.lienbao", at(7, 16, 10)) == [
        ("xa-xac-nhan", LIENBAO, iso(6, 1, 9), iso(6, 8, 11, 30), iso(6, 8, 14), "late"),
        ("chi-nhanh", VINHYEN_LAND_BRANCH, iso(6, 8, 14), iso(7, 2, 17), iso(7, 1, 10), "early"),
        ("van-phong", LAND_OFFICE, iso(7, 1, 10), iso(7, 9, 11, 30), iso(7, 9, 11), "on_time"),
        ("phe-duyet", DONRE, iso(7, 9, 11), iso(7, 13, 11, 30), iso(7, 10, 15), "early"),
        ("van-thu", LIENBAO, iso(7, 10, 15), iso(7, 14, 17), iso(7, 15, 8), "late"),
        ("tra-ket-qua", LIENBAO, iso(7, 15, 8), None, iso(7, 16, 9), ""),
    ]
    dossier.refresh_from_db()
    # The dossier's clock paused too: 46 sessions were left at 10/06 10:00 (10/06 pm 1, 11–12/06 4, three
    # weeks 30, 06–10/07 10, 13/07 am 1); from 15/06 08:00: 15/06 pm = 1, day k: 2k → k = 23 am → Thu 16/07 11:30.
    assert dossier.due_at == at(7, 16, 11, 30)
    assert (dossier.status, dossier.finished_at, dossier.timeliness) == ("returned", at(7, 15, 8), "early")
    assert dossier.returned_at == at(7, 16, 9)
    assert WorkflowRun.objects.get(dossier=dossier).outcome == "result"


def test_people_with_merit_commune_district_province_back_to_commune(loaded):
    """27 working days = 54 sessions; the Department's leader signs late; the commune hands the decision over."""
    form = {
        "ho_ten_nguoi_tho_cung": "Nguyễn Văn An",
        "so_dinh_danh": "026090001234",
        "ho_ten_liet_si": "Nguyễn Văn Hùng",
        "quan_he": "Con",
        "dien_thoai": "0912345678",
    }
    code = receive("motcua.lienbao", "1.010820", form, at(6, 1, 9))
    drive(
        code,
        [
            # Commune 10 sessions → Mon 08/06 11:30; acts Fri 05/06: early. District 20 sessions from 05/06 10:00:
            # 05/06 pm = 1, day k: 2k, 2k+1 → k = 10 am → Fri 19/06 11:30.
            ("chuyenvien.lienbao", "len-huyen", at(6, 5, 10), "", 200, iso(6, 19, 11, 30)),
            # District acts Thu 18/06 16:00: early. Department 14 sessions from 18/06 16:00 (pm running):
            # 19/06 am = 1, day k: 2k-1, 2k → k = 7 pm → Mon 29/06 17:00.
            ("chuyenvien.0000331h62", "len-tinh", at(6, 18, 16), "", 200, iso(6, 29, 17)),
            # Department acts 29/06 16:00 ≤ 17:00: on time. Leader 4 sessions: 30/06 am, pm, 01/07 am, pm → 17:00.
            ("chuyenvien.0000013h62", "trinh", at(6, 29, 16), "", 200, iso(7, 1, 17)),
            # Leader signs Thu 02/07 08:00 after Wed 17:00: late. Commune document clerk 6 sessions from 02/07 08:00:
            # 02/07 pm = 1, day k: 2k, 2k+1 → k = 3 am → Tue 07/07 11:30.
            (demo.leader_email(DOLISA).split("@")[0], "phe-duyet", at(7, 2, 8), "", 200, iso(7, 7, 11, 30)),
            ("vanthu.lienbao", "vao-so", at(7, 6, 9), "", 200, None),
            ("motcua.lienbao", "hand_over", at(7, 6, 10), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.lienbao", at(7, 6, 11)) == [
        ("xa-xac-nhan", LIENBAO, iso(6, 1, 9), iso(6, 8, 11, 30), iso(6, 5, 10), "early"),
        ("huyen", VINHYEN_LABOUR, iso(6, 5, 10), iso(6, 19, 11, 30), iso(6, 18, 16), "early"),
        ("so", DOLISA, iso(6, 18, 16), iso(6, 29, 17), iso(6, 29, 16), "on_time"),
        ("phe-duyet", DOLISA, iso(6, 29, 16), iso(7, 1, 17), iso(7, 2, 8), "late"),
        ("van-thu", LIENBAO, iso(7, 2, 8), iso(7, 7, 11, 30), iso(7, 6, 9), "early"),
        ("tra-ket-qua", LIENBAO, iso(7, 6, 9), None, iso(7, 6, 10), ""),
    ]
    dossier = Dossier.objects.get(code=code)
    # 54 sessions from Mon 01/06 09:00: k = 27 am; the 27th working day after 01/06 is Wed 08/07 → 11:30.
    assert (dossier.due_at, dossier.timeliness, dossier.status) == (at(7, 8, 11, 30), "early", "returned")


def test_criminal_record_at_the_provincial_service_centre(loaded):
    """10 working days = 20 sessions: Department of Justice 14 + its leader 4 + the centre's document clerk 2."""
    form = {
        "ho_ten": "Nguyễn Văn An",
        "so_dinh_danh": "026090001234",
        "ngay_sinh": "1990-05-01",
        "loai_phieu": "Phiếu số 1",
        "email": "an@example.vn",
    }
    code = receive("motcua.tinh", "2.001417", form, at(6, 1, 9))
    drive(
        code,
        [
            # 14 sessions from Mon 01/06 09:00 → k = 7 am → Wed 10/06 11:30; acts 10:00: on time.
            # Leader 4 sessions from 10/06 10:00: 10/06 pm, 11/06 am, pm, 12/06 am → Fri 12/06 11:30.
            ("chuyenvien.0000014h62", "trinh", at(6, 10, 10), "", 200, iso(6, 12, 11, 30)),
            # Signs Thu 11/06: early. Document clerk 2 sessions from 11/06 09:00: 11/06 pm, 12/06 am → 11:30.
            (demo.leader_email(JUSTICE).split("@")[0], "phe-duyet", at(6, 11, 9), "", 200, iso(6, 12, 11, 30)),
            ("vanthu.tinh", "vao-so", at(6, 12, 11), "", 200, None),
            ("motcua.tinh", "hand_over", at(6, 12, 14), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.tinh", at(6, 12, 15)) == [
        ("tra-cuu", JUSTICE, iso(6, 1, 9), iso(6, 10, 11, 30), iso(6, 10, 10), "on_time"),
        ("phe-duyet", JUSTICE, iso(6, 10, 10), iso(6, 12, 11, 30), iso(6, 11, 9), "early"),
        ("van-thu", SERVICE_CENTRE, iso(6, 11, 9), iso(6, 12, 11, 30), iso(6, 12, 11), "on_time"),
        ("tra-ket-qua", SERVICE_CENTRE, iso(6, 12, 11), None, iso(6, 12, 14), ""),
    ]
    dossier = Dossier.objects.get(code=code)
    # 20 sessions from Mon 01/06 09:00: k = 10 am → Mon 15/06 11:30.
    assert (dossier.due_at, dossier.timeliness) == (at(6, 15, 11, 30), "early")


def test_household_business_with_a_capital_condition(loaded):
    """3 working days = 6 sessions; 12 billion đồng of capital takes the capital check (a late step)."""
    form = {
        "ten_ho_kinh_doanh": "Tạp hóa An Bình",
        "dia_diem": "Số 10 Nguyễn Tất Thành, phường Liên Bảo",
        "nganh_nghe": "Bán lẻ hàng tạp hóa",
        "von_kinh_doanh": "12000000000",
        "so_dinh_danh_chu_ho": "026090001234",
    }
    code = receive("motcua.vinhyen", "1.001612", form, at(6, 1, 9))
    drive(
        code,
        [
            # Under 10 billion only: refused, nothing changes.
            ("chuyenvien.vinhyen", "trinh", at(6, 2, 10), "", 422, None),
            # Appraisal 3 sessions from Mon 09:00: Mon pm, Tue am, Tue pm → Tue 02/06 17:00; acts Tue 10:00: on time.
            # Capital check 1 session from Tue 10:00 → Tue pm → 17:00.
            ("chuyenvien.vinhyen", "kiem-tra", at(6, 2, 10), "", 200, iso(6, 2, 17)),
            # Acts Wed 08:00: late. Leader 1 session from Wed 08:00 → Wed pm → 17:00.
            ("chuyenvien.vinhyen", "trinh-sau-kiem-tra", at(6, 3, 8), "", 200, iso(6, 3, 17)),
            # Leader 15:00: on time. Document clerk 1 session from Wed 15:00 → Thu am → 11:30.
            ("lanhdao.vinhyen", "phe-duyet", at(6, 3, 15), "", 200, iso(6, 4, 11, 30)),
            ("vanthu.vinhyen", "vao-so", at(6, 4, 9), "", 200, None),
            ("motcua.vinhyen", "hand_over", at(6, 4, 10), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.vinhyen", at(6, 4, 11)) == [
        ("tham-dinh", VINHYEN_FINANCE, iso(6, 1, 9), iso(6, 2, 17), iso(6, 2, 10), "on_time"),
        ("kiem-tra-von", VINHYEN_FINANCE, iso(6, 2, 10), iso(6, 2, 17), iso(6, 3, 8), "late"),
        ("phe-duyet", VINHYEN, iso(6, 3, 8), iso(6, 3, 17), iso(6, 3, 15), "on_time"),
        ("van-thu", VINHYEN, iso(6, 3, 15), iso(6, 4, 11, 30), iso(6, 4, 9), "on_time"),
        ("tra-ket-qua", VINHYEN, iso(6, 4, 9), None, iso(6, 4, 10), ""),
    ]
    dossier = Dossier.objects.get(code=code)
    # 6 sessions from Mon 09:00: Mon pm, Tue ×2, Wed ×2, Thu am → Thu 04/06 11:30; ready 09:00: on time.
    assert (dossier.due_at, dossier.timeliness) == (at(6, 4, 11, 30), "on_time")


def test_copy_certification_same_day(loaded):
    form = {"ho_ten": "Nguyễn Văn An", "so_dinh_danh": "026090001234", "so_ban_sao": 3, "so_trang": 2}
    code = receive("motcua.lienbao", "2.000815", form, at(6, 1, 8))
    drive(
        code,
        [
            # 1 session from Mon 08:00 (am running) → Mon pm → 17:00, for the specialist and then the leader.
            ("chuyenvien.lienbao", "trinh", at(6, 1, 10), "", 200, iso(6, 1, 17)),
            ("lanhdao.lienbao", "phe-duyet", at(6, 1, 16), "", 200, None),  # the document clerk has 0 sessions
            ("vanthu.lienbao", "vao-so", at(6, 1, 16, 30), "", 200, None),
            ("motcua.lienbao", "hand_over", at(6, 1, 16, 45), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.lienbao", at(6, 1, 17)) == [
        ("tham-dinh", LIENBAO, iso(6, 1, 8), iso(6, 1, 17), iso(6, 1, 10), "on_time"),
        ("phe-duyet", LIENBAO, iso(6, 1, 10), iso(6, 1, 17), iso(6, 1, 16), "on_time"),
        ("van-thu", LIENBAO, iso(6, 1, 16), None, iso(6, 1, 16, 30), "on_time"),
        ("tra-ket-qua", LIENBAO, iso(6, 1, 16, 30), None, iso(6, 1, 16, 45), ""),
    ]
    dossier = Dossier.objects.get(code=code)
    # Same day, received before the 15:00 cut-off: due at the end of Monday.
    assert (dossier.due_at, dossier.timeliness) == (at(6, 1, 17), "on_time")


def test_signature_certification_returned_once_then_late(loaded):
    form = {"ho_ten": "Nguyễn Văn An", "so_dinh_danh": "026090001234", "ten_giay_to": "Giấy ủy quyền"}
    code = receive("motcua.lienbao", "2.000884", form, at(6, 1, 8))
    drive(
        code,
        [
            ("chuyenvien.lienbao", "trinh", at(6, 1, 10), "", 200, iso(6, 1, 17)),
            ("lanhdao.lienbao", "tra-lai", at(6, 1, 11), "", 422, None),  # a return needs its reason
            # Back to the specialist: 1 session from 11:00 → Mon pm → 17:00.
            ("lanhdao.lienbao", "tra-lai", at(6, 1, 11), "Thiếu chữ ký mẫu", 200, iso(6, 1, 17)),
            # The specialist acts Tue 08:00: late. Leader 1 session from Tue 08:00 → Tue pm → 17:00.
            ("chuyenvien.lienbao", "trinh", at(6, 2, 8), "", 200, iso(6, 2, 17)),
            ("lanhdao.lienbao", "phe-duyet", at(6, 2, 9), "", 200, None),
            ("vanthu.lienbao", "vao-so", at(6, 2, 9, 30), "", 200, None),
            ("motcua.lienbao", "hand_over", at(6, 2, 10), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.lienbao", at(6, 2, 11)) == [
        ("tham-dinh", LIENBAO, iso(6, 1, 8), iso(6, 1, 17), iso(6, 1, 10), "on_time"),
        ("phe-duyet", LIENBAO, iso(6, 1, 10), iso(6, 1, 17), iso(6, 1, 11), "on_time"),
        ("tham-dinh", LIENBAO, iso(6, 1, 11), iso(6, 1, 17), iso(6, 2, 8), "late"),
        ("phe-duyet", LIENBAO, iso(6, 2, 8), iso(6, 2, 17), iso(6, 2, 9), "on_time"),
        ("van-thu", LIENBAO, iso(6, 2, 9), None, iso(6, 2, 9, 30), "on_time"),
        ("tra-ket-qua", LIENBAO, iso(6, 2, 9, 30), None, iso(6, 2, 10), ""),
    ]
    returned = StepRun.objects.get(dossier__code=code, sequence=3)
    assert returned.assignee.email == "chuyenvien.lienbao@vinhphuc.gov.vn"  # back to who handled it
    dossier = Dossier.objects.get(code=code)
    assert (dossier.due_at, dossier.timeliness) == (at(6, 1, 17), "late")


def test_civil_status_extract_with_a_supplement_in_the_last_session(loaded):
    """Half a working day = 1 session; paused inside its only session, it is due at the resume moment."""
    form = {"ho_ten": "Nguyễn Văn An", "so_dinh_danh": "026090001234", "loai_trich_luc": "Khai sinh", "so_ban": 2}
    code = receive("motcua.lienbao", "2.000635", form, at(6, 1, 14))
    drive(
        code,
        [
            ("chuyenvien.lienbao", "bo-sung", at(6, 2, 8), "Thiếu giấy ủy quyền", 200, None),
            # Paused Tue 08:00 (am running) with the due at Tue 11:30: no whole session left → due on resume.
            ("motcua.lienbao", SUPPLEMENT, at(6, 3, 9), "", 200, None),
            ("chuyenvien.lienbao", "trinh", at(6, 3, 10), "", 200, None),  # the leader's budget is 0
            ("lanhdao.lienbao", "phe-duyet", at(6, 3, 10, 30), "", 200, None),
            ("vanthu.lienbao", "vao-so", at(6, 3, 10, 45), "", 200, None),
            ("motcua.lienbao", "hand_over", at(6, 3, 11), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.lienbao", at(6, 3, 12)) == [
        # 1 session from Mon 14:00 (pm running) → Tue am → 11:30, moved to the resume moment Wed 09:00.
        ("tham-dinh", LIENBAO, iso(6, 1, 14), iso(6, 3, 9), iso(6, 3, 10), "late"),
        ("phe-duyet", LIENBAO, iso(6, 3, 10), None, iso(6, 3, 10, 30), "on_time"),
        ("van-thu", LIENBAO, iso(6, 3, 10, 30), None, iso(6, 3, 10, 45), "on_time"),
        ("tra-ket-qua", LIENBAO, iso(6, 3, 10, 45), None, iso(6, 3, 11), ""),
    ]
    dossier = Dossier.objects.get(code=code)
    assert (dossier.due_at, dossier.timeliness) == (at(6, 3, 9), "late")


def test_birth_registration_immediate(loaded):
    form = {
        "ho_ten_tre": "Nguyễn Văn Bình",
        "ngay_sinh": "2026-05-20",
        "gioi_tinh": "Nam",
        "so_dinh_danh_me": "026190001234",
        "dien_thoai": "0912345678",
    }
    code = receive("motcua.lienbao", "1.001193", form, at(6, 1, 9))
    drive(
        code,
        [
            ("chuyenvien.lienbao", "trinh", at(6, 1, 9, 10), "", 200, None),
            ("lanhdao.lienbao", "phe-duyet", at(6, 1, 9, 20), "", 200, None),
            ("vanthu.lienbao", "vao-so", at(6, 1, 9, 25), "", 200, None),
            ("motcua.lienbao", "hand_over", at(6, 1, 9, 30), "", 200, None),
        ],
    )
    # Immediate: no budget, no due moment; every step is on time.
    assert sheet(code, "motcua.lienbao", at(6, 1, 10)) == [
        ("tham-dinh", LIENBAO, iso(6, 1, 9), None, iso(6, 1, 9, 10), "on_time"),
        ("phe-duyet", LIENBAO, iso(6, 1, 9, 10), None, iso(6, 1, 9, 20), "on_time"),
        ("van-thu", LIENBAO, iso(6, 1, 9, 20), None, iso(6, 1, 9, 25), "on_time"),
        ("tra-ket-qua", LIENBAO, iso(6, 1, 9, 25), None, iso(6, 1, 9, 30), ""),
    ]
    dossier = Dossier.objects.get(code=code)
    assert (dossier.due_at, dossier.status) == (None, "returned")


def test_marriage_registration_refused(loaded):
    form = {
        "ho_ten_chong": "Nguyễn Văn An",
        "so_dinh_danh_chong": "026090004321",
        "ho_ten_vo": "Trần Thị Bình",
        "so_dinh_danh_vo": "026190005678",
        "ngay_du_kien": "2026-06-20",
    }
    code = receive("motcua.lienbao", "1.000894", form, at(6, 1, 10))
    drive(
        code,
        [
            ("chuyenvien.lienbao", "trinh", at(6, 1, 10, 10), "", 200, None),
            ("lanhdao.lienbao", "tu-choi", at(6, 1, 10, 20), "", 422, None),  # a refusal needs its reason
            ("lanhdao.lienbao", "tu-choi", at(6, 1, 10, 20), "Chưa đủ tuổi kết hôn", 200, None),
            ("motcua.lienbao", "hand_over", at(6, 1, 10, 30), "", 200, None),
        ],
    )
    assert sheet(code, "motcua.lienbao", at(6, 1, 11)) == [
        ("tham-dinh", LIENBAO, iso(6, 1, 10), None, iso(6, 1, 10, 10), "on_time"),
        ("phe-duyet", LIENBAO, iso(6, 1, 10, 10), None, iso(6, 1, 10, 20), "on_time"),
        ("tu-choi", LIENBAO, iso(6, 1, 10, 20), None, iso(6, 1, 10, 30), ""),
    ]
    assert WorkflowRun.objects.get(dossier__code=code).outcome == "refusal"
    assert Dossier.objects.get(code=code).status == "returned"
