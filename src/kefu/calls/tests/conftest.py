import pytest
from django.db import transaction


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch):
    """Tests run inside one transaction that never commits; run what a service schedules for
    after commit (the next dispatch, pushes) at once, as it would run right after its commit."""

    def at_once(func, using=None, robust=False):
        func()

    monkeypatch.setattr(transaction, "on_commit", at_once)


@pytest.fixture(autouse=True)
def _english():
    """Service messages are checked in English (requests pick each user's language)."""
    from django.utils import translation

    with translation.override("en"):
        yield
