"""A dossier code format whose codes no URL can carry is refused at start-up, with a clear message.

With ``{agency}/{date:%Y%m%d}/{number:06d}`` the dossier page and API answered 404, the search 500
and the counter 500 after saving (the code was issued, then no URL could name it).
"""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from motcua.dossiers import checks, codes

ROOT = Path(__file__).resolve().parents[2]
SLASHES = "{agency}/{date:%Y%m%d}/{number:06d}"


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        (SLASHES, "part of web addresses"),
        ("{agency} {date:%y%m%d}-{number}", "part of web addresses"),
        ("{agency}-{date:%y%m%d}", "{number}"),
        ("{agency}-{date:%y%m%d}-{number:04d}-{x}", "Unusable field"),
        ("{agency}-{date:%y%m%d}-{number:04d}" + "-" * 40, "longer than 50"),
        ("", "non-empty"),
    ],
)
def test_a_bad_format_is_refused_with_the_reason(settings, fmt, words):
    settings.MOTCUA_DOSSIER_CODE_FORMAT = fmt
    errors = checks.code_format_check()
    assert errors and all(e.id == "dossiers.E001" for e in errors)
    assert any(words in e.msg for e in errors), [e.msg for e in errors]
    with pytest.raises(ImproperlyConfigured, match="MOTCUA_DOSSIER_CODE_FORMAT"):
        checks.refuse_a_bad_code_format()


@pytest.mark.parametrize(
    "fmt", [codes.DEFAULT_FORMAT, "{agency}-{date:%Y%m%d}-{number:06d}", "{agency}_{date:%Y%m%d}_{number:06d}"]
)
def test_good_formats_pass(settings, fmt):
    settings.MOTCUA_DOSSIER_CODE_FORMAT = fmt
    assert checks.code_format_check() == []
    checks.refuse_a_bad_code_format()


def test_no_code_with_such_characters_is_ever_issued():
    with pytest.raises(ValueError, match="characters other than"):
        codes.format_code("000.21.31.H62", date(2026, 11, 30), 1, SLASHES)


def test_the_server_does_not_start_with_it():
    env = {**os.environ, "MOTCUA_DOSSIER_CODE_FORMAT": SLASHES, "DJANGO_SETTINGS_MODULE": "motcua.settings"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "part of web addresses" in done.stderr
