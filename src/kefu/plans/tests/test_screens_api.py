"""The screens, the ticket-page panel and the API, with who may do what."""

import datetime as dt

import pytest

from kefu.plans.models import ChecklistResult, Rectification, ServicePlan
from kefu.plans.services.schedule import generate_due
from kefu.plans.tests.helpers import checklist, inspection_plan
from kefu.testing.factories import ApiClient

D = dt.date


@pytest.fixture
def round_ticket(centre, plan_types):
    inspection_plan(assignee=centre["agent"], inspector=centre["supervisor"])
    (made,) = generate_due(D(2026, 6, 1))
    return made.ticket


@pytest.mark.django_db
def test_the_ticket_page_shows_the_checklist_and_a_tick_raises_a_finding(
    centre, round_ticket, client, at_once
):
    client.force_login(centre["agent"])
    page = client.get(f"/tickets/{round_ticket.number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="plans-panel"' in html and "变压器温度正常" in html
    item = ChecklistResult.objects.get(run__ticket=round_ticket, item__position=1)
    answer = client.post(
        f"/plans/ticket/{round_ticket.number}/check/{item.pk}/",
        {"result": "fail", "note": "油温85℃"},
    )
    assert answer.status_code == 302
    rect = Rectification.objects.get()
    assert rect.hazard == "变压器温度正常: 油温85℃"
    page = client.get(f"/tickets/{round_ticket.number}/")
    assert 'data-testid="finding-link"' in page.content.decode()
    # another work order's item cannot be ticked through this one
    other = client.post(f"/plans/ticket/{rect.ticket.number}/check/{item.pk}/", {"result": "pass"})
    assert other.status_code == 403
    item.refresh_from_db()
    assert item.result == "fail"


@pytest.mark.django_db
def test_other_work_orders_spend_no_query_on_the_panel(centre, plan_types, rf):
    from kefu.plans.views import ticket_panel
    from kefu.testing.factories import make_ticket

    ticket = make_ticket(actor=centre["agent"])
    request = rf.get("/")
    request.user = centre["agent"]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket.ticket_type  # noqa: B018 - loaded, as on the ticket page
    with CaptureQueriesContext(connection) as queries:
        assert ticket_panel(request, ticket) == ""
    assert len(queries) == 0


@pytest.mark.django_db
def test_lists_and_roles(centre, round_ticket, client, django_assert_max_num_queries):
    client.force_login(centre["supervisor"])
    for i in range(5):
        inspection_plan(name=f"巡检{i}", checklist=checklist(name=f"表{i}"))
    with django_assert_max_num_queries(12):
        assert client.get("/plans/").status_code == 200
    plan = ServicePlan.objects.get(name="配电房月度巡检")
    assert client.get(f"/plans/{plan.pk}/").status_code == 200
    assert client.get("/plans/rectifications/?show=overdue").status_code == 200
    client.force_login(centre["liaison"])
    assert client.get("/plans/").status_code == 403
    assert client.get(f"/plans/{plan.pk}/").status_code == 404


@pytest.mark.django_db
def test_api_creates_a_plan_ticks_and_moves_a_rectification(centre, round_ticket, at_once):
    lead = ApiClient(centre["supervisor"])
    made = lead.post("plans/checklists", {"name": "消防设施检查表", "kind": "fire_safety",
                                          "items": [{"text": "灭火器压力正常"}, {"text": "疏散通道畅通"}]})  # fmt: skip
    assert made.status_code == 201, made.content
    answer = lead.post("plans", {"name": "消防设施季度检查", "kind": "fire_safety",
                                 "frequency": "quarterly", "starts_on": "2026-01-01",
                                 "checklist": made.json()["id"], "lead_days": 7})  # fmt: skip
    assert answer.status_code == 201, answer.content
    assert answer.json()["next_due_on"] is not None
    bad = lead.post("plans", {"name": "坏", "kind": "inspection", "frequency": "weekly",
                              "starts_on": "2026-01-01", "weekdays": [9], "checklist": made.json()["id"]})  # fmt: skip
    assert bad.status_code == 422
    assert not ServicePlan.objects.filter(name="坏").exists()
    agent = ApiClient(centre["agent"])
    assert agent.post("plans", {"name": "x", "kind": "drill", "frequency": "once",
                                "starts_on": "2026-01-01"}).status_code == 403  # fmt: skip
    items = agent.get(f"plans/tickets/{round_ticket.number}/checklist").json()
    ticked = agent.post(f"plans/tickets/{round_ticket.number}/checklist/{items[2]['id']}",
                        {"result": "fail", "note": "应急灯损坏"})  # fmt: skip
    assert ticked.status_code == 200
    rect_number = ticked.json()[2]["rectification"]
    assert rect_number is not None
    (rect,) = agent.get("plans/rectifications").json()
    assert rect["ticket"] == rect_number and rect["state"] == "open"
    moved = agent.post(f"plans/rectifications/{rect['id']}/move", {"to": "rectifying"})
    assert moved.status_code == 200 and moved.json()["state"] == "rectifying"
    refused = agent.post(f"plans/rectifications/{rect['id']}/move", {"to": "signed_off"})
    assert refused.status_code == 422


@pytest.mark.django_db
def test_demo_seeds_plans_rounds_and_an_escalated_rectification(at_once):
    import random

    from django.utils import timezone

    from kefu.core.demo import DemoContext
    from kefu.plans.demo import seed_plans
    from kefu.sla.defaults import install as install_sla
    from kefu.testing.factories import make_customer, make_tier, make_user
    from kefu.tickets.defaults import install

    install()
    install_sla()
    make_tier()
    make_customer(name="江城第一人民医院", kind="organization")
    supervisor = make_user("supervisor")
    agents = [make_user("agent_l1"), make_user("agent_l1"), make_user("agent_l2")]
    ctx = DemoContext(rng=random.Random(7), now=timezone.now(),
                      data={"supervisor": supervisor, "agents": agents, "qa": make_user("qa")})  # fmt: skip
    seed_plans(ctx)
    names = set(ServicePlan.objects.values_list("name", flat=True))
    assert {"配电房月度巡检", "消防设施季度检查", "消防演练", "新系统上线培训",
            "春节前VIP客户关怀"} <= names  # fmt: skip
    assert ServicePlan.objects.get(name="配电房月度巡检").rounds.count() >= 6
    assert Rectification.objects.filter(escalation_level__gt=0).exists()
    assert Rectification.objects.filter(state="signed_off").exists()


@pytest.mark.django_db
def test_a_supervisor_sets_up_a_checklist_and_a_plan_on_screen(centre, plan_types, client):
    from kefu.plans.models import ChecklistTemplate
    from kefu.sla.models import BusinessCalendar

    client.force_login(centre["supervisor"])
    assert client.get("/plans/checklists/new/").status_code == 200
    answer = client.post("/plans/checklists/new/", {
        "name": "消防设施检查表", "kind": "fire_safety",
        "items": "消防设施 | 灭火器压力正常 | 看压力表指针 | photo\n疏散通道畅通\n",
    })  # fmt: skip
    assert answer.status_code == 302
    template = ChecklistTemplate.objects.get(name="消防设施检查表")
    items = list(template.versions.get().items.values_list("section", "text", "photo_required"))
    assert items == [("消防设施", "灭火器压力正常", True), ("", "疏散通道畅通", False)]
    page = client.get(f"/plans/checklists/{template.pk}/")
    assert "消防设施 | 灭火器压力正常 | 看压力表指针 | photo" in page.content.decode()
    assert client.get("/plans/new/").status_code == 200
    form = {
        "name": "消防设施季度检查", "kind": "fire_safety", "checklist": template.pk,
        "frequency": "quarterly", "interval": 1, "day_of_month": 10, "starts_on": "2026-01-01",
        "lead_days": 5, "calendar": BusinessCalendar.objects.get(code="workdays").pk,
        "shift": "next", "rectify_days": 7, "session_time": "09:30", "session_minutes": 120,
        "care_trigger": "schedule", "delay_days": 0, "is_active": "on",
        "assignee": centre["agent"].pk, "inspector": centre["supervisor"].pk,
    }  # fmt: skip
    bad = client.post("/plans/new/", {**form, "frequency": "rrule", "rrule": "FREQ=SOMETIMES"})
    assert bad.status_code == 400
    assert not ServicePlan.objects.exists()
    made = client.post("/plans/new/", form)
    assert made.status_code == 302
    plan = ServicePlan.objects.get()
    assert (plan.kind, plan.frequency, plan.day_of_month, plan.assignee) == (
        "fire_safety",
        "quarterly",
        10,
        centre["agent"],
    )
    assert plan.next_due_on is not None
    changed = client.post(f"/plans/{plan.pk}/edit/", {**form, "lead_days": 9})
    assert changed.status_code == 302
    plan.refresh_from_db()
    assert (plan.lead_days, plan.version) == (9, 2)
    client.force_login(centre["agent"])
    assert client.get("/plans/new/").status_code == 403


@pytest.mark.django_db
def test_the_start_page_lists_my_rectifications(centre, round_ticket, client, at_once):
    from kefu.plans.services.checklists import check_item

    item = ChecklistResult.objects.get(run__ticket=round_ticket, item__position=2)
    check_item(actor=centre["agent"], result=item, value="fail", note="灭火器过期")
    client.force_login(centre["agent"])
    html = client.get("/").content.decode()
    assert 'data-testid="card-rectifications"' in html and "灭火器过期" in html
    client.force_login(centre["agent2"])
    assert 'data-testid="card-rectifications"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_hand_opened_installation_gets_a_checklist(centre, plan_types, client):
    from kefu.plans.models import ChecklistRun
    from kefu.testing.factories import make_ticket

    template = checklist(name="设备安装调试表")
    ticket = make_ticket(actor=centre["agent"], type_code="installation", title="新装电表")
    client.force_login(centre["agent"])
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "设备安装调试表" in html
    answer = client.post(f"/plans/ticket/{ticket.number}/checklist/", {"checklist": template.pk})
    assert answer.status_code == 302
    run = ChecklistRun.objects.get(ticket=ticket)
    assert run.results.count() == 3 and run.plan is None
    # a care callback offers no checklist
    callback = make_ticket(actor=centre["agent"], type_code="care_callback", title="回访")
    assert "设备安装调试表" not in client.get(f"/tickets/{callback.number}/").content.decode()
