import pytest
from django.db import transaction


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
