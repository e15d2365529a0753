"""Reviewed edge cases: a stale rectification form, care notices sent at most once, rules too
fine for a daily scheduler, and a customer merge with many care records."""

import datetime as dt

import pytest

from kefu.plans.models import ChecklistResult, Rectification
from kefu.plans.services.checklists import check_item
from kefu.plans.services.schedule import generate_due
from kefu.plans.tests.helpers import inspection_plan
from kefu.testing.factories import ApiClient

D = dt.date


@pytest.fixture
def open_rect(centre, plan_types, at_once):
    inspection_plan(assignee=centre["agent"], inspector=centre["supervisor"])
    (made,) = generate_due(D(2026, 6, 1))
    item = ChecklistResult.objects.get(run__ticket=made.ticket, item__position=1)
    check_item(actor=centre["agent"], result=item, value="fail", note="油温85℃")
    return Rectification.objects.get()


@pytest.mark.django_db
def test_a_stale_rectification_form_says_so_instead_of_failing(centre, open_rect, client):
    stale = open_rect.version
    # the escalation sweep (or anyone) changed it since the page was drawn
    Rectification.objects.filter(pk=open_rect.pk).update(version=stale + 1)
    client.force_login(centre["agent"])
    answer = client.post(
        f"/plans/rectifications/{open_rect.pk}/move/",
        {"to": "rectifying", "version": stale},
        follow=True,
    )
    assert answer.status_code == 200
    assert [m.level_tag for m in answer.context["messages"]] == ["error"]
    open_rect.refresh_from_db()
    assert open_rect.state == "open"
    api = ApiClient(centre["agent"]).post(
        f"plans/rectifications/{open_rect.pk}/move", {"to": "rectifying", "version": stale}
    )
    assert api.status_code == 409
    assert api.json()["error"]["code"] == "conflict" and api.json()["error"]["message"]
    fresh = ApiClient(centre["agent"]).post(
        f"plans/rectifications/{open_rect.pk}/move",
        {"to": "rectifying", "version": open_rect.version},
    )
    assert fresh.status_code == 200


@pytest.mark.django_db
def test_merging_a_customer_with_many_care_records(centre, plan_types):
    from kefu.plans.hooks import merge_care_targets
    from kefu.plans.models import CareTarget
    from kefu.plans.tests.test_care_training import spring_festival_care, vip
    from kefu.testing.factories import make_tier

    gold = make_tier()
    kept, merged = vip(1, gold), vip(2, gold)
    plan = spring_festival_care(gold, care_action="callback")
    CareTarget.objects.bulk_create(
        CareTarget(plan=plan, customer=kept, key=f"k{i}") for i in range(1500)
    )
    CareTarget.objects.bulk_create(
        [CareTarget(plan=plan, customer=merged, key=f"k{i}") for i in range(0, 3000, 500)]
        + [CareTarget(plan=plan, customer=merged, key=f"n{i}") for i in range(4)]
    )
    moved = merge_care_targets(merged, kept, centre["supervisor"])
    assert moved == 3 + 4  # k1500, k2000, k2500 and the four n-keys; k0/k500/k1000 stay
    left = set(CareTarget.objects.filter(customer=merged).values_list("key", flat=True))
    assert left == {"k0", "k500", "k1000"}
    assert CareTarget.objects.filter(customer=kept).count() == 1507


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=1",
        "RRULE:FREQ=SECONDLY",
        "FREQ=DAILY;BYHOUR=1,2,3",
        "FREQ=DAILY;COUNT=100000",
        "FREQ=DAILY;INTERVAL=5000",
        "FREQ=WEEKLY;COUNT=0",
    ],
)
def test_rules_finer_than_a_day_or_unbounded_are_refused(text):
    from kefu.plans.recurrence import Rule, RuleError

    with pytest.raises(RuleError):
        Rule("rrule", D(2026, 1, 1), rrule=text)


def test_an_rrule_is_walked_once_and_names_each_date_once():
    import time

    from kefu.plans.recurrence import Rule, next_occurrence, nominal_dates

    rule = Rule("rrule", D(2000, 1, 1), rrule="FREQ=DAILY")
    started = time.perf_counter()
    dates = list(nominal_dates(rule, D(2027, 12, 31), since=D(2026, 1, 1)))
    assert time.perf_counter() - started < 2
    assert len(dates) == len(set(dates)) == 730
    assert dates[0] == D(2026, 1, 1) and dates[-1] == D(2027, 12, 31)
    found = next_occurrence(rule, today=D(2026, 6, 1))
    assert found is not None and found.due_on == D(2026, 6, 1)
    counted = Rule("rrule", D(2026, 1, 1), rrule="FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3")
    assert list(nominal_dates(counted, D(2026, 12, 31))) == [
        D(2026, 1, 1),
        D(2026, 1, 5),
        D(2026, 1, 8),
    ]


@pytest.mark.django_db
def test_an_hourly_rule_is_refused_with_a_message(centre, plan_types):
    from kefu.plans.models import ServicePlan
    from kefu.plans.tests.helpers import checklist

    lead = ApiClient(centre["supervisor"])
    answer = lead.post("plans", {"name": "每小时巡检", "kind": "inspection", "frequency": "rrule",
                                 "rrule": "FREQ=HOURLY", "starts_on": "2026-01-01",
                                 "checklist": checklist().pk})  # fmt: skip
    assert answer.status_code == 422
    assert "DAILY" in answer.content.decode()
    assert not ServicePlan.objects.filter(name="每小时巡检").exists()


class WorkerStopped(BaseException):
    """The process dies: nothing in the sending code catches it."""


@pytest.mark.django_db
def test_a_care_notice_is_never_sent_twice_and_a_stopped_worker_is_reported(
    centre, plan_types, monkeypatch
):
    from django.utils import timezone

    from kefu.core.models import Event
    from kefu.plans.models import CareTarget
    from kefu.plans.services.care import run_care, send_notice, sweep_notices
    from kefu.plans.tests.test_care_training import spring_festival_care, vip
    from kefu.surveys.sms import LogBackend
    from kefu.testing.factories import make_tier

    LogBackend.outbox.clear()
    gold = make_tier()
    vip(1, gold, phone="+8613800000001")
    spring_festival_care(gold, care_action="notice")
    generate_due(D(2027, 2, 11))
    assert run_care() == 1  # the notice job is lost: nothing commits in this test
    target = CareTarget.objects.get()
    assert target.notice_outcome == "planned"

    def send_then_die(self, phone, text):
        LogBackend.outbox.append((phone, text))
        raise WorkerStopped

    monkeypatch.setattr(LogBackend, "send", send_then_die)
    with pytest.raises(WorkerStopped):
        send_notice(target.pk)
    monkeypatch.undo()
    target.refresh_from_db()
    assert target.notice_outcome == "sending" and target.notice_claimed_at is not None
    assert send_notice(target.pk) == "skipped"  # a retry sends nothing
    assert sweep_notices() == (0, 0)  # the claim is fresh: the worker may still be sending
    later = timezone.now() + dt.timedelta(minutes=20)
    assert sweep_notices(now=later) == (0, 1)
    target.refresh_from_db()
    assert target.notice_outcome == "unknown"
    assert Event.objects.filter(action="care_notice_unknown").count() == 1
    assert sweep_notices(now=later) == (0, 0)
    assert len(LogBackend.outbox) == 1


@pytest.mark.django_db
def test_a_lost_notice_job_is_queued_again(centre, plan_types, monkeypatch):
    from django.db import transaction
    from django.utils import timezone

    from kefu.plans.models import CareTarget
    from kefu.plans.services.care import run_care, sweep_notices
    from kefu.plans.tests.test_care_training import spring_festival_care, vip
    from kefu.surveys.sms import LogBackend
    from kefu.testing.factories import make_tier

    LogBackend.outbox.clear()
    gold = make_tier()
    vip(1, gold, phone="+8613800000001")
    vip(2, gold, phone="+8613800000002")
    spring_festival_care(gold, care_action="notice")
    generate_due(D(2027, 2, 11))
    assert run_care() == 2  # both jobs lost (nothing commits here)
    assert set(CareTarget.objects.values_list("notice_outcome", flat=True)) == {"planned"}
    assert sweep_notices() == (0, 0)  # just planned: the job may still come
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
    later = timezone.now() + dt.timedelta(minutes=20)
    assert sweep_notices(now=later) == (2, 0)
    assert set(CareTarget.objects.values_list("notice_outcome", flat=True)) == {"sent"}
    assert sweep_notices(now=later) == (0, 0)
    assert len(LogBackend.outbox) == 2
