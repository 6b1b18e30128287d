"""The outbox sender against the real simulator, in one process (SQLite or PostgreSQL).

Dossiers are received and moved by the real dossier services; their events are delivered
to the simulator over HTTP. Multi-process crashes are in test_fault.py.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import DossierEvent
from motcua.integrations.models import NationalDossierLink, NationalStatusCode, NationalSyncCursor, NationalSyncItem
from motcua.integrations.models import SyncState as S
from motcua.integrations.national import services
from motcua.integrations.national.simulator import NationalPortalSimulator
from motcua.org.models import User
from tests.dossiers.conftest import MONDAY, applicant
from tests.integrations.conftest import CREDENTIALS, UNIT, configure

DONG_BO, TIEN_DO = "DongBoHoSoMC", "CapNhatTienDoHoSoMC"


def drain(seconds: float = 15) -> services.SenderReport:
    """Run the sender until nothing is left to try (failed items wait out their short backoff)."""
    total = services.SenderReport()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        report = services.run_sender(budget_seconds=5)
        total.merge(report)
        waiting = NationalSyncItem.objects.filter(state__in=(S.FAILED, S.SENT)).exists()
        if report.batches == 0 and not waiting:
            break  # what is left (if anything) waits behind a dead letter
        time.sleep(0.02)
    return total


def advance(dossier, clerk: User, steps: int = 5):
    """received → in process → supplement requested → supplement received → result ready → returned."""
    moves = [
        lambda d, t: dossier_services.start_processing(d, actor=clerk, now=t),
        lambda d, t: dossier_services.request_supplement(d, actor=clerk, reason="Thiếu bản sao giấy chứng sinh", now=t),
        lambda d, t: dossier_services.supplement_received(d, actor=clerk, now=t),
        lambda d, t: dossier_services.mark_result_ready(d, actor=clerk, now=t),
        lambda d, t: dossier_services.return_result(d, actor=clerk, now=t),
    ]
    for index, move in enumerate(moves[:steps], 1):
        move(dossier, MONDAY + timedelta(minutes=10 * index))
    return dossier


def keys_of(dossier) -> list[str]:
    return [item.idempotency_key for item in NationalSyncItem.objects.filter(dossier=dossier).order_by("event_id")]


def test_a_dossiers_events_are_sent_in_order_and_acknowledged(portal, receive, clerk):
    dossier = advance(receive(), clerk)
    report = drain()
    assert report.acknowledged == 6
    items = NationalSyncItem.objects.filter(dossier=dossier).order_by("event_id")
    assert [i.state for i in items] == [S.ACKNOWLEDGED] * 6
    assert [i.event.to_status for i in items] == [
        "received",
        "in_process",
        "waiting_for_supplement",
        "in_process",
        "result_ready",
        "returned",
    ]
    link = NationalDossierLink.objects.get(dossier=dossier)
    assert (link.sync_state, link.remote_created, link.last_error) == (S.ACKNOWLEDGED, True, "")

    # The portal saw each event once, in order, with the national codes of the statuses.
    progress = portal.progress(dossier.code)
    assert [p["TrangThai"] for p in progress] == ["2", "4", "5", "4", "9", "10"]
    assert [p["IdempotencyKey"] for p in progress] == keys_of(dossier)
    with translation.override("vi"):
        label = str(DossierEvent.Action.SUPPLEMENT_REQUESTED.label)
    assert label.startswith("Yêu cầu bổ sung")  # Vietnamese whatever the active language
    assert progress[2]["NoiDungXuLy"] == f"{label}: Thiếu bản sao giấy chứng sinh"
    assert progress[0]["NguoiXuLy"] == clerk.full_name
    assert progress[0]["ThoiDiemXuLy"] == "20261130090000"
    remote = portal.dossier(dossier.code)
    assert remote["TrangThaiHoSo"] == "10"
    assert remote["ChuHoSo"] == "Nguyễn Văn An"
    assert remote["TenTTHC"] == "Đăng ký khai sinh"
    assert remote["NgayTiepNhan"] == "20261130090000"
    assert remote["NgayHenTra"] == timezone.localtime(dossier.due_at).strftime("%Y%m%d%H%M%S")
    assert remote["DonViXuLy"] == "Ủy ban nhân dân phường Liên Bảo"
    assert portal.duplicates() == []
    # Only the first call created the dossier; status changes updated it.
    creations = [c for c in portal.calls() if c["service"] == DONG_BO]
    assert len(creations) == 6


def test_batches_span_dossiers_but_one_event_per_dossier_at_a_time(portal, receive, clerk):
    dossiers = [advance(receive(), clerk, steps=2) for _ in range(4)]
    assert services.enqueue_missing() == 12
    token, claimed = services.claim_batch(services.get_config(), worker="t")
    assert len(claimed) == 4
    assert {item.dossier_id for item in claimed} == {d.pk for d in dossiers}
    assert all(item.event.to_status == "received" for item in claimed)
    services.send_batch(services.make_client(), services.get_config(), claimed, token)
    drain()
    assert NationalSyncItem.objects.filter(state=S.ACKNOWLEDGED).count() == 12


def test_a_later_event_waits_while_an_earlier_one_fails(portal, receive, clerk):
    dossier = advance(receive(), clerk, steps=2)
    portal.set_faults(fail_rate=1.0)
    report = services.run_sender(budget_seconds=0.5)
    assert report.acknowledged == 0
    first, *later = NationalSyncItem.objects.filter(dossier=dossier).order_by("event_id")
    assert first.state == S.FAILED and first.failures >= 1 and "HTTP 500" in first.last_error
    assert first.attempts == 0  # an unreachable portal never counts towards the dead-letter list
    assert all(item.state == S.PENDING and item.sent_at is None for item in later)
    assert NationalDossierLink.objects.get(dossier=dossier).sync_state == S.FAILED
    assert portal.applied() == []
    portal.set_faults()
    drain()
    assert [p["TrangThai"] for p in portal.progress(dossier.code)] == ["2", "4", "5"]


def test_a_lost_reply_is_resent_and_applied_once(portal, receive, clerk):
    dossier = advance(receive(), clerk, steps=1)
    services.make_client().check_credentials()  # logged in: only the business calls lose their replies
    portal.set_faults(drop_rate=1.0)
    services.run_sender(budget_seconds=0.3)
    assert len(portal.applied(DONG_BO)) == 1  # the portal applied the creation, we never heard back
    portal.set_faults()
    drain()
    assert [a["key"] for a in portal.applied(TIEN_DO)] == keys_of(dossier)
    assert [a["key"] for a in portal.applied(DONG_BO)] == keys_of(dossier)
    assert portal.duplicates(DONG_BO)  # the resend was recognised by its key


def test_a_portal_without_keys_refuses_a_second_creation_and_we_look_it_up(db, receive, clerk, credentials_env):
    """A real portal may ignore our idempotency key: the repeated creation is then refused as
    "already exists"; we ask (TraCuuHoSo) and send the event as an update instead."""
    with NationalPortalSimulator(credentials=CREDENTIALS, unit_code=UNIT, key_field="") as plain:
        configure(plain.url)
        dossier = receive()
        services.make_client().check_credentials()
        plain.set_faults(drop_rate=1.0)
        services.run_sender(budget_seconds=0.3)
        assert len(plain.applied(DONG_BO)) == 1  # created, reply lost
        plain.set_faults()
        report = drain()
        assert report.acknowledged == 1 and report.rejected == 0
        assert [c["service"] for c in plain.calls() if c["outcome"] in ("ok", "rejected")][-4:] == [
            DONG_BO,  # creation again: refused, the dossier exists
            "TraCuuHoSo",
            DONG_BO,  # as an update
            TIEN_DO,
        ]
        assert len(plain.progress(dossier.code)) == 1


def test_a_refused_payload_goes_to_the_dead_letter_list_and_is_replayed_after_the_fix(portal, receive, clerk, org):
    admin = User.objects.get(email="admin@vinhphuc.gov.vn")
    good = advance(receive(), clerk, steps=1)
    bad = advance(receive(applicant=applicant(full_name="Trần Thị Bích")), clerk, steps=2)
    # A wrong code in the status table: the portal refuses "in process" as 44.
    NationalStatusCode.objects.filter(status="in_process").update(code="44")
    report = drain()
    assert report.rejected >= 3  # max_attempts = 3 in the test configuration
    assert report.dead == 2  # the "in process" event of each dossier
    dead = NationalSyncItem.objects.filter(state=S.DEAD).order_by("event_id")
    assert [d.dossier_id for d in dead] == [good.pk, bad.pk]
    assert all("TrangThaiHoSo “44” không hợp lệ" in d.last_error for d in dead)
    assert all(d.attempts == 3 for d in dead)
    # The received events went through (the batch was split around the refused items).
    assert NationalSyncItem.objects.filter(state=S.ACKNOWLEDGED).count() == 2
    # The third event of "bad" waits behind its dead letter.
    assert NationalSyncItem.objects.get(dossier=bad, event__to_status="waiting_for_supplement").state == S.PENDING
    link = NationalDossierLink.objects.get(dossier=bad)
    assert link.sync_state == S.DEAD and "không hợp lệ" in link.last_error

    NationalStatusCode.objects.filter(status="in_process").update(code="4")
    assert services.replay([dead[0]], actor=admin) == 1  # one by one …
    assert services.replay_all(actor=admin) == 1  # … or all
    drain()
    assert NationalSyncItem.objects.exclude(state=S.ACKNOWLEDGED).count() == 0
    assert [p["TrangThai"] for p in portal.progress(bad.code)] == ["2", "4", "5"]
    replayed = NationalSyncItem.objects.get(pk=dead[0].pk)
    assert (replayed.replays, replayed.replayed_by) == (1, admin)
    assert NationalDossierLink.objects.get(dossier=bad).sync_state == S.ACKNOWLEDGED


def test_only_a_province_administrator_replays(portal, receive, clerk):
    with pytest.raises(services.PermissionDenied):
        services.replay(NationalSyncItem.objects.all(), actor=clerk)


def test_a_claim_of_a_dead_worker_is_taken_over_after_its_lease(portal, receive, clerk):
    config = configure(portal.url, lease_seconds=30, read_timeout=1.0, connect_timeout=1.0)
    receive()
    enqueued = services.enqueue_missing()
    assert enqueued == 1
    dead_token, claimed = services.claim_batch(config, worker="dead-worker")
    assert len(claimed) == 1
    assert services.claim_batch(config, worker="other")[1] == []  # leased
    later = timezone.now() + timedelta(seconds=services.effective_lease(config) + 1)
    token, taken = services.claim_batch(config, worker="other", now=later)
    assert [i.pk for i in taken] == [claimed[0].pk]
    report = services.send_batch(services.make_client(config), config, taken, token)
    assert report.acknowledged == 1
    # The dead worker's late report (if it ever came) changes nothing: it no longer holds the claim.
    late = services.send_batch(services.make_client(config), config, claimed, dead_token)
    assert late.acknowledged == 0 and late.lost_claims == 1
    assert len(portal.applied(TIEN_DO)) == 1


def test_an_event_committed_late_below_the_newest_id_is_not_lost(portal, receive, clerk, settings):
    settings.MOTCUA_NATIONAL_OUTBOX_GRACE_SECONDS = 0
    first = receive()
    second = receive()
    # The second dossier's event got its item first (as if the first transaction committed later).
    services.record_event(DossierEvent.objects.get(dossier=second))
    assert services.enqueue_missing() == 1
    assert NationalSyncItem.objects.filter(dossier=first).exists()
    # With a zero grace the floor passes the newest id seen by the previous scan.
    services.enqueue_missing()
    newest = DossierEvent.objects.order_by("-pk").first().pk
    assert NationalSyncCursor.objects.get().outbox_floor == newest


def test_the_floor_waits_out_the_grace_period(portal, receive, settings):
    settings.MOTCUA_NATIONAL_OUTBOX_GRACE_SECONDS = 600
    receive()
    services.enqueue_missing()
    services.enqueue_missing()
    cursor = NationalSyncCursor.objects.get()
    assert cursor.outbox_floor == 0 and cursor.outbox_candidate > 0


def test_what_is_not_sent(portal, receive, clerk, birth):
    configure(portal.url, sync_since=MONDAY + timedelta(minutes=5))
    old = receive()  # at MONDAY: before the sync start
    refused = dossier_services.refuse(
        clerk=clerk, procedure_code=birth.code, applicant=applicant(), reason="Không thuộc thẩm quyền", now=MONDAY
    )
    NationalStatusCode.objects.filter(status="in_process").update(code="")
    fresh = receive(now=MONDAY + timedelta(minutes=6))
    dossier_services.start_processing(fresh, actor=clerk, now=MONDAY + timedelta(minutes=7))
    services.enqueue_missing()
    notes = {i.event_id: (i.state, i.note) for i in NationalSyncItem.objects.all()}
    assert notes[old.events.get().pk] == (S.SKIPPED, "before sync start")
    assert notes[refused.events.get().pk] == (S.SKIPPED, "before sync start")
    processing = fresh.events.get(action="processing_started").pk
    assert notes[processing] == (S.SKIPPED, "status without a national code")
    drain()
    assert [p["TrangThai"] for p in portal.progress(fresh.code)] == ["2"]
    assert NationalDossierLink.objects.get(dossier=old).sync_state == S.SKIPPED


def test_a_dossier_without_a_code_is_skipped_when_final(portal, clerk, birth):
    configure(portal.url, sync_since=None)
    refused = dossier_services.refuse(
        clerk=clerk, procedure_code=birth.code, applicant=applicant(), reason="Không thuộc thẩm quyền", now=MONDAY
    )
    report = drain()
    assert report.skipped == 1
    assert NationalSyncItem.objects.get(dossier=refused).note == "dossier without a code"
    assert portal.applied() == []


def test_field_overrides_reach_the_portal(portal, receive, clerk):
    configure(portal.url, field_overrides={"GhiChu": "GhiChuHoSo", "TrichYeuHoSo": "TrichYeu"})
    dossier = receive()
    drain()
    remote = portal.dossier(dossier.code)
    assert "GhiChu" not in remote and remote["GhiChuHoSo"] == ""
    assert remote["TrichYeu"] == "Đăng ký khai sinh – Nguyễn Văn An"


def test_nothing_moves_when_sync_is_off_or_credentials_are_missing(portal, receive, monkeypatch):
    receive()
    configure(portal.url, enabled=False)
    assert services.run_sender(budget_seconds=1).disabled
    assert NationalSyncItem.objects.count() == 0
    configure(portal.url, enabled=True)
    monkeypatch.delenv("MOTCUA_NATIONAL_PASSWORD")
    services._CLIENTS.clear()
    with pytest.raises(services.NotConfigured, match="MOTCUA_NATIONAL_PASSWORD"):
        services.run_sender(budget_seconds=1)
    assert portal.calls() == []


def test_oauth2_connection(portal, receive):
    configure(portal.url, auth_mode="oauth2")
    dossier = receive()
    drain()
    assert portal.dossier(dossier.code)["TrangThaiHoSo"] == "2"
    assert [c["service"] for c in portal.calls()][:1] == ["token"]


def test_wrong_credentials_are_retried_not_dead_lettered(portal, receive, monkeypatch):
    monkeypatch.setenv("MOTCUA_NATIONAL_PASSWORD", "sai-mat-khau")
    receive()
    services.run_sender(budget_seconds=0.5)
    item = NationalSyncItem.objects.get()
    assert (item.state, item.last_error_kind, item.attempts) == (S.FAILED, "auth", 0)
    assert "Sai tên đăng nhập" in item.last_error


def test_skipping_a_dead_letter_lets_the_dossier_go_on(portal, receive, clerk, org):
    admin = User.objects.get(email="admin@vinhphuc.gov.vn")
    dossier = advance(receive(), clerk, steps=2)
    NationalStatusCode.objects.filter(status="in_process").update(code="44")
    drain()
    dead = NationalSyncItem.objects.get(state=S.DEAD)
    with pytest.raises(services.ValidationError):
        services.skip([dead], actor=admin, reason="  ")
    assert services.skip([dead], actor=admin, reason="Trạng thái không có trên Cổng") == 1
    drain()
    dead.refresh_from_db()
    assert dead.state == S.SKIPPED and dead.note.endswith("Trạng thái không có trên Cổng")
    assert [p["TrangThai"] for p in portal.progress(dossier.code)] == ["2", "5"]
