"""An administrator adds a step to a workflow in the desk, sees the diagram change, and dossiers follow
the definition they were received under: the new one after the change, the old one before.

The workflow is built here (services.replace_definition), not taken from the demo workflows.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from motcua.dossiers import services as dossier_services
from motcua.org.demo import DEMO_DOMAIN, DEMO_PASSWORD
from motcua.org.models import User
from motcua.workflow import services
from motcua.workflow.models import StepRun, Workflow, WorkflowRun
from tests.workflow.conftest import FORM, LAND_CODE, land_procedure, move, step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def two_steps() -> dict:
    return {
        "format": "motcua-workflow",
        "format_version": 1,
        "name": "Quy trình xã",
        "steps": [
            step("xa", "UBND xã thẩm định", 4, holder="receiving"),
            step("tra", "Trả kết quả", kind="result", holder="receiving", role="clerk"),
        ],
        "transitions": [move("duyet", "xa", "tra", "approve", "Chuyển trả kết quả")],
    }


def receive(version):
    clerk = User.objects.get(email=f"motcua.lienbao@{DEMO_DOMAIN}")
    return dossier_services.receive_at_counter(
        clerk=clerk,
        procedure_code=LAND_CODE,
        applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234", "phone": "0912345678"},
        form_data=FORM,
        documents=[{"component": version.components.get().pk, "originals": 1}],
        now=timezone.now(),
    )


@pytest.fixture
def site(live_server, demo_org, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    return live_server.url


def test_a_step_added_in_the_desk_applies_to_new_dossiers_only(page, site):
    page.set_default_timeout(20000)
    version = land_procedure(days="2")  # 4 working sessions, all of them for the commune
    workflow = services.replace_definition(version, None, two_steps())
    before = receive(version)
    assert StepRun.objects.get(dossier=before, finished_at__isnull=True).step_key == "xa"

    page.goto(site + "/admin/")
    page.fill("input[name=username]", f"admin@{DEMO_DOMAIN}")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{site}/admin/workflow/workflow/{workflow.pk}/change/")
    diagram = page.locator("svg.workflow-diagram")
    expect(diagram.locator("g.wf-step")).to_have_count(2)
    expect(diagram.locator('g.wf-step[data-key="ld-xa"]')).to_have_count(0)

    # A new step: the commune leader approves before the result goes to the counter.
    page.locator("#steps-group .add-row").first.click()
    row = "steps-2-"
    expect(page.locator(f"[name='{row}key']")).to_be_visible()
    page.fill(f"[name='{row}order']", "2")
    page.fill(f"[name='{row}key']", "ld-xa")
    page.fill(f"[name='{row}name']", "Lãnh đạo xã phê duyệt")
    page.select_option(f"[name='{row}kind']", "task")
    page.select_option(f"[name='{row}holder']", "receiving")
    page.select_option(f"[name='{row}role']", "leader")
    page.fill(f"[name='{row}budget_sessions']", "1")
    page.fill("[name='steps-0-budget_sessions']", "3")  # the budgets still add up to the procedure's time
    # The existing transition now goes to the leader; a new one from the leader to the result.
    page.fill("[name='transitions-0-to_step']", "ld-xa")
    page.fill("[name='transitions-0-label']", "Trình lãnh đạo")
    page.select_option("[name='transitions-0-action']", "forward")
    page.locator("#transitions-group .add-row").first.click()
    t = "transitions-1-"
    expect(page.locator(f"[name='{t}key']")).to_be_visible()
    page.fill(f"[name='{t}order']", "2")
    page.fill(f"[name='{t}key']", "ld-duyet")
    page.fill(f"[name='{t}from_step']", "ld-xa")
    page.fill(f"[name='{t}to_step']", "tra")
    page.select_option(f"[name='{t}action']", "approve")
    page.fill(f"[name='{t}label']", "Phê duyệt")
    page.select_option(f"[name='{t}role']", "leader")
    page.locator("[name=_continue]").click()
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert re.search(r"thành công|successfully", body), body[:2000]

    diagram = page.locator("svg.workflow-diagram")
    expect(diagram.locator('g.wf-step[data-key="ld-xa"]')).to_have_count(1)
    expect(diagram.locator('g.wf-arrow[data-from="ld-xa"][data-to="tra"]')).to_have_count(1)
    workflow = Workflow.objects.get(pk=workflow.pk)
    assert {s["key"] for s in workflow.definition["steps"]} == {"xa", "ld-xa", "tra"}

    # A dossier received now follows the new definition; the earlier one keeps the old one.
    after = receive(version)
    commune = User.objects.get(email=f"chuyenvien.lienbao@{DEMO_DOMAIN}")
    new_move = services.act(after, user=commune, action="duyet")
    assert new_move.current.step_key == "ld-xa"
    old_move = services.act(before, user=commune, action="duyet")
    assert old_move.current.step_key == "tra"
    assert {s["key"] for s in WorkflowRun.objects.get(dossier=before).definition["steps"]} == {"xa", "tra"}
    assert {s["key"] for s in WorkflowRun.objects.get(dossier=after).definition["steps"]} == {"xa", "ld-xa", "tra"}


def test_an_officer_works_from_the_inbox(page, site):
    page.set_default_timeout(20000)
    version = land_procedure(days="2")
    services.replace_definition(version, None, two_steps())
    dossier = receive(version)
    page.goto(site + "/inbox/")
    page.fill("input[name=username]", f"chuyenvien.lienbao@{DEMO_DOMAIN}")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox/")
    row = page.locator(f'tr[data-code="{dossier.code}"]')
    expect(row).to_contain_text("UBND xã thẩm định")
    page.screenshot(path="/tmp/flowui-inbox.png")
    row.get_by_role("link", name=dossier.code).click()
    expect(page.locator("#control-sheet")).to_contain_text("UBND xã thẩm định")
    page.fill("#act-comment", "Hồ sơ hợp lệ")
    page.get_by_role("button", name="Chuyển trả kết quả").click()
    expect(page.locator(".alert")).to_contain_text(dossier.code)
    page.screenshot(path="/tmp/flowui-detail.png", full_page=True)
    expect(page.locator("#dossier-holder")).to_contain_text("Trả kết quả")
    assert StepRun.objects.get(dossier=dossier, finished_at__isnull=True).step_key == "tra"
