"""A failed checklist item becomes a rectification with a deadline, an owner, evidence and a
sign-off; past its deadline it escalates, once a day, with a word to the owner's lead."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from kefu.core.models import Event, Notification
from kefu.plans.models import ChecklistResult, Rectification
from kefu.plans.services.checklists import check_item
from kefu.plans.services.rectifications import escalate_overdue, transition_rectification
from kefu.plans.services.schedule import generate_due
from kefu.plans.tests.helpers import inspection_plan

D = dt.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def tz_at(*args):
    from django.utils import timezone

    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def inspection(centre, plan_types, clock_at):
    from kefu.accounts.models import Membership

    Membership.objects.filter(user=centre["supervisor"]).delete()
    Membership.objects.create(team=centre["second"], user=centre["supervisor"], is_lead=True)
    clock_at(tz_at(2026, 6, 1, 9))
    plan = inspection_plan(
        assignee=centre["engineer"], inspector=centre["supervisor"], rectify_days=3
    )
    (made,) = generate_due(D(2026, 6, 1))
    return {"plan": plan, "ticket": made.ticket, **centre}


def _item(ticket, position):
    return ChecklistResult.objects.get(run__ticket=ticket, item__position=position)


@pytest.mark.django_db
def test_a_failed_item_opens_a_rectification_for_the_plan_owner(inspection, at_once):
    ticket, engineer = inspection["ticket"], inspection["engineer"]
    # when
    check_item(actor=engineer, result=_item(ticket, 1), value="pass")
    check_item(actor=engineer, result=_item(ticket, 2), value="fail", note="灭火器过期",
               photo=SimpleUploadedFile("p.png", PNG, content_type="image/png"))  # fmt: skip
    # then
    rect = Rectification.objects.get()
    assert rect.hazard == "消防器材在位: 灭火器过期"
    assert rect.owner == engineer
    assert rect.inspector == inspection["supervisor"]
    assert rect.state == "open"
    assert rect.deadline == tz_at(2026, 6, 4, 23, 59, 59)
    assert rect.ticket.ticket_type.code == "rectification"
    assert rect.ticket.parent == ticket
    assert rect.source_ticket == ticket
    failed = _item(ticket, 2)
    assert failed.photo is not None and failed.photo.is_public is False
    assert Event.objects.filter(action="finding_raised", object_id=ticket.pk).count() == 1
    # a second tick of the same failed item raises nothing new
    check_item(actor=engineer, result=failed, value="fail", note="灭火器过期（已报修）")
    assert Rectification.objects.count() == 1


@pytest.mark.django_db
def test_a_failure_needs_a_note_and_a_finished_work_order_is_frozen(inspection):
    ticket, engineer = inspection["ticket"], inspection["engineer"]
    with pytest.raises(ValidationError) as exc:
        check_item(actor=engineer, result=_item(ticket, 1), value="fail")
    assert "note" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        check_item(actor=inspection["liaison"], result=_item(ticket, 1), value="pass")
    assert _item(ticket, 1).result == "pending"


@pytest.mark.django_db
def test_the_owner_submits_evidence_and_only_the_inspector_signs_off(inspection, at_once):
    ticket, engineer, lead = inspection["ticket"], inspection["engineer"], inspection["supervisor"]
    check_item(actor=engineer, result=_item(ticket, 3), value="fail", note="应急灯不亮")
    rect = Rectification.objects.get()
    transition_rectification(actor=engineer, rect=rect, to="rectifying")
    with pytest.raises(ValidationError) as exc:
        transition_rectification(actor=engineer, rect=rect, to="submitted", note="已更换")
    assert "evidence" in exc.value.message_dict
    transition_rectification(
        actor=engineer, rect=rect, to="submitted", note="已更换灯管",
        evidence=SimpleUploadedFile("after.png", PNG, content_type="image/png"),
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        transition_rectification(actor=engineer, rect=rect, to="signed_off")
    transition_rectification(actor=lead, rect=rect, to="returned", note="请附上测试照片")
    rect.refresh_from_db()
    assert (rect.state, rect.return_reason) == ("returned", "请附上测试照片")
    transition_rectification(actor=engineer, rect=rect, to="submitted", note="已测试")
    transition_rectification(actor=lead, rect=rect, to="signed_off")
    rect.refresh_from_db()
    assert rect.state == "signed_off"
    assert rect.signed_off_by == lead
    assert rect.next_escalation_at is None
    assert rect.ticket.status == "resolved"
    actions = list(
        Event.objects.filter(object_id=rect.ticket_id, action__startswith="rectification_")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "rectification_opened", "rectification_start", "rectification_submit",
        "rectification_return", "rectification_submit", "rectification_sign_off",
    ]  # fmt: skip
    with pytest.raises(ValidationError):
        transition_rectification(actor=lead, rect=rect, to="rectifying")


@pytest.mark.django_db
def test_a_rectification_past_its_deadline_escalates_once_a_day(inspection, clock_at, at_once):
    ticket, engineer, lead = inspection["ticket"], inspection["engineer"], inspection["supervisor"]
    check_item(actor=engineer, result=_item(ticket, 1), value="fail", note="温度过高")
    rect = Rectification.objects.get()
    # before the deadline: nothing
    clock_at(tz_at(2026, 6, 4, 23))
    assert escalate_overdue() == []
    # just past it: level 1, the owner and the owner's lead are told
    clock_at(tz_at(2026, 6, 5, 8))
    assert escalate_overdue() == [rect.pk]
    assert escalate_overdue() == []  # the same sweep again does nothing
    rect.refresh_from_db()
    assert rect.escalation_level == 1
    told = set(
        Notification.objects.filter(kind="rectification_overdue").values_list("user", flat=True)
    )
    assert told == {engineer.pk, lead.pk}
    # a day later: level 2
    clock_at(tz_at(2026, 6, 6, 8, 30))
    assert escalate_overdue() == [rect.pk]
    rect.refresh_from_db()
    assert rect.escalation_level == 2
    levels = [
        e.data["level"]
        for e in Event.objects.filter(action="rectification_escalated").order_by("pk")
    ]
    assert levels == [1, 2]
    # submitted for sign-off: the owner has done their part, no more escalation
    transition_rectification(
        actor=engineer, rect=rect, to="submitted", note="已降温",
        evidence=SimpleUploadedFile("a.png", PNG, content_type="image/png"),
    )  # fmt: skip
    clock_at(tz_at(2026, 6, 8, 9))
    assert escalate_overdue() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_escalate_each_rectification_once(clock_at):
    from django.utils import timezone

    from kefu.plans.defaults import install
    from kefu.plans.services.rectifications import create_rectification
    from kefu.testing.factories import frontline_setup

    centre = frontline_setup()
    install()
    clock_at(tz_at(2026, 6, 1, 9))
    for i in range(15):
        create_rectification(
            actor=centre["supervisor"], hazard=f"隐患{i}", owner=centre["engineer"],
            deadline=timezone.now() + dt.timedelta(days=1),
        )  # fmt: skip
    clock_at(tz_at(2026, 6, 3, 9))
    barrier = threading.Barrier(4)
    done: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            done.extend(escalate_overdue(batch=4))
            done.extend(escalate_overdue(batch=4))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(done) == sorted(Rectification.objects.values_list("pk", flat=True))
    assert set(Rectification.objects.values_list("escalation_level", flat=True)) == {1}
    assert Event.objects.filter(action="rectification_escalated").count() == 15


@pytest.mark.django_db
def test_the_work_order_is_finished_by_the_sign_off_only(inspection, at_once):
    from kefu.tickets.services import add_reply, transition_ticket

    ticket, engineer = inspection["ticket"], inspection["engineer"]
    check_item(actor=engineer, result=_item(ticket, 1), value="fail", note="温度过高")
    rect = Rectification.objects.get()
    add_reply(actor=engineer, ticket=rect.ticket, body="已处理")
    with pytest.raises(ValidationError):
        transition_ticket(actor=engineer, ticket=rect.ticket, to="resolved")
    rect.ticket.refresh_from_db()
    assert rect.ticket.status == "in_progress"
    transition_ticket(actor=engineer, ticket=rect.ticket, to="cancelled", reason="误报")
    rect.refresh_from_db()
    assert rect.next_escalation_at is None
