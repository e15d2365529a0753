import datetime as dt

from django.urls import reverse
from django.utils import timezone

from kefu.field import services
from kefu.field.models import Asset, Movement, Visit
from kefu.field.tests.conftest import window

S = Visit.State


def dispatch(f):
    start, end = window()
    return services.dispatch_visit(
        actor=f["agent"], ticket=f["ticket"], engineer=f["engineer"], window_start=start,
        window_end=end, asset=f["asset"],
    )  # fmt: skip


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_dispatch_from_the_work_order(client, field):
    client.force_login(field["agent"])
    number = field["ticket"].number
    page = client.get(reverse("tickets:detail", args=[number])).content.decode()
    assert reverse("field:panel", args=[number]) in page  # loaded after the page
    panel = client.get(reverse("field:panel", args=[number])).content.decode()
    assert "DTU2024001" in panel and reverse("field:dispatch", args=[number]) in panel
    start = timezone.now() + dt.timedelta(hours=2)
    # when
    r = client.post(
        reverse("field:dispatch", args=[number]),
        {"engineer": field["engineer"].pk, "window_start": local(start),
         "window_end": local(start + dt.timedelta(hours=2)), "asset": field["asset"].pk},
    )  # fmt: skip
    # then
    assert r.status_code == 302
    visit = Visit.objects.get()
    assert visit.engineer == field["engineer"] and visit.asset == field["asset"]


def test_a_bad_dispatch_form_says_what_is_wrong(client, field):
    client.force_login(field["agent"])
    r = client.post(
        reverse("field:dispatch", args=[field["ticket"].number]),
        {"engineer": "³", "window_start": "yesterday", "window_end": "", "asset": "x"},
    )
    assert r.status_code == 400
    assert "invalid-feedback" in r.content.decode()
    assert not Visit.objects.exists()


def test_the_engineers_day_and_the_visit_moves(client, field):
    visit = dispatch(field)
    client.force_login(field["engineer"])
    today = client.get(reverse("field:today")).content.decode()
    assert field["ticket"].number in today and 'data-testid="my-visit"' in today
    move = reverse("field:visit_move", args=[visit.pk])
    assert client.post(move, {"to": "en_route"}).status_code == 302
    assert client.post(move, {"to": "on_site", "lat": "30.5", "lng": "114.3"}).status_code == 302
    r = client.post(move, {"to": "done", "report": "", "outcome": ""})
    assert r.status_code == 400 and 'id="report"' in r.content.decode()
    r = client.post(move, {"to": "done", "report": "更换主板", "outcome": "resolved"})
    assert r.status_code == 302
    page = client.get(reverse("field:visit", args=[visit.pk])).content.decode()
    assert 'data-testid="confirm-link"' in page
    visit.refresh_from_db()
    assert visit.state == S.DONE and visit.arrival_lat is not None


def test_the_customer_confirms_or_disputes_through_the_link(client, field):
    visit = dispatch(field)
    eng = field["engineer"]
    services.transition_visit(actor=eng, visit=visit, to=S.ON_SITE)
    services.transition_visit(
        actor=eng, visit=visit, to=S.DONE, report="已修复", outcome="resolved"
    )
    url = reverse("field:confirm", args=[services.confirm_token(visit)])
    page = client.get(url).content.decode()
    assert "已修复" in page
    r = client.post(url, {"answer": "dispute", "name": "王女士", "comment": ""})
    assert r.status_code == 400
    r = client.post(url, {"answer": "dispute", "name": "王女士", "comment": "屏幕仍然报警"})
    assert r.status_code == 302
    visit.refresh_from_db()
    assert visit.disputed_at is not None and visit.state == S.DONE
    assert client.get(reverse("field:confirm", args=["bad-token"])).status_code == 404


def test_outsiders_do_not_see_visits_or_the_panel(client, field):
    visit = dispatch(field)
    client.force_login(field["outsider"])
    assert client.get(reverse("field:visit", args=[visit.pk])).status_code == 404
    assert client.get(reverse("field:panel", args=[field["ticket"].number])).status_code == 404
    r = client.post(reverse("field:visit_move", args=[visit.pk]), {"to": "en_route"})
    assert r.status_code == 404
    client.force_login(field["liaison"])
    assert client.get(reverse("field:assets")).status_code == 403
    visit.refresh_from_db()
    assert visit.state == S.SCHEDULED


def test_the_engineer_of_another_teams_work_order_still_sees_the_visit(client, field):
    visit = dispatch(field)  # the work order belongs to the first line, the engineer to the second
    client.force_login(field["engineer"])
    assert client.get(reverse("field:visit", args=[visit.pk])).status_code == 200


def test_reserve_and_use_parts_from_the_panel(client, field):
    client.force_login(field["agent"])
    number = field["ticket"].number
    r = client.post(
        reverse("field:reserve", args=[number]),
        {"part": field["part"].pk, "location": field["warehouse"].pk, "qty": "2"},
    )
    assert r.status_code == 302
    r = client.post(
        reverse("field:reserve", args=[number]),
        {"part": field["part"].pk, "location": field["warehouse"].pk, "qty": "1", "use_now": "1"},
    )
    assert r.status_code == 302
    panel = client.get(reverse("field:panel", args=[number])).content.decode()
    assert 'data-testid="field-reservation"' in panel
    assert list(Movement.objects.order_by("pk").values_list("kind", flat=True)) == [
        "receive", "reserve", "consume",
    ]  # fmt: skip


def test_assets_screens(client, field):
    client.force_login(field["agent"])
    assert "DTU2024001" in client.get(reverse("field:assets"), {"q": "DTU"}).content.decode()
    mine = client.get(reverse("field:assets"), {"customer": field["customer"].pk}).content.decode()
    assert "DTU2024001" in mine and 'data-testid="asset-add"' in mine
    assert client.get(reverse("field:assets"), {"customer": "³"}).status_code == 404
    assert client.get(reverse("field:asset", args=[field["asset"].pk])).status_code == 200
    url = reverse("field:asset_new") + f"?customer={field['customer'].pk}"
    r = client.post(url, {"customer": field["customer"].pk, "product": "服务器", "model": "R740",
                          "serial": "", "installed_on": "2025-13-01"})  # fmt: skip
    assert r.status_code == 400
    r = client.post(url, {"customer": field["customer"].pk, "product": "服务器", "model": "R740",
                          "serial": "SRV001", "installed_on": "2025-03-01", "is_active": "on"})  # fmt: skip
    assert r.status_code == 302
    assert Asset.objects.filter(serial="SRV001", customer=field["customer"]).exists()


def test_parts_screens_and_the_low_stock_download(client, field):
    client.force_login(field["supervisor"])
    part = field["part"]
    assert "DTU-PS-48" in client.get(reverse("field:parts")).content.decode()
    r = client.post(
        reverse("field:part_move", args=[part.pk]),
        {
            "kind": "transfer",
            "location": field["warehouse"].pk,
            "target": field["van"].pk,
            "qty": 4,
        },
    )
    assert r.status_code == 302
    page = client.get(reverse("field:part", args=[part.pk])).content.decode()
    assert 'data-testid="ledger"' in page and "服务车" in page
    low = client.get(reverse("field:low_stock")).content.decode()
    assert "中心备件库" in low
    csv = client.get(reverse("field:low_stock"), {"format": "csv"}).content.decode("utf-8-sig")
    assert csv.splitlines()[1].startswith("DTU-PS-48,电源模块,中心备件库,1,2,")


def test_the_start_page_shows_the_engineers_day_and_low_stock(client, field):
    dispatch(field)
    client.force_login(field["engineer"])
    page = client.get(reverse("core:home")).content.decode()
    assert 'data-testid="card-field"' in page and field["ticket"].number in page
    client.force_login(field["supervisor"])
    page = client.get(reverse("core:home")).content.decode()
    assert reverse("field:low_stock") in page
    client.force_login(field["agent"])
    assert 'data-testid="card-field"' not in client.get(reverse("core:home")).content.decode()
