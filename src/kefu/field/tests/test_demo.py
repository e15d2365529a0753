import pytest

from kefu.core.demo import seed_demo
from kefu.field.models import Asset, Location, Movement, Part, RemoteSession, Stock, Visit

pytestmark = pytest.mark.django_db


def test_the_demo_has_assets_stock_and_visits_in_every_state():
    seed_demo(scale=0.2)
    assert Part.objects.count() == 12
    assert Location.objects.filter(kind="van").count() == 6  # one per engineer
    assert not Stock.objects.filter(on_hand__lt=0).exists()
    assert Movement.objects.filter(kind="transfer_out").exists()
    assert Asset.objects.filter(service_level__isnull=False).count() >= 5
    assert set(Visit.objects.values_list("state", flat=True)) == set(Visit.State.values)
    assert RemoteSession.objects.exists()
