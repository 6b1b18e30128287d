"""Builders shared by the catalogue and API tests: the demo organisation without its users, and procedures."""

from types import SimpleNamespace

from motcua.catalog import services
from motcua.catalog.models import Field, ProcedureVersion
from motcua.org.demo import AGENCIES, LEVELS, UNITS
from motcua.org.models import AdministrativeLevel, AdministrativeUnit, Agency

COMMUNE = "000.21.31.H62"
DISTRICT_FINANCE = "000.02.31.H62"
PROVINCE_CENTRE = "000.00.24.H62"


def build_org() -> SimpleNamespace:
    """Levels, units and every agency of the demo province, created directly (no users: fast)."""
    levels = {code: AdministrativeLevel.objects.create(code=code, name=name, rank=rank) for code, name, rank in LEVELS}
    units: dict[str, AdministrativeUnit] = {}
    for spec in UNITS:
        parent = units.get(spec.parent) if spec.parent else None
        unit = AdministrativeUnit.objects.create(level=levels[spec.level], parent=parent, name=spec.name)
        unit.path = (parent.path if parent else "/") + f"{unit.pk}/"
        unit.save(update_fields=["path"])
        units[spec.key] = unit
    agencies: dict[str, Agency] = {}
    for code, name, kind, unit_key, parent_code, _supervisors in AGENCIES:
        agencies[code] = Agency.objects.create(
            code=code, name=name, kind=kind, unit=units[unit_key], parent=agencies.get(parent_code)
        )
    return SimpleNamespace(levels=levels, units=units, agencies=agencies)


def content(**overrides) -> dict:
    """Valid content of a commune procedure; override any part."""
    Field.objects.get_or_create(code="HO_TICH", defaults={"name": "Hộ tịch"})
    data = {
        "name": "Đăng ký khai sinh",
        "field": "HO_TICH",
        "levels": ["commune"],
        "agencies": [COMMUNE],
        "legal_basis": "Luật Hộ tịch số 60/2014/QH13;\nNghị định số 123/2015/NĐ-CP.",
        "time_kind": "immediate",
        "resolution_days": 0,
        "result_type": "Giấy khai sinh",
        "online_level": "full",
        "components": [
            {"name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0},
            {"name": "Giấy chứng sinh", "originals": 1, "copies": 0},
        ],
        "fees": [{"name": "Lệ phí đăng ký khai sinh", "kind": "charge", "amount": 0, "exemption_note": "Miễn"}],
        "form_fields": [
            {"name": "ho_ten", "label": "Họ và tên", "type": "text"},
            {"name": "gioi_tinh", "label": "Giới tính", "type": "choice", "choices": ["Nam", "Nữ"]},
        ],
    }
    data.update(overrides)
    return data


def make_procedure(code: str = "1.001193", publish: bool = True, **overrides) -> ProcedureVersion:
    return services.create_procedure(code, publish=publish, **content(**overrides))
