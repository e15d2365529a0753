import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kefu.core.models import Event, Notification
from kefu.field import deadlines, services
from kefu.field.models import Deadline, Movement, Stock, Visit
from kefu.field.stock import reserve
from kefu.field.tests.conftest import window

S = Visit.State
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def dispatch(f, **kw):
    start, end = window()
    return services.dispatch_visit(
        actor=f["agent"], ticket=f["ticket"], engineer=f["engineer"], window_start=start,
        window_end=end, asset=kw.pop("asset", f["asset"]), **kw,
    )  # fmt: skip


def actions(ticket):
    return list(
        Event.objects.filter(object_type="ticket", object_id=ticket.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_dispatch_starts_the_contract_deadlines_and_tells_the_engineer(field):
    # when
    visit = dispatch(field)
    # then
    assert visit.state == S.SCHEDULED
    assert visit.address == "武汉市中山路 1 号 开闭所"  # the asset's site
    assert visit.contact_name == "华中电力设备公司"
    kinds = dict(Deadline.objects.filter(ticket=field["ticket"]).values_list("kind", "due_at"))
    created = field["ticket"].created_at
    assert kinds == {
        "arrival": created + dt.timedelta(minutes=120),
        "workaround": created + dt.timedelta(minutes=240),
        "resolution": created + dt.timedelta(minutes=480),
    }
    assert actions(field["ticket"])[-2:] == ["visit_scheduled", "field_deadlines_started"]
    note = Notification.objects.get(user=field["engineer"])
    assert note.kind == "visit_scheduled" and field["ticket"].number in note.title


def test_an_expired_warranty_starts_no_deadline(field):
    asset = field["asset"]
    asset.warranty_until = timezone.localdate() - dt.timedelta(days=1)
    asset.save()
    dispatch(field)
    assert not Deadline.objects.exists()


def test_bad_dispatches_are_refused_whole(field):
    start, end = window()
    with pytest.raises(ValidationError) as err:
        services.dispatch_visit(
            actor=field["agent"], ticket=field["ticket"], engineer=field["agent"],
            window_start=end, window_end=start, address="",
        )  # fmt: skip
    assert set(err.value.message_dict) == {"engineer", "window_end", "address"}
    assert not Visit.objects.exists()


def test_only_dispatchers_dispatch(field):
    start, end = window()
    with pytest.raises(PermissionDenied):
        services.dispatch_visit(
            actor=field["liaison"], ticket=field["ticket"], engineer=field["engineer"],
            window_start=start, window_end=end, asset=field["asset"],
        )  # fmt: skip
    assert not Visit.objects.exists()


def test_a_visit_from_travel_to_the_customers_confirmation(field):
    visit = dispatch(field)
    eng = field["engineer"]
    r = reserve(
        actor=eng, ticket=field["ticket"], part=field["part"], location=field["warehouse"], qty=2
    )
    # when
    services.transition_visit(actor=eng, visit=visit, to=S.EN_ROUTE)
    services.transition_visit(
        actor=eng, visit=visit, to=S.ON_SITE, lat="30.593100", lng="114.305500", accuracy="12.5"
    )
    services.transition_visit(
        actor=eng, visit=visit, to=S.DONE, report="更换电源模块，设备恢复在线。",
        outcome="resolved", used={r.pk: "1"},
        photos=[SimpleUploadedFile("现场.png", PNG, content_type="image/png")],
    )  # fmt: skip
    services.transition_visit(actor=eng, visit=visit, to=S.CONFIRMED, name="李工", comment="满意")
    # then
    visit.refresh_from_db()
    assert visit.state == S.CONFIRMED
    assert (str(visit.arrival_lat), str(visit.arrival_lng), visit.arrival_accuracy) == (
        "30.593100",
        "114.305500",
        12,
    )
    assert visit.confirmed_name == "李工" and visit.confirmed_via == "on_site"
    assert visit.photos.get().filename == "现场.png"
    stock = Stock.objects.get(part=field["part"], location=field["warehouse"])
    assert (stock.on_hand, stock.reserved) == (4, 1)
    met = dict(Deadline.objects.filter(ticket=field["ticket"]).values_list("kind", "met_at"))
    assert all(met.values())
    assert [a for a in actions(field["ticket"]) if a.startswith(("visit_", "ticket_onsite"))] == [
        "visit_scheduled", "visit_travel_started", "visit_arrived", "ticket_onsite_arrived",
        "visit_photos_added", "visit_departed", "visit_confirmed",
    ]  # fmt: skip


def test_check_out_needs_a_report_and_an_outcome_and_changes_nothing_without(field):
    visit = dispatch(field)
    eng = field["engineer"]
    services.transition_visit(actor=eng, visit=visit, to=S.ON_SITE)
    with pytest.raises(ValidationError) as err:
        services.transition_visit(actor=eng, visit=visit, to=S.DONE, report=" ", outcome="maybe")
    assert set(err.value.message_dict) == {"report", "outcome"}
    visit.refresh_from_db()
    assert visit.state == S.ON_SITE and visit.departed_at is None


def test_using_more_than_reserved_undoes_the_whole_check_out(field):
    visit = dispatch(field)
    eng = field["engineer"]
    r = reserve(
        actor=eng, ticket=field["ticket"], part=field["part"], location=field["warehouse"], qty=1
    )
    services.transition_visit(actor=eng, visit=visit, to=S.ON_SITE)
    with pytest.raises(ValidationError):
        services.transition_visit(
            actor=eng, visit=visit, to=S.DONE, report="done", outcome="resolved", used={r.pk: 3}
        )
    visit.refresh_from_db()
    assert visit.state == S.ON_SITE
    assert Movement.objects.filter(kind="consume").count() == 0


def test_a_photo_must_be_a_photo(field):
    visit = dispatch(field)
    eng = field["engineer"]
    services.transition_visit(actor=eng, visit=visit, to=S.ON_SITE)
    fake = SimpleUploadedFile("report.pdf", b"%PDF-1.4 hello", content_type="application/pdf")
    with pytest.raises(ValidationError, match="not a photo"):
        services.add_photos(actor=eng, visit=visit, uploads=[fake])
    liar = SimpleUploadedFile("x.png", b"GIF89a" + b"\x00" * 20, content_type="image/png")
    with pytest.raises(ValidationError, match="does not contain"):
        services.add_photos(actor=eng, visit=visit, uploads=[liar])
    assert not visit.photos.exists()


def test_only_the_visits_engineer_moves_it_and_only_along_the_table(field):
    visit = dispatch(field)
    with pytest.raises(PermissionDenied):
        services.transition_visit(actor=field["agent"], visit=visit, to=S.EN_ROUTE)
    with pytest.raises(ValidationError, match="cannot become"):
        services.transition_visit(actor=field["engineer"], visit=visit, to=S.DONE)
    visit.refresh_from_db()
    assert visit.state == S.SCHEDULED


def test_cancelling_needs_a_reason_and_tells_the_engineer(field):
    visit = dispatch(field)
    with pytest.raises(ValidationError):
        services.transition_visit(actor=field["agent"], visit=visit, to=S.CANCELLED)
    services.transition_visit(actor=field["agent"], visit=visit, to=S.CANCELLED, reason="客户改约")
    visit.refresh_from_db()
    assert visit.state == S.CANCELLED
    assert Notification.objects.filter(user=field["engineer"], kind="visit_cancelled").exists()


def test_the_confirmation_link_confirms_once(field):
    visit = dispatch(field)
    eng = field["engineer"]
    services.transition_visit(actor=eng, visit=visit, to=S.ON_SITE)
    services.transition_visit(actor=eng, visit=visit, to=S.DONE, report="ok", outcome="workaround")
    token = services.confirm_token(visit)
    assert services.visit_from_token(token) == visit
    assert services.visit_from_token(token + "x") is None
    services.transition_visit(actor=None, visit=visit, to=S.CONFIRMED, name="王女士", via="link")
    with pytest.raises(ValidationError):
        services.transition_visit(
            actor=None, visit=visit, to=S.CONFIRMED, name="王女士", via="link"
        )
    visit.refresh_from_db()
    assert visit.confirmed_via == "link"


def test_a_missed_arrival_is_recorded_once_and_escalated(field):
    dispatch(field)
    before = field["ticket"].priority
    later = field["ticket"].created_at + dt.timedelta(minutes=121)
    # when
    fired = deadlines.sweep(later)
    again = deadlines.sweep(later)
    # then
    assert (fired, again) == (1, 0)
    arrival = Deadline.objects.get(kind="arrival")
    assert arrival.breached_at == later
    assert actions(field["ticket"]).count("field_deadline_missed") == 1
    told = set(
        Notification.objects.filter(kind="field_deadline_missed").values_list("user", flat=True)
    )
    assert {field["engineer"].pk, field["supervisor"].pk} <= told
    field["ticket"].refresh_from_db()
    assert field["ticket"].priority == before - 1


def test_resolving_the_work_order_meets_its_deadlines(field):
    from kefu.tickets.services import transition_ticket

    dispatch(field)
    ticket = field["ticket"]
    transition_ticket(actor=field["agent"], ticket=ticket, to="in_progress")
    ticket.refresh_from_db()
    transition_ticket(
        actor=field["agent"], ticket=ticket, to="resolved", reply="已处理完毕。",
    )  # fmt: skip
    rows = dict(Deadline.objects.values_list("kind", "met_at"))
    assert rows["arrival"] is None
    assert rows["workaround"] is not None and rows["resolution"] is not None


def test_remote_support_is_logged_and_counts_as_the_sla_milestone(field):
    ticket = field["ticket"]
    start = timezone.now() - dt.timedelta(minutes=1)
    session = services.log_remote_session(
        actor=field["engineer"], ticket=ticket, tool="desktop", tool_detail="向日葵 123 456",
        started_at=start,
    )  # fmt: skip
    assert session.ended_at is None
    services.end_remote_session(actor=field["engineer"], session=session, outcome="workaround")
    session.refresh_from_db()
    assert session.outcome == "workaround" and session.ended_at >= start
    assert actions(ticket)[-3:] == [
        "remote_session_logged", "ticket_remote_started", "remote_session_ended",
    ]  # fmt: skip
    with pytest.raises(ValidationError):
        services.end_remote_session(actor=field["engineer"], session=session, outcome="resolved")


def test_a_remote_session_with_an_end_needs_its_outcome(field):
    start = timezone.now()
    with pytest.raises(ValidationError) as err:
        services.log_remote_session(
            actor=field["engineer"], ticket=field["ticket"], tool="phone", started_at=start,
            ended_at=start - dt.timedelta(minutes=1), outcome="resolved",
        )  # fmt: skip
    assert "ended_at" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.log_remote_session(actor=field["engineer"], ticket=field["ticket"], tool="fax")
