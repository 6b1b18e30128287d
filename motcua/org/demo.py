"""The demo province: Vĩnh Phúc in its 2020 four-level form, as the seed describes it.

Everything here is demonstration data. The province code H62 is an assumption
(shared/reference/domain.md §3.3 infers it from the alphabetical order of provinces), and the
lower code groups are invented in the QCVN 102:2016 shape. Loading twice changes nothing.
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from motcua.org import services
from motcua.org.models import AdministrativeLevel, AdministrativeUnit, Agency, Counter, Department, Role, User

DEMO_PASSWORD = "motcua-demo-2026"
DEMO_DOMAIN = "vinhphuc.gov.vn"
PROVINCE_NOTE = "Mã tỉnh H62 là giả định (chưa đối chiếu danh mục QCVN 102:2016)."

LEVELS = [
    ("national", "Trung ương", 0),
    ("province", "Cấp tỉnh", 1),
    ("district", "Cấp huyện", 2),
    ("commune", "Cấp xã", 3),
]


@dataclass(frozen=True)
class UnitSpec:
    key: str
    name: str
    level: str
    parent: str | None
    statistical_code: str = ""


UNITS = [
    UnitSpec("vn", "Việt Nam", "national", None),
    UnitSpec("tinh", "Tỉnh Vĩnh Phúc", "province", "vn", "26"),
    UnitSpec("vinhyen", "Thành phố Vĩnh Yên", "district", "tinh", "243"),
    UnitSpec("lienbao", "Phường Liên Bảo", "commune", "vinhyen", "08869"),
    UnitSpec("tichson", "Phường Tích Sơn", "commune", "vinhyen", "08866"),
    UnitSpec("binhxuyen", "Huyện Bình Xuyên", "district", "tinh", "249"),
    UnitSpec("huongcanh", "Thị trấn Hương Canh", "commune", "binhxuyen", "09007"),
    UnitSpec("tamhop", "Xã Tam Hợp", "commune", "binhxuyen", "09043"),
]

# (code, name, kind, unit key, parent agency code, also accountable to [unit keys])
AGENCIES = [
    ("000.00.00.H62", "Ủy ban nhân dân tỉnh Vĩnh Phúc", Agency.Kind.PEOPLES_COMMITTEE, "tinh", None, []),
    (
        "000.00.24.H62",
        "Trung tâm Phục vụ hành chính công tỉnh Vĩnh Phúc",
        Agency.Kind.SERVICE_CENTRE,
        "tinh",
        "000.00.00.H62",
        [],
    ),
    ("000.00.12.H62", "Sở Tài nguyên và Môi trường", Agency.Kind.DEPARTMENT, "tinh", "000.00.00.H62", []),
    ("000.01.12.H62", "Văn phòng Đăng ký đất đai tỉnh Vĩnh Phúc", Agency.Kind.DEPARTMENT, "tinh", "000.00.12.H62", []),
    ("000.00.13.H62", "Sở Lao động - Thương binh và Xã hội", Agency.Kind.DEPARTMENT, "tinh", "000.00.00.H62", []),
    ("000.00.14.H62", "Sở Tư pháp", Agency.Kind.DEPARTMENT, "tinh", "000.00.00.H62", []),
    ("000.00.31.H62", "Ủy ban nhân dân thành phố Vĩnh Yên", Agency.Kind.PEOPLES_COMMITTEE, "vinhyen", None, []),
    (
        "000.02.31.H62",
        "Phòng Tài chính - Kế hoạch thành phố Vĩnh Yên",
        Agency.Kind.DEPARTMENT,
        "vinhyen",
        "000.00.31.H62",
        [],
    ),
    (
        "000.03.31.H62",
        "Phòng Lao động - Thương binh và Xã hội thành phố Vĩnh Yên",
        Agency.Kind.DEPARTMENT,
        "vinhyen",
        "000.00.31.H62",
        [],
    ),
    ("000.04.31.H62", "Phòng Tư pháp thành phố Vĩnh Yên", Agency.Kind.DEPARTMENT, "vinhyen", "000.00.31.H62", []),
    (
        "001.01.12.H62",
        "Chi nhánh Văn phòng Đăng ký đất đai thành phố Vĩnh Yên",
        Agency.Kind.BRANCH,
        "vinhyen",
        "000.01.12.H62",
        ["vinhyen"],
    ),
    ("000.21.31.H62", "Ủy ban nhân dân phường Liên Bảo", Agency.Kind.PEOPLES_COMMITTEE, "lienbao", None, []),
    ("000.22.31.H62", "Ủy ban nhân dân phường Tích Sơn", Agency.Kind.PEOPLES_COMMITTEE, "tichson", None, []),
    ("000.00.32.H62", "Ủy ban nhân dân huyện Bình Xuyên", Agency.Kind.PEOPLES_COMMITTEE, "binhxuyen", None, []),
    (
        "000.02.32.H62",
        "Phòng Tài chính - Kế hoạch huyện Bình Xuyên",
        Agency.Kind.DEPARTMENT,
        "binhxuyen",
        "000.00.32.H62",
        [],
    ),
    (
        "000.03.32.H62",
        "Phòng Lao động - Thương binh và Xã hội huyện Bình Xuyên",
        Agency.Kind.DEPARTMENT,
        "binhxuyen",
        "000.00.32.H62",
        [],
    ),
    ("000.04.32.H62", "Phòng Tư pháp huyện Bình Xuyên", Agency.Kind.DEPARTMENT, "binhxuyen", "000.00.32.H62", []),
    (
        "002.01.12.H62",
        "Chi nhánh Văn phòng Đăng ký đất đai huyện Bình Xuyên",
        Agency.Kind.BRANCH,
        "binhxuyen",
        "000.01.12.H62",
        ["binhxuyen"],
    ),
    ("000.21.32.H62", "Ủy ban nhân dân thị trấn Hương Canh", Agency.Kind.PEOPLES_COMMITTEE, "huongcanh", None, []),
    ("000.22.32.H62", "Ủy ban nhân dân xã Tam Hợp", Agency.Kind.PEOPLES_COMMITTEE, "tamhop", None, []),
]

# Where each unit's one-stop counters are, and which agency its other staff work for.
ONE_STOP = {
    "tinh": "000.00.24.H62",
    "vinhyen": "000.00.31.H62",
    "binhxuyen": "000.00.32.H62",
    "lienbao": "000.21.31.H62",
    "tichson": "000.22.31.H62",
    "huongcanh": "000.21.32.H62",
    "tamhop": "000.22.32.H62",
}
SPECIALIST_AGENCY = {"tinh": "000.01.12.H62", "vinhyen": "000.02.31.H62", "binhxuyen": "000.02.32.H62"}
LEADER_AGENCY = {"tinh": "000.00.12.H62"}

UNIT_ROLES = [Role.UNIT_ADMIN, Role.CLERK, Role.SPECIALIST, Role.LEADER, Role.DOCUMENT_CLERK, Role.MONITOR]
ROLE_SLUG = {
    Role.UNIT_ADMIN: "quantri",
    Role.CLERK: "motcua",
    Role.SPECIALIST: "chuyenvien",
    Role.LEADER: "lanhdao",
    Role.DOCUMENT_CLERK: "vanthu",
    Role.MONITOR: "giamsat",
}
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
GIVEN = [
    "Văn An",
    "Thị Bình",
    "Đức Cường",
    "Thị Dung",
    "Minh Đức",
    "Thu Hà",
    "Quang Huy",
    "Thị Lan",
    "Hữu Nghĩa",
    "Thị Phương",
    "Công Sơn",
    "Thị Thảo",
    "Văn Tùng",
    "Thị Vân",
    "Ngọc Ánh",
    "Đình Khải",
]


def _name(index: int) -> str:
    return f"{FAMILY[index % len(FAMILY)]} {GIVEN[(index * 7) % len(GIVEN)]}"


def demo_email(role: str, unit_key: str) -> str:
    return f"{ROLE_SLUG[role]}.{unit_key}@{DEMO_DOMAIN}"


def _user(email: str, full_name: str, roles: list[str], password_hash: str, **place) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        # One hash for all demo accounts: hashing 50 passwords one by one takes half a minute.
        user = User(email=email, password=password_hash, password_changed_at=timezone.now())
    user.full_name = full_name
    for field, value in place.items():
        setattr(user, field, value)
    services.save_user(user, roles=roles)
    return user


@transaction.atomic
def load() -> dict[str, AdministrativeUnit]:
    """Create or refresh the demo organisation; returns the units by key."""
    levels = {}
    for code, name, rank in LEVELS:
        levels[code], _ = AdministrativeLevel.objects.update_or_create(code=code, defaults={"name": name, "rank": rank})

    units: dict[str, AdministrativeUnit] = {}
    for spec in UNITS:
        parent = units.get(spec.parent) if spec.parent else None
        unit = AdministrativeUnit.objects.filter(name=spec.name, parent=parent).first() or AdministrativeUnit()
        unit.name, unit.level, unit.parent, unit.statistical_code = (
            spec.name,
            levels[spec.level],
            parent,
            spec.statistical_code,
        )
        units[spec.key] = services.save_unit(unit)

    agencies: dict[str, Agency] = {}
    for code, name, kind, unit_key, parent_code, supervisors in AGENCIES:
        agency = Agency.objects.filter(code=code).first() or Agency(code=code)
        agency.name, agency.kind, agency.unit = name, kind, units[unit_key]
        agency.parent = agencies.get(parent_code) if parent_code else None
        if code == "000.00.24.H62":
            agency.address = "Số 38 đường Nguyễn Tất Thành, phường Liên Bảo, thành phố Vĩnh Yên"
        agencies[code] = services.save_agency(agency, supervising_units=[units[k] for k in supervisors])

    for code in ONE_STOP.values():
        agency = agencies[code]
        Department.objects.update_or_create(agency=agency, code="mot-cua", defaults={"name": "Bộ phận Một cửa"})
        for number in (1, 2):
            Counter.objects.update_or_create(agency=agency, number=number, defaults={"name": f"Quầy số {number}"})

    password_hash = make_password(DEMO_PASSWORD)
    _user(
        f"admin@{DEMO_DOMAIN}",
        "Quản trị hệ thống",
        [Role.SYSTEM_ADMIN],
        password_hash,
        is_superuser=True,
        unit=units["tinh"],
        agency=agencies["000.00.00.H62"],
    )
    index = 0
    for unit_key, one_stop_code in ONE_STOP.items():
        for role in UNIT_ROLES:
            if role == Role.SPECIALIST:
                agency = agencies[SPECIALIST_AGENCY.get(unit_key, one_stop_code)]
            elif role == Role.LEADER:
                agency = agencies[LEADER_AGENCY.get(unit_key, one_stop_code)]
            else:
                agency = agencies[one_stop_code]
            department = agency.departments.filter(code="mot-cua").first() if role == Role.CLERK else None
            _user(
                demo_email(role, unit_key),
                _name(index),
                [role],
                password_hash,
                unit=units[unit_key],
                agency=agency,
                department=department,
            )
            index += 1
    for code, unit_key in [
        ("001.01.12.H62", "vinhyen"),
        ("002.01.12.H62", "binhxuyen"),
        ("000.03.31.H62", "vinhyen"),
        ("000.03.32.H62", "binhxuyen"),
        ("000.00.13.H62", "tinh"),
        ("000.00.14.H62", "tinh"),
    ]:
        slug = code.replace(".", "").lower()
        _user(
            f"chuyenvien.{slug}@{DEMO_DOMAIN}",
            _name(index),
            [Role.SPECIALIST],
            password_hash,
            unit=units[unit_key],
            agency=agencies[code],
        )
        index += 1
    for email, name in DEMO_CITIZENS:
        _user(email, name, [Role.CITIZEN], password_hash)
    return units


#: The demo citizens (e-mail, name); motcua.portal.demo marks their addresses verified.
DEMO_CITIZENS = [("nguyenvanan@example.vn", "Nguyễn Văn An"), ("tranthibinh@example.vn", "Trần Thị Bình")]


def accounts_summary() -> list[tuple[str, str]]:
    """(e-mail, description) of the accounts worth trying first, for `make run` to print."""
    return [
        (f"admin@{DEMO_DOMAIN}", "Quản trị hệ thống (toàn tỉnh)"),
        (demo_email(Role.UNIT_ADMIN, "vinhyen"), "Quản trị đơn vị – TP Vĩnh Yên"),
        (demo_email(Role.CLERK, "tinh"), "Một cửa – Trung tâm PVHCC tỉnh"),
        (demo_email(Role.CLERK, "lienbao"), "Một cửa – Phường Liên Bảo"),
        (demo_email(Role.SPECIALIST, "vinhyen"), "Chuyên viên – Phòng TC-KH Vĩnh Yên"),
        (demo_email(Role.LEADER, "vinhyen"), "Lãnh đạo – UBND TP Vĩnh Yên"),
        (demo_email(Role.MONITOR, "tinh"), "Giám sát – toàn tỉnh"),
        ("nguyenvanan@example.vn", "Công dân"),
    ]
