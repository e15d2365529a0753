import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.field.models import Asset, Visit
from kefu.testing.factories import ApiClient, make_portal_user


def iso(value):
    return value.isoformat()


def test_dispatch_and_the_visits_moves_through_the_api(field):
    start = timezone.now() + dt.timedelta(hours=1)
    agent = ApiClient(field["agent"])
    # when
    r = agent.post(
        f"tickets/{field['ticket'].number}/visits",
        {"engineer": field["engineer"].pk, "window_start": iso(start),
         "window_end": iso(start + dt.timedelta(hours=2)), "asset": field["asset"].pk},
    )  # fmt: skip
    # then
    assert r.status_code == 201, r.content
    visit_id = r.json()["id"]
    eng = ApiClient(field["engineer"])
    r = eng.post(
        f"field/visits/{visit_id}/transitions", {"to": "on_site", "lat": 30.1, "lng": 114.2}
    )
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "on_site" and r.json()["arrival_lat"] == 30.1
    r = eng.post(
        f"field/visits/{visit_id}/transitions", {"to": "done", "report": "", "outcome": "x"}
    )
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"report", "outcome"}
    r = agent.get(f"tickets/{field['ticket'].number}/field")
    assert r.status_code == 200
    body = r.json()
    assert [v["state"] for v in body["visits"]] == ["on_site"]
    assert {d["kind"]: d["met_at"] is not None for d in body["deadlines"]} == {
        "arrival": True, "workaround": False, "resolution": False,
    }  # fmt: skip
    assert body["assets"][0]["serial"] == "DTU2024001" and body["assets"][0]["covered"] is True


def test_the_api_refuses_bad_input_with_a_message(field):
    agent = ApiClient(field["agent"])
    r = agent.post(
        f"tickets/{field['ticket'].number}/visits",
        {"engineer": True, "window_start": "tomorrow", "window_end": "x"},
    )
    assert r.status_code == 422
    r = agent.post("field/visits/99999999999999999999/transitions", {"to": "on_site"})
    assert r.status_code in (404, 422)
    r = agent.post(
        f"tickets/{field['ticket'].number}/part-reservations",
        {"part": field["part"].pk, "location": field["warehouse"].pk, "qty": 99},
    )
    assert r.status_code == 422 and "qty" in r.json()["error"]["fields"]
    assert not Visit.objects.exists()


def test_customers_and_outsiders_see_nothing(field):
    portal = ApiClient(make_portal_user(field["customer"]))
    assert portal.get("field/visits").status_code == 403
    assert portal.get(f"field/assets/{field['asset'].pk}").status_code == 404
    assert portal.get(f"tickets/{field['ticket'].number}/field").status_code == 404
    liaison = ApiClient(field["liaison"])
    assert liaison.get(f"field/assets/{field['asset'].pk}").status_code == 404
    outsider = ApiClient(field["outsider"])  # an agent of another team
    assert outsider.get(f"tickets/{field['ticket'].number}/field").status_code == 404


def test_assets_through_the_api(field):
    api = ApiClient(field["agent"])
    r = api.post(
        "field/assets",
        {"customer": field["customer"].pk, "product": "智能电表", "model": "DDZY-1型",
         "serial": "MTR0001", "installed_on": "2025-01-10", "warranty_until": "2024-01-01"},
    )  # fmt: skip
    assert r.status_code == 422 and "warranty_until" in r.json()["error"]["fields"]
    r = api.post(
        "field/assets",
        {"customer": field["customer"].pk, "product": "智能电表", "model": "DDZY-1型",
         "serial": "MTR0001", "contract_number": "FW-2025-01", "contract_until": "2027-12-31",
         "service_level": field["level"].pk},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    asset_id = r.json()["id"]
    assert r.json()["covered"] is True
    r = api.patch(f"field/assets/{asset_id}", {"address": "武汉市长江路 8 号"})
    assert r.status_code == 200 and r.json()["address"] == "武汉市长江路 8 号"
    dup = api.patch(f"field/assets/{asset_id}", {"serial": "DTU2024001", "model": "DTU-3000"})
    assert dup.status_code == 422
    assert Asset.objects.get(pk=asset_id).serial == "MTR0001"


def test_parts_and_stock_through_the_api(field):
    sup = ApiClient(field["supervisor"])
    r = sup.post(
        f"field/parts/{field['part'].pk}/transfer",
        {"source": field["warehouse"].pk, "target": field["van"].pk, "qty": 4},
    )
    assert r.status_code == 200, r.content
    by_location = {s["location"]: s for s in r.json()["stock"]}
    assert by_location[field["warehouse"].pk]["available"] == 1
    assert by_location[field["warehouse"].pk]["low"] is True
    low = sup.get("field/low-stock").json()
    assert [(x["part_code"], x["available"], x["suggested_order"]) for x in low] == [
        ("DTU-PS-48", 1, 1)
    ]
    agent = ApiClient(field["agent"])
    r = agent.post(
        f"field/parts/{field['part'].pk}/receive", {"location": field["van"].pk, "qty": 1}
    )
    assert r.status_code == 403


def test_visit_list_within_its_query_budget(field):
    api = ApiClient(field["agent"])
    start = timezone.now() + dt.timedelta(hours=1)
    for _ in range(5):
        api.post(
            f"tickets/{field['ticket'].number}/visits",
            {"engineer": field["engineer"].pk, "window_start": iso(start),
             "window_end": iso(start + dt.timedelta(hours=2)), "address": "武汉市中山路 2 号"},
        )  # fmt: skip
    api.get("field/visits")
    with CaptureQueriesContext(connection) as queries:
        r = api.get("field/visits", {"limit": 3})
    assert r.status_code == 200 and len(r.json()["items"]) == 3 and r.json()["next_cursor"]
    assert len(queries) <= 8, [q["sql"][:80] for q in queries]
    r2 = api.get("field/visits", {"limit": 3, "cursor": r.json()["next_cursor"]})
    assert len(r2.json()["items"]) == 2


def test_a_work_orders_field_records_within_their_query_budget(field):
    api = ApiClient(field["agent"])
    start = timezone.now() + dt.timedelta(hours=1)
    ref = field["ticket"].number
    for _ in range(3):
        api.post(
            f"tickets/{ref}/visits",
            {"engineer": field["engineer"].pk, "window_start": iso(start),
             "window_end": iso(start + dt.timedelta(hours=2)), "asset": field["asset"].pk},
        )  # fmt: skip
        api.post(
            f"tickets/{ref}/part-reservations",
            {"part": field["part"].pk, "location": field["warehouse"].pk, "qty": 1},
        )
    api.get(f"tickets/{ref}/field")
    with CaptureQueriesContext(connection) as queries:
        r = api.get(f"tickets/{ref}/field")
    assert r.status_code == 200 and len(r.json()["visits"]) == 3
    assert len(r.json()["reservations"]) == 3 and len(r.json()["deadlines"]) == 3
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]
