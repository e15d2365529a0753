import pytest
from django.db import transaction


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def at_once(monkeypatch):
    """Run what a service schedules for after commit at once (tests in a transaction never
    commit)."""

    def run(func, using=None, robust=False):
        func()

    monkeypatch.setattr(transaction, "on_commit", run)


@pytest.fixture
def plan_types(db):
    from kefu.plans.defaults import install

    install()


@pytest.fixture
def clock_at():
    """Move time: ``clock_at(dt.datetime(...))``; later calls move it again."""
    import time_machine

    travellers = []

    def move(when):
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield move
    for traveller in travellers:
        traveller.stop()
