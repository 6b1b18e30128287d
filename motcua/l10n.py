"""Compiling the gettext catalogues (.po → .mo) with polib, without GNU gettext.

The .mo files are build output and are not committed; ``make`` compiles them, and the test
suite compiles stale ones itself so that a plain ``pytest`` checks the Vietnamese texts too.
"""

from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def catalogues(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in root.glob("**/locale/*/LC_MESSAGES/*.po") if ".venv" not in p.parts)


def compile_catalogues(root: Path = ROOT, only_stale: bool = False) -> int:
    """Compile every catalogue under ``root``; returns how many were written."""
    written = 0
    for po in catalogues(root):
        mo = po.with_suffix(".mo")
        if only_stale and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        polib.pofile(str(po)).save_as_mofile(str(mo))
        written += 1
    return written
