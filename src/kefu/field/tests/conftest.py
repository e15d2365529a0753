import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch):
    """Run what a service schedules for after commit at once (tests never commit)."""

    def at_once(func, using=None, robust=False):
        func()

    monkeypatch.setattr(transaction, "on_commit", at_once)


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _working_hours():
    """Visits are dispatched for an hour from now and an engineer's day is the local date: run at
    ten in the morning, so a run late in the evening does not put the visit on tomorrow's list."""
    import time_machine

    morning = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    with time_machine.travel(morning, tick=True):
        yield


@pytest.fixture
def field(centre):
    """The centre plus a 7×24 service level, a covered asset of a customer with an open work
    order, a warehouse and a van with one part in stock."""
    from kefu.field.models import Asset, Location, Part, ServiceLevel
    from kefu.field.stock import receive, set_minimum
    from kefu.testing.factories import make_customer, make_ticket

    level = ServiceLevel.objects.create(
        name="金牌",
        calendar=None,
        arrival_minutes=120,
        workaround_minutes=240,
        resolution_minutes=480,
    )
    customer = make_customer("华中电力设备公司", phone="13800138000")
    today = timezone.localdate()
    asset = Asset.objects.create(
        customer=customer,
        product="配电终端",
        model="DTU-3000",
        serial="DTU2024001",
        address="武汉市中山路 1 号 开闭所",
        installed_on=today - dt.timedelta(days=400),
        warranty_until=today + dt.timedelta(days=300),
        service_level=level,
    )
    ticket = make_ticket(actor=centre["agent"], customer=customer.pk, title="配电终端离线")
    warehouse = Location.objects.create(name="中心备件库", keeper=centre["supervisor"])
    van = Location.objects.create(name="服务车", kind=Location.Kind.VAN, keeper=centre["engineer"])
    part = Part.objects.create(code="DTU-PS-48", name="电源模块", lead_time_days=14)
    with transaction.atomic():
        receive(actor=centre["supervisor"], part=part, location=warehouse, qty=5)
        set_minimum(actor=centre["supervisor"], part=part, location=warehouse, min_qty=2)
    return {
        **centre, "level": level, "customer": customer, "asset": asset, "ticket": ticket,
        "warehouse": warehouse, "van": van, "part": part,
    }  # fmt: skip


def window(hours_from_now: float = 1, length: float = 2):
    start = timezone.now() + dt.timedelta(hours=hours_from_now)
    return start, start + dt.timedelta(hours=length)
