import pytest


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def plan_types(db):
    from kefu.plans.defaults import install

    install()
