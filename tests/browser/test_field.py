"""Field service in a real browser: the engineer's phone page at 375 px (leave, check in with
the phone's position, check out with the report, a photo and the parts used, the customer's
confirmation), and the work order's field panel loading after the page."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from kefu.field import services
from kefu.field.models import Asset, Location, Part, ServiceLevel, Stock, Visit
from kefu.field.stock import receive, reserve
from kefu.testing.factories import PASSWORD, frontline_setup, make_customer, make_ticket
from kefu.testing.fixtures import PAGE_TIMEOUT_MS, sign_in, wait_for_live

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99="
    b"\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _setup():
    """The records, made in a thread of their own: Playwright runs an event loop in this one,
    and the services' live broadcasts must not run inside it."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def make():
        try:
            return _records()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(make).result()


def _records():
    centre = frontline_setup()
    level = ServiceLevel.objects.create(
        name="金牌", arrival_minutes=120, workaround_minutes=240, resolution_minutes=480
    )
    customer = make_customer("华中电力设备公司", phone="13800138000")
    asset = Asset.objects.create(
        customer=customer, product="配电终端", model="DTU-3000", serial="DTU2024001",
        address="武汉市中山路 1 号 开闭所",
        warranty_until=timezone.localdate() + dt.timedelta(days=300), service_level=level,
    )  # fmt: skip
    ticket = make_ticket(actor=centre["agent"], customer=customer.pk, title="配电终端离线")
    van = Location.objects.create(name="服务车", kind=Location.Kind.VAN, keeper=centre["engineer"])
    part = Part.objects.create(code="DTU-PS-48", name="电源模块")
    start = timezone.now() + dt.timedelta(minutes=30)
    with transaction.atomic():
        receive(actor=centre["supervisor"], part=part, location=van, qty=2)
        reservation = reserve(
            actor=centre["engineer"], ticket=ticket, part=part, location=van, qty=1
        )
        visit = services.dispatch_visit(
            actor=centre["agent"], ticket=ticket, engineer=centre["engineer"], window_start=start,
            window_end=start + dt.timedelta(hours=2), asset=asset,
        )  # fmt: skip
    return centre, ticket, visit, reservation


@pytest.fixture
def phone(browser):
    """A phone-sized page (375×667) whose position the browser may share."""
    context = browser.new_context(
        viewport={"width": 375, "height": 667},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 30.5931, "longitude": 114.3055, "accuracy": 15},
        permissions=["geolocation"],
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()
    assert not errors, errors


def _fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide"


def test_the_engineer_checks_in_and_out_on_a_phone(phone, asgi_server, tmp_path):
    centre, ticket, visit, reservation = _setup()
    sign_in(phone, asgi_server.url, centre["engineer"].username, PASSWORD)
    # my visits on the visit's day (today, unless the suite runs in the last half hour of it)
    day = timezone.localtime(visit.window_start).date().isoformat()
    phone.goto(f"{asgi_server.url}/field/?day={day}")
    card = phone.locator("[data-testid=my-visit]")
    assert ticket.number in card.inner_text()
    _fits(phone)
    card.click()
    phone.wait_for_selector("[data-testid=start-travel]")
    _fits(phone)
    # leave, then check in: the phone's position goes with the check-in
    phone.click("[data-testid=start-travel]")
    phone.wait_for_selector("[data-testid=check-in]")
    phone.click("[data-testid=check-in]")
    phone.wait_for_selector("[data-testid=check-out-form]")
    assert "30.593100" in phone.locator("[data-testid=visit-arrived]").inner_text()
    _fits(phone)
    # check out with the report, a photo and the part used
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG)
    phone.fill("#report", "更换电源模块，设备恢复在线，观察 30 分钟正常。")
    phone.select_option("#outcome", "resolved")
    phone.fill(f"#used-{reservation.pk}", "1")
    phone.set_input_files("#photos", str(photo))
    phone.click("[data-testid=check-out]")
    phone.wait_for_selector("[data-testid=confirm-box]")
    assert phone.locator(".kefu-field-photos img").count() == 1
    _fits(phone)
    # the customer ticks on the engineer's phone
    phone.fill("#name", "李工")
    phone.check("#agree")
    phone.click("[data-testid=confirm-on-site]")
    phone.wait_for_selector("[data-testid=confirmed]")
    visit.refresh_from_db()
    assert visit.state == Visit.State.CONFIRMED and visit.confirmed_name == "李工"
    assert str(visit.arrival_lat) == "30.593100"
    assert Stock.objects.get(part=reservation.part).on_hand == 1


def test_the_work_orders_field_panel_loads_after_the_page(page, asgi_server):
    centre, ticket, visit, _reservation = _setup()
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    # the page's live socket is open before the test ends (a handshake racing the database's
    # clean-up would be a server error)
    wait_for_live(page, f"ticket-{ticket.pk}")
    page.wait_for_selector("[data-testid=field-visit]")
    assert "DTU2024001" in page.locator("[data-testid=field-panel]").inner_text()
    page.click("[data-testid=field-dispatch]")
    page.wait_for_selector("[data-testid=dispatch-form]")
