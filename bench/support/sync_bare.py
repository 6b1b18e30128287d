"""The simulator's own capacity, measured with a bare HTTP client (bench/sync.py's baseline).

One ``requests.Session`` sends what the sender sends for the same events — per batch one
``DongBoHoSoMC`` (creation in the first round, updates after) and one ``CapNhatTienDoHoSoMC`` —
with payloads of the same shape, built once before the clock starts: no database, no mapping,
no bookkeeping. Items per second here is the ceiling the sender is compared with.
"""

import json
import time
from datetime import datetime, timedelta
from decimal import Decimal

import requests

from motcua.integrations.national import mapping

VN = mapping.VN_TZ


def _items(dossiers: int, rounds: int, key_prefix: str) -> list[list[tuple[dict, dict]]]:
    start = datetime(2026, 11, 30, 9, 0, tzinfo=VN)
    statuses = ["2", "4", "5", "4", "5", "4"]
    per_round = []
    for r in range(rounds):
        batch = []
        for d in range(dossiers):
            code = f"BARE-{d:05d}"
            snapshot = mapping.DossierSnapshot(
                code=code,
                procedure_code="1.001193",
                procedure_name="Đăng ký khai sinh",
                field_code="HO_TICH",
                field_name="Hộ tịch",
                receipt_number=code,
                applicant_name=f"Nguyễn Thị Hồng Nhung {d}",
                applicant_kind="person",
                applicant_id="026190001234",
                email="",
                phone="0912345678",
                summary=f"Đăng ký khai sinh – Nguyễn Thị Hồng Nhung {d}",
                received_at=start,
                due_at=start + timedelta(days=3),
                returned_at=None,
                finished_at=None,
                processing_agency="Ủy ban nhân dân phường Liên Bảo",
                documents=(
                    mapping.DocumentInfo(1, "Tờ khai"),
                    mapping.DocumentInfo(2, "Giấy chứng sinh"),
                    mapping.DocumentInfo(3, "Văn bản ủy quyền"),
                ),
                fees=(mapping.FeeInfo("Lệ phí", Decimal(0)),),
            )
            progress = mapping.ProgressSnapshot(
                code=code,
                officer="Bùi Thu Hà",
                title="Chuyên viên",
                at=start + timedelta(minutes=r),
                department="Ủy ban nhân dân phường Liên Bảo",
                content="Yêu cầu bổ sung: Bổ sung bản sao giấy chứng sinh",
                started_at=start,
                due_at=start + timedelta(days=3),
            )
            key = f"{key_prefix}-{r}-{d}"
            status = statuses[r % len(statuses)]
            batch.append(
                (
                    mapping.with_key(mapping.dossier_item(snapshot, status), "IdempotencyKey", key),
                    mapping.with_key(mapping.progress_item(progress, status), "IdempotencyKey", key),
                )
            )
        per_round.append(batch)
    return per_round


def measure(url: str, unit_code: str, username: str, password: str, events: int, batch_size: int) -> float:
    """Items per second the simulator takes from a bare client, for ``events`` items."""
    rounds = 5
    dossiers = events // rounds
    plan = _items(dossiers, rounds, "bare")
    http = requests.Session()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    login = http.post(f"{url}/auth/login", json={"username": username, "password": password}, timeout=10).json()
    session = login["session"]
    bodies = []
    for r, items in enumerate(plan):
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            common = {"madonvi": unit_code, "session": session}
            sync = {**common, "service": "DongBoHoSoMC", "isUpdating": "False" if r == 0 else "True"}
            sync["data"] = [dossier for dossier, _progress in chunk]
            progress = {**common, "service": "CapNhatTienDoHoSoMC", "data": [p for _dossier, p in chunk]}
            bodies.append(json.dumps(sync, ensure_ascii=False).encode())
            bodies.append(json.dumps(progress, ensure_ascii=False).encode())
    began = time.perf_counter()
    for body in bodies:
        reply = http.post(f"{url}/integration", data=body, headers=headers, timeout=30)
        if reply.json().get("error_code") not in (0, "0", "00"):
            raise RuntimeError(f"bare client refused: {reply.text[:300]}")
    elapsed = time.perf_counter() - began
    return dossiers * rounds / elapsed
