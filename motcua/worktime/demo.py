"""Demo calendar of the province: office hours and a few administrator exceptions for 2026–2027.

Demonstration data, marked as such in every reason: the real swaps are announced each year by
the Ministry of Home Affairs and must be entered from the notice. The holidays package (0.109)
already lists Tết 2027 (4–10 Feb) and the 2026 National Day swap (31 Aug off, Saturday 22 Aug
worked), so the exceptions below only add what it cannot know. Loading twice changes nothing.
"""

from datetime import date

from django.db import transaction

from motcua.org.models import AdministrativeUnit
from motcua.worktime import selectors, services
from motcua.worktime.models import CalendarException

DAY_OFF = CalendarException.Kind.DAY_OFF
WORKING_DAY = CalendarException.Kind.WORKING_DAY

EXCEPTIONS = [
    (date(2026, 1, 2), DAY_OFF, "Nghỉ hoán đổi sau Tết Dương lịch 2026, làm bù thứ Bảy 10/01/2026 (dữ liệu mẫu)."),
    (date(2026, 1, 10), WORKING_DAY, "Làm việc bù cho ngày nghỉ 02/01/2026 (dữ liệu mẫu)."),
    (date(2027, 1, 30), WORKING_DAY, "Làm việc bù cho ngày nghỉ 11/02/2027 dịp Tết Đinh Mùi (dữ liệu mẫu)."),
    (date(2027, 2, 11), DAY_OFF, "Nghỉ hoán đổi dịp Tết Nguyên Đán Đinh Mùi 2027 (dữ liệu mẫu)."),
    (date(2027, 2, 12), DAY_OFF, "Nghỉ hoán đổi dịp Tết Nguyên Đán Đinh Mùi 2027 (dữ liệu mẫu)."),
    (date(2027, 2, 20), WORKING_DAY, "Làm việc bù cho ngày nghỉ 12/02/2027 dịp Tết Đinh Mùi (dữ liệu mẫu)."),
]


@transaction.atomic
def load(province: AdministrativeUnit) -> None:
    """Give ``province`` the default office hours and the demo exceptions (idempotent)."""
    defaults = selectors.default_calendar()  # settings.MOTCUA_WORKTIME
    services.set_schedule(
        unit=province,
        sessions=defaults.sessions,
        weekdays=defaults.working_weekdays,
        same_day_cutoff=defaults.same_day_cutoff,
    )
    for day, kind, reason in EXCEPTIONS:
        services.upsert_exception(province, day, kind, reason)
    selectors.clear_cache()
