"""Demo workflows: one province-wide electronic process for each of the nine demo procedures.

Demonstration data for ``motcua.catalog.demo`` (load the organisation and the catalogue first).
The shape follows the usual process control sheet: reception at the one-stop desk (the first
step opens when the dossier is received) → the specialist's appraisal → the leader's approval
(with a signature) → the document clerk's stamping and registration → hand-over at the desk,
with a refusal path (the leader rejects) and, where the law allows it, a supplement request.

Budgets are working sessions (half-days) and add up to the procedure's time, e.g. the land
procedure's 30 days = 60 sessions: commune 10 + district land branch 30 + provincial office 12 +
Department leader 4 + commune document clerk 4. The people-with-merit one (27 days = 54):
commune 10 + district labour office 20 + provincial Department 14 + its leader 4 + the commune's
document clerk 6, who gets the decision back so the commune's desk hands it over.

The demo organisation has no leader account at the provincial Departments of Justice and of
Labour, so ``load`` adds one to each (``lanhdao.<agency code without dots>@vinhphuc.gov.vn``,
the demo password). Loading twice changes nothing: a workflow whose rows already equal the
definition keeps its revision.
"""

from django.contrib.auth.hashers import make_password
from django.db import transaction

from motcua.catalog.models import Procedure, ProcedureVersion
from motcua.org import demo as org_demo
from motcua.org.models import Agency, Role
from motcua.workflow import definitions, graph, services
from motcua.workflow.models import Workflow

LAND_OFFICE = "000.01.12.H62"
DONRE = "000.00.12.H62"
DOLISA = "000.00.13.H62"
JUSTICE = "000.00.14.H62"
#: Leaders the organisation demo lacks: (agency code, unit key).
EXTRA_LEADERS = [(DOLISA, "tinh"), (JUSTICE, "tinh")]


def leader_email(agency_code: str) -> str:
    return f"lanhdao.{agency_code.replace('.', '').lower()}@{org_demo.DEMO_DOMAIN}"


def _step(key: str, name: str, budget: int = 0, *, role: str, holder: str = "receiving", **extra) -> dict:
    return {
        "key": key,
        "name": name,
        "kind": "task",
        "budget_sessions": budget,
        "holder": holder,
        "role": role,
        **extra,
    }


def _end(key: str, name: str, kind: str) -> dict:
    return {
        "key": key,
        "name": name,
        "kind": kind,
        "budget_sessions": 0,
        "holder": "receiving",
        "role": Role.CLERK,
        "department": "mot-cua",
    }


def _move(key: str, source: str, target: str, action: str, label: str, role: str, **extra) -> dict:
    return {"key": key, "from": source, "to": target, "action": action, "label": label, "role": role, **extra}


def _submit(key: str, source: str, label: str, **extra) -> dict:
    """The specialist's "Trình lãnh đạo…": the draft must be attached, so that the leader always has
    the result to sign with "Phê duyệt, ký" (which signs the newest draft or result of the run)."""
    return _move(key, source, "phe-duyet", "forward", label, Role.SPECIALIST, requires_attachment=True, **extra)


def _closing(leader_step: str, clerk_step: str, back_to: str) -> list[dict]:
    """The transitions every demo process ends with: approve → stamp → desk; reject → refusal."""
    return [
        _move("phe-duyet", leader_step, clerk_step, "approve", "Phê duyệt, ký", Role.LEADER, requires_signature=True),
        _move("tra-lai", leader_step, back_to, "return", "Trả lại chuyên viên", Role.LEADER),
        _move("tu-choi", leader_step, "tu-choi", "reject", "Từ chối giải quyết", Role.LEADER),
        _move("vao-so", clerk_step, "tra-ket-qua", "forward", "Vào sổ, đóng dấu, chuyển Một cửa", Role.DOCUMENT_CLERK),
    ]


def _local(name: str, specialist: int, leader: int, clerk: int, supplement: bool = True) -> dict:
    """A procedure resolved by the agency that receives it (commune civil status, certification)."""
    transitions = [
        _submit("trinh", "tham-dinh", "Trình lãnh đạo"),
        *_closing("phe-duyet", "van-thu", "tham-dinh"),
    ]
    if supplement:
        transitions.append(_move("bo-sung", "tham-dinh", "", "request_supplement", "Yêu cầu bổ sung", Role.SPECIALIST))
    return {
        "name": name,
        "steps": [
            _step(
                "tham-dinh",
                "Công chức Tư pháp - Hộ tịch kiểm tra",
                specialist,
                role=Role.SPECIALIST,
                holder="competent",
            ),
            _step("phe-duyet", "Lãnh đạo UBND phê duyệt, ký", leader, role=Role.LEADER),
            _step("van-thu", "Văn thư vào sổ, đóng dấu", clerk, role=Role.DOCUMENT_CLERK),
            _end("tra-ket-qua", "Trả kết quả tại Bộ phận Một cửa", "result"),
            _end("tu-choi", "Trả văn bản từ chối", "refusal"),
        ],
        "transitions": transitions,
    }


def _household_business() -> dict:
    """District finance office appraises; capital of 10 billion đồng or more is checked twice."""
    return {
        "name": "Đăng ký hộ kinh doanh – Phòng Tài chính - Kế hoạch cấp huyện",
        "steps": [
            _step("tham-dinh", "Chuyên viên Phòng TC-KH thẩm định", 3, role=Role.SPECIALIST, holder="competent"),
            _step("kiem-tra-von", "Chuyên viên kiểm tra vốn kinh doanh", 1, role=Role.SPECIALIST, holder="competent"),
            _step("phe-duyet", "Lãnh đạo phê duyệt, ký Giấy chứng nhận", 1, role=Role.LEADER),
            _step("van-thu", "Văn thư vào sổ, đóng dấu", 1, role=Role.DOCUMENT_CLERK),
            _end("tra-ket-qua", "Trả kết quả tại Bộ phận Một cửa", "result"),
            _end("tu-choi", "Trả văn bản từ chối", "refusal"),
        ],
        "transitions": [
            _submit(
                "trinh",
                "tham-dinh",
                "Trình lãnh đạo",
                condition="form.von_kinh_doanh < 10000000000",
            ),
            _move(
                "kiem-tra",
                "tham-dinh",
                "kiem-tra-von",
                "forward",
                "Chuyển kiểm tra vốn (từ 10 tỷ đồng)",
                Role.SPECIALIST,
                condition="form.von_kinh_doanh >= 10000000000",
            ),
            _submit("trinh-sau-kiem-tra", "kiem-tra-von", "Trình lãnh đạo"),
            _move("bo-sung", "tham-dinh", "", "request_supplement", "Yêu cầu bổ sung", Role.SPECIALIST),
            *_closing("phe-duyet", "van-thu", "tham-dinh"),
        ],
    }


def _land() -> dict:
    """Commune → district land branch → provincial land office → Department leader → commune."""
    return {
        "name": "Cấp GCN quyền sử dụng đất lần đầu – liên thông xã, huyện, tỉnh",
        "steps": [
            _step("xa-xac-nhan", "UBND xã kiểm tra, xác nhận hiện trạng, niêm yết", 10, role=Role.SPECIALIST),
            _step(
                "chi-nhanh",
                "Chi nhánh VPĐKĐĐ thẩm định, đo đạc",
                30,
                role=Role.SPECIALIST,
                holder="level",
                level="district",
                agency=LAND_OFFICE,
            ),
            _step(
                "van-phong",
                "VPĐKĐĐ tỉnh kiểm tra, in Giấy chứng nhận",
                12,
                role=Role.SPECIALIST,
                holder="fixed",
                agency=LAND_OFFICE,
            ),
            _step(
                "phe-duyet", "Lãnh đạo Sở TN&MT ký Giấy chứng nhận", 4, role=Role.LEADER, holder="fixed", agency=DONRE
            ),
            _step("van-thu", "Văn thư UBND xã vào sổ, chuyển Một cửa", 4, role=Role.DOCUMENT_CLERK),
            _end("tra-ket-qua", "Trả Giấy chứng nhận tại Bộ phận Một cửa xã", "result"),
            _end("tu-choi", "Trả văn bản từ chối", "refusal"),
        ],
        "transitions": [
            _move("len-huyen", "xa-xac-nhan", "chi-nhanh", "transfer", "Chuyển Chi nhánh VPĐKĐĐ", Role.SPECIALIST),
            _move("bo-sung-xa", "xa-xac-nhan", "", "request_supplement", "Yêu cầu bổ sung", Role.SPECIALIST),
            _move(
                "len-tinh",
                "chi-nhanh",
                "van-phong",
                "transfer",
                "Chuyển VPĐKĐĐ tỉnh (trên 300 m²)",
                Role.SPECIALIST,
                condition="form.dien_tich > 300",
            ),
            _submit(
                "trinh-so",
                "chi-nhanh",
                "Trình lãnh đạo Sở (đến 300 m²)",
                condition="form.dien_tich <= 300",
            ),
            _move("tra-xa", "chi-nhanh", "xa-xac-nhan", "return", "Trả lại UBND xã", Role.SPECIALIST),
            _move("bo-sung", "chi-nhanh", "", "request_supplement", "Yêu cầu bổ sung", Role.SPECIALIST),
            _submit("trinh-ld", "van-phong", "Trình lãnh đạo Sở"),
            *_closing("phe-duyet", "van-thu", "chi-nhanh"),
        ],
    }


def _merit() -> dict:
    """Commune → district labour office → provincial Department → the commune hands the decision over."""
    return {
        "name": "Trợ cấp thờ cúng liệt sĩ – liên thông xã, huyện, tỉnh",
        "steps": [
            _step("xa-xac-nhan", "UBND xã xác nhận, lập danh sách", 10, role=Role.SPECIALIST),
            _step(
                "huyen", "Phòng LĐ-TB&XH huyện thẩm định", 20, role=Role.SPECIALIST, holder="level", level="district"
            ),
            _step(
                "so",
                "Sở LĐ-TB&XH thẩm định, dự thảo quyết định",
                14,
                role=Role.SPECIALIST,
                holder="fixed",
                agency=DOLISA,
            ),
            _step(
                "phe-duyet", "Lãnh đạo Sở LĐ-TB&XH ký quyết định", 4, role=Role.LEADER, holder="fixed", agency=DOLISA
            ),
            _step("van-thu", "Văn thư UBND xã nhận quyết định, vào sổ", 6, role=Role.DOCUMENT_CLERK),
            _end("tra-ket-qua", "Trả quyết định tại Bộ phận Một cửa xã", "result"),
            _end("tu-choi", "Trả văn bản từ chối", "refusal"),
        ],
        "transitions": [
            _move("len-huyen", "xa-xac-nhan", "huyen", "transfer", "Chuyển Phòng LĐ-TB&XH", Role.SPECIALIST),
            _move("len-tinh", "huyen", "so", "transfer", "Chuyển Sở LĐ-TB&XH", Role.SPECIALIST),
            _move("tra-xa", "huyen", "xa-xac-nhan", "return", "Trả lại UBND xã", Role.SPECIALIST),
            _move("bo-sung", "huyen", "", "request_supplement", "Yêu cầu bổ sung", Role.SPECIALIST),
            _submit("trinh", "so", "Trình lãnh đạo Sở"),
            *_closing("phe-duyet", "van-thu", "so"),
        ],
    }


def _criminal_record() -> dict:
    """The provincial service centre receives; the Department of Justice checks and issues."""
    return {
        "name": "Cấp Phiếu lý lịch tư pháp – Sở Tư pháp",
        "steps": [
            _step("tra-cuu", "Sở Tư pháp tra cứu, xác minh", 14, role=Role.SPECIALIST, holder="fixed", agency=JUSTICE),
            _step("phe-duyet", "Lãnh đạo Sở Tư pháp ký Phiếu", 4, role=Role.LEADER, holder="fixed", agency=JUSTICE),
            _step("van-thu", "Văn thư Trung tâm vào sổ, chuyển Một cửa", 2, role=Role.DOCUMENT_CLERK),
            _end("tra-ket-qua", "Trả Phiếu tại Trung tâm Phục vụ hành chính công", "result"),
            _end("tu-choi", "Trả văn bản từ chối", "refusal"),
        ],
        "transitions": [
            _submit("trinh", "tra-cuu", "Trình lãnh đạo Sở"),
            _move("bo-sung", "tra-cuu", "", "request_supplement", "Yêu cầu bổ sung", Role.SPECIALIST),
            *_closing("phe-duyet", "van-thu", "tra-cuu"),
        ],
    }


def workflows() -> dict[str, dict]:
    """The definition (JSON) of each demo procedure's workflow, by procedure code."""
    found = {
        # Immediate procedures: 0 sessions for every step (the whole thing happens while the applicant waits).
        "1.001193": _local("Đăng ký khai sinh – UBND cấp xã", 0, 0, 0, supplement=False),
        "1.000894": _local("Đăng ký kết hôn – UBND cấp xã", 0, 0, 0, supplement=False),
        # Same day: 2 sessions = specialist 1 + leader 1.
        "2.000815": _local("Chứng thực bản sao từ bản chính", 1, 1, 0),
        "2.000884": _local("Chứng thực chữ ký", 1, 1, 0),
        # Half a working day: 1 session, all the specialist's.
        "2.000635": _local("Cấp bản sao trích lục hộ tịch", 1, 0, 0),
        # 3 days = 6 sessions: appraisal 3 + capital check 1 + leader 1 + document clerk 1.
        "1.001612": _household_business(),
        "1.004227": _land(),
        "1.010820": _merit(),
        # 10 days = 20 sessions: Department of Justice 14 + its leader 4 + the centre's document clerk 2.
        "2.001417": _criminal_record(),
    }
    return {
        code: {"format": graph.FORMAT, "format_version": graph.FORMAT_VERSION, **data} for code, data in found.items()
    }


def _extra_leaders() -> None:
    # The organisation demo's helper; its hash only when an account is new (hashing is slow).
    password_hash = make_password(org_demo.DEMO_PASSWORD)
    for index, (code, _unit_key) in enumerate(EXTRA_LEADERS):
        agency = Agency.objects.select_related("unit").filter(code=code).first()
        if agency is None:
            continue
        org_demo._user(
            leader_email(code),
            org_demo._name(60 + index),
            [Role.LEADER],
            password_hash,
            unit=agency.unit,
            agency=agency,
        )


def _same(workflow: Workflow, data: dict) -> bool:
    current, _problems = graph.parse(definitions.data_from_rows(workflow))
    wanted, _problems = graph.parse(data)
    return current is not None and wanted is not None and graph.to_data(current) == graph.to_data(wanted)


@transaction.atomic
def load() -> list[Workflow]:
    """Create (or bring up to date) the province-wide workflow of each demo procedure's current version."""
    _extra_leaders()
    loaded = []
    for code, data in workflows().items():
        procedure = Procedure.objects.select_related("current_version").filter(code=code).first()
        version: ProcedureVersion | None = procedure.current_version if procedure else None
        if version is None:
            continue
        existing = Workflow.objects.filter(procedure_version=version, unit=None).first()
        if existing is not None and existing.revision > 0 and _same(existing, data):
            loaded.append(existing)
            continue
        loaded.append(services.replace_definition(version, None, data))
    return loaded
