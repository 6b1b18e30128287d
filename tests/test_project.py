"""Project-wide checks: production settings, the entry points and the text helpers."""

import subprocess
import sys
from pathlib import Path

import pytest

from motcua.text import fold, normalize
from tests.test_deploy_secrets import production_env

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_reports_nothing_under_production_settings(tmp_path):
    env = production_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_entry_points(client):
    assert client.get("/").status_code == 200  # the citizen portal
    assert client.get("/staff/").status_code == 302
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Một cửa API"


def test_normalize_composes_and_trims():
    decomposed = "Nguye\u0302\u0303n  Va\u0306n   An "
    assert normalize(decomposed) == "Nguyễn Văn An"


def test_fold_ignores_diacritics_case_and_d_stroke():
    assert fold("Đăng ký KHAI SINH") == "dang ky khai sinh"
    assert fold("Nguyễn Văn Đức") == fold("nguyen van duc")


@pytest.mark.django_db
def test_api_writes_vietnamese_letters_and_local_time(client, demo_org):
    response = client.get("/api/v1/worktime/due?agency=000.21.31.H62&start=2026-11-30T02:00:00Z&days=1")
    assert response.status_code == 200
    assert response.json()["start"] == "2026-11-30T09:00:00+07:00"
    response = client.get("/api/v1/worktime/due?agency=000.99.31.H62&start=2026-11-30T09:00&days=1")
    assert response.status_code == 404
    assert "cơ quan" in response.content.decode()  # raw UTF-8, not \u escapes
