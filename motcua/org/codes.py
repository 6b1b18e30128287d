"""Electronic identification codes of agencies (QCVN 102:2016/BTTTT), without Django.

Shape ``LLL.LL.LL.XNN``: the right-most group names the level-1 body (``Hnn`` a province,
``Gnn`` a ministry), the groups to its left the units of levels 2, 3 and 4, zeros when
unused. Real codes put letters in the inner groups too (``000.A0.01.H26``).
See shared/reference/domain.md §3.3.
"""

import re

AGENCY_CODE_RE = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}$")


def is_agency_code(value: str) -> bool:
    return bool(AGENCY_CODE_RE.match(value))


def province_part(code: str) -> str:
    """The level-1 group of an agency code: ``000.00.24.H62`` → ``H62``."""
    return code.rsplit(".", 1)[-1]
