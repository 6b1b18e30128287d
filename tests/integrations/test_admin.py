"""The desk pages: the connection, sync states, dead letters with replay, catalogue review, jobs."""

import json

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from motcua.integrations.models import (
    NationalDossierLink,
    NationalPortalConfig,
    NationalProcedureChange,
    NationalStatusCode,
    NationalSyncItem,
    ScheduledJob,
)
from motcua.integrations.models import SyncState as S
from motcua.integrations.national import services
from motcua.org.models import User


def login(client, local: str) -> User:
    user = User.objects.get(email=f"{local}@vinhphuc.gov.vn")
    client.force_login(user)
    return user


def form_data(response) -> dict:
    """The POST body the change form would send as it is (main form and inlines)."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        if isinstance(value, dict):
            data[name] = json.dumps(value)
        else:
            data[name] = field.widget.format_value(value) if hasattr(field.widget, "format_value") else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        prefix = formset.prefix
        management = formset.management_form
        for name in management.fields:
            data[f"{prefix}-{name}"] = management.initial.get(name, management[name].value())
        for index, sub in enumerate(formset.forms):
            for name, field in sub.fields.items():
                value = sub.initial.get(name, field.initial)
                key = f"{prefix}-{index}-{name}"
                if isinstance(value, bool):
                    if value:
                        data[key] = "on"
                elif value is not None:
                    data[key] = getattr(value, "pk", value)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def dead_letter(portal, receive):
    """A dossier whose "received" event the portal refused until it went to the dead-letter list."""
    NationalStatusCode.objects.filter(status="received").update(code="22")
    dossier = receive()
    for _ in range(5):
        services.run_sender(budget_seconds=1)
        if NationalSyncItem.objects.filter(state=S.DEAD).exists():
            break
    item = NationalSyncItem.objects.get(dossier=dossier)
    assert item.state == S.DEAD
    NationalStatusCode.objects.filter(status="received").update(code="2")
    return item


def test_the_connection_page_shows_missing_credentials_and_validates(client, org, monkeypatch):
    monkeypatch.delenv("MOTCUA_NATIONAL_PASSWORD", raising=False)
    login(client, "admin")
    changelist = client.get(reverse("admin:integrations_nationalportalconfig_changelist"))
    assert changelist.status_code == 302
    page = client.get(changelist["Location"])
    assert page.status_code == 200
    content = page.content.decode()
    assert "MOTCUA_NATIONAL_PASSWORD" in content
    assert "Còn thiếu" in content  # Vietnamese by default
    assert page.context["inline_admin_formsets"][0].formset.total_form_count() == 12  # every status
    data = form_data(page)
    data.update(enabled="on", base_url="")
    refused = client.post(changelist["Location"], data)
    assert refused.status_code == 200
    assert "Nhập địa chỉ của nền tảng tích hợp" in refused.content.decode()
    assert not NationalPortalConfig.objects.get().enabled
    data.update(base_url="https://lgsp.vinhphuc.gov.vn/dvcqg", unit_code="000.00.24.H62")
    saved = client.post(changelist["Location"], data)
    assert saved.status_code == 302, saved.context and saved.context["adminform"].form.errors
    config = NationalPortalConfig.objects.get()
    assert (config.enabled, config.base_url, config.unit_code) == (
        True,
        "https://lgsp.vinhphuc.gov.vn/dvcqg",
        "000.00.24.H62",
    )
    assert config.history.count() >= 1  # configuration changes are kept


def test_only_the_province_administrator_opens_the_connection(client, org):
    for local in ("quantri.vinhyen", "giamsat.tinh"):
        login(client, local)
        assert client.get(reverse("admin:integrations_nationalportalconfig_changelist")).status_code == 403


def test_actions_queue_tasks_instead_of_calling_out(client, portal):
    login(client, "admin")
    url = reverse("admin:integrations_nationalportalconfig_check_connection", args=[1])
    assert client.get(url).status_code == 200  # a confirmation page
    assert DBTaskResult.objects.count() == 0
    response = client.post(url)
    assert response.status_code == 302
    task = DBTaskResult.objects.get()
    assert task.task_path == "motcua.integrations.tasks.national_check_connection"
    assert task.args_kwargs["kwargs"] == {"manual": True}
    assert portal.calls() == []  # nothing was sent from the web request


def test_dead_letters_show_the_portals_message_and_are_replayed(client, dead_letter, portal):
    login(client, "admin")
    changelist = reverse("admin:integrations_nationaldeadletter_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert "TrangThaiHoSo “22” không hợp lệ" in page.content.decode()
    response = client.post(changelist, {"action": "replay_selected", "_selected_action": [dead_letter.pk]})
    assert response.status_code == 302
    dead_letter.refresh_from_db()
    assert (dead_letter.state, dead_letter.replays, dead_letter.attempts) == (S.PENDING, 1, 0)
    services.run_sender(budget_seconds=2)
    dead_letter.refresh_from_db()
    assert dead_letter.state == S.ACKNOWLEDGED
    assert NationalDossierLink.objects.get().sync_state == S.ACKNOWLEDGED


def test_replay_one_and_all_from_the_detail_and_list_buttons(client, dead_letter):
    login(client, "admin")
    one = reverse("admin:integrations_nationaldeadletter_replay_one", args=[dead_letter.pk])
    assert client.get(one).status_code == 200
    assert client.post(one).status_code == 302
    assert NationalSyncItem.objects.get(pk=dead_letter.pk).state == S.PENDING
    NationalSyncItem.objects.filter(pk=dead_letter.pk).update(state=S.DEAD)
    everything = reverse("admin:integrations_nationaldeadletter_replay_everything")
    assert client.post(everything).status_code == 302
    assert NationalSyncItem.objects.get(pk=dead_letter.pk).state == S.PENDING


def test_sync_states_follow_the_dossier_scope(client, dead_letter):
    login(client, "giamsat.lienbao")
    page = client.get(reverse("admin:integrations_nationaldossierlink_changelist"))
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    link = NationalDossierLink.objects.get()
    detail = client.get(reverse("admin:integrations_nationaldossierlink_change", args=[link.pk]))
    assert "không hợp lệ" in detail.content.decode()
    login(client, "giamsat.tamhop")
    assert client.get(reverse("admin:integrations_nationaldossierlink_changelist")).context["cl"].result_count == 0
    assert client.get(reverse("admin:integrations_nationaldossierlink_change", args=[link.pk])).status_code in (
        302,
        403,
        404,
    )
    # A monitor sees but cannot replay.
    login(client, "giamsat.lienbao")
    changelist = reverse("admin:integrations_nationaldeadletter_changelist")
    client.post(changelist, {"action": "replay_selected", "_selected_action": [dead_letter.pk]})
    assert NationalSyncItem.objects.get(pk=dead_letter.pk).state == S.DEAD


def test_catalogue_review_page(client, portal, birth):
    portal.set_procedures([{"MATTHC": birth.code, "TENTTHC": "Đăng ký khai sinh (mới)", "LINHVUCTHUCHIEN": []}])
    services.refresh_catalogue()
    change = NationalProcedureChange.objects.get()
    login(client, "admin")
    detail = client.get(reverse("admin:integrations_nationalprocedurechange_change", args=[change.pk]))
    content = detail.content.decode()
    assert "Đăng ký khai sinh (mới)" in content and "Đăng ký khai sinh" in content
    accept = reverse("admin:integrations_nationalprocedurechange_accept_one", args=[change.pk])
    assert client.post(accept).status_code == 302
    change.refresh_from_db()
    assert change.state == "accepted"


def test_scheduled_jobs_are_listed_before_they_ever_ran_and_can_be_run_now(client, org):
    login(client, "admin")
    page = client.get(reverse("admin:integrations_scheduledjob_changelist"))
    assert page.status_code == 200
    assert "chưa chạy lần nào" in page.content.decode()
    job = ScheduledJob.objects.get(name="national_inbox_fetch")
    assert job.schedule == "*/5 * * * *"
    response = client.post(
        reverse("admin:integrations_scheduledjob_changelist"), {"action": "run_selected", "_selected_action": [job.pk]}
    )
    assert response.status_code == 302
    assert DBTaskResult.objects.get().task_path == "motcua.integrations.tasks.national_inbox_fetch"


def test_every_list_and_page_opens(client, dead_letter):
    login(client, "admin")
    for model in (
        "nationaldossierlink",
        "nationalsyncitem",
        "nationaldeadletter",
        "nationalinboundlog",
        "nationalprocedurechange",
        "scheduledjob",
        "jobrun",
    ):
        assert client.get(reverse(f"admin:integrations_{model}_changelist")).status_code == 200, model
    item = reverse("admin:integrations_nationalsyncitem_change", args=[dead_letter.pk])
    assert client.get(item).status_code == 200
