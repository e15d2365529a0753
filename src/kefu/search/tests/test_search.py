"""Search through the product: indexed as records change, found by words, numbers and
synonyms, filtered, and never showing anyone a record they cannot open."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.search import services
from kefu.search.models import SearchDoc, SynonymGroup
from kefu.testing.factories import (
    ApiClient,
    make_customer,
    make_portal_user,
    make_ticket,
    make_user,
)
from kefu.tickets import services as tickets

pytestmark = pytest.mark.django_db


def found(user, q, **filters):
    return [
        (h.kind, h.object_id) for h in services.search(user, q, services.Filters(**filters)).hits
    ]


@pytest.fixture
def world(centre):
    mine = make_customer("王小明", phone="13812345678", account="0712345678")
    theirs = make_customer("李四", phone="13987654321", account="0799999999")
    portal = make_portal_user(mine)
    other_portal = make_portal_user(theirs)
    own = make_ticket(
        actor=centre["agent"],
        title="阳光花园停电",
        description="整栋楼停电，冰箱里有药",
        customer=mine.pk,
    )
    foreign = make_ticket(
        actor=centre["outsider"],
        title="锦绣家园停电",
        description="停电两小时",
        customer=theirs.pk,
        team=centre["other"],
    )
    transferred = make_ticket(actor=centre["outsider"], title="停电赔偿诉求", team=centre["other"])
    tickets.transfer_ticket(
        actor=centre["outsider"],
        ticket=transferred,
        department=centre["dept"],
        instructions="请核实",
    )
    return {**centre, "mine": mine, "theirs": theirs, "portal": portal,
            "other_portal": other_portal, "own": own, "foreign": foreign,
            "transferred": transferred}  # fmt: skip


def test_a_new_work_order_is_searchable_at_once_by_words_and_number(world):
    # when a work order is opened (the index is written right after its commit)
    ticket = make_ticket(actor=world["agent"], title="电表显示屏不亮", contact_phone="13500001111")
    # then its words, its number and any part of its phone find it
    assert ("ticket", ticket.pk) in found(world["agent"], "显示屏")
    assert ("ticket", ticket.pk) in found(world["agent"], ticket.number)
    assert ("ticket", ticket.pk) in found(world["agent"], "0000111")
    # and a change is searchable too
    tickets.update_ticket(actor=world["agent"], ticket=ticket, changes={"title": "电能表黑屏"})
    assert found(world["agent"], "黑屏") == [("ticket", ticket.pk)]
    assert ("ticket", ticket.pk) not in found(world["agent"], "显示屏")


def test_customers_are_found_by_name_and_any_part_of_phone_or_account(world):
    assert found(world["agent"], "王小明", kinds=("customer",)) == [("customer", world["mine"].pk)]
    assert found(world["agent"], "1234567", kinds=("customer",)) == [("customer", world["mine"].pk)]
    assert found(world["agent"], "07999", kinds=("customer",)) == [("customer", world["theirs"].pk)]


def test_a_customer_never_finds_another_customers_work_order(world):
    # given two customers whose work orders share the word 停电
    # when each searches for it
    mine = found(world["portal"], "停电")
    theirs = found(world["other_portal"], "停电")
    # then each sees only their own work order, and no customer records at all
    assert mine == [("ticket", world["own"].pk)]
    assert theirs == [("ticket", world["foreign"].pk)]
    assert found(world["portal"], "李四") == []
    assert found(world["portal"], "13987654321") == []


def test_an_agent_never_finds_a_work_order_of_a_team_they_cannot_see(world):
    # the first-line agent sees their team's work order, not the other team's
    assert found(world["agent"], "停电", kinds=("ticket",)) == [("ticket", world["own"].pk)]
    # the other team's agent sees theirs
    assert set(found(world["outsider"], "停电", kinds=("ticket",))) == {
        ("ticket", world["foreign"].pk),
        ("ticket", world["transferred"].pk),
    }
    # the liaison sees only what was transferred to their department
    assert found(world["liaison"], "停电") == [("ticket", world["transferred"].pk)]
    # the supervisor sees all three
    assert len(found(world["supervisor"], "停电", kinds=("ticket",))) == 3


def test_a_filter_the_person_may_not_widen(world):
    # asking for the other team by filter does not bypass the access rule
    assert found(world["agent"], "停电", team_id=world["other"].pk) == []


def test_filters_combine_with_the_words(world):
    sup = world["supervisor"]
    tickets.transition_ticket(actor=sup, ticket=world["foreign"], to="in_progress")
    from kefu.tickets.models import Ticket

    in_progress = set(Ticket.objects.filter(status="in_progress").values_list("pk", flat=True))
    assert world["foreign"].pk in in_progress and world["own"].pk not in in_progress
    assert {i for _k, i in found(sup, "停电", status="in_progress")} == in_progress
    assert found(sup, "停电", team_id=world["other"].pk, kinds=("ticket",)) == [
        ("ticket", world["transferred"].pk),
        ("ticket", world["foreign"].pk),
    ]
    assert found(sup, "停电", type_code="fault", kinds=("ticket",)) != []
    assert found(sup, "停电", type_code="praise") == []
    today = timezone.localdate()
    assert found(sup, "停电", until=today - dt.timedelta(days=1)) == []
    assert len(found(sup, "停电", since=today, kinds=("ticket",))) == 3


def test_synonyms_edited_by_an_administrator_apply_to_the_next_search(world, client):
    sup = world["supervisor"]
    # 掉电 is not in the shipped term map: nothing is found for it until an administrator says
    # it means 停电
    assert found(sup, "掉电") == []
    client.force_login(world["admin"])
    response = client.post(reverse("search:synonyms"), {"words": "停电 掉电", "note": ""})
    assert response.status_code == 302
    assert SynonymGroup.objects.get().word_list() == ["停电", "掉电"]
    assert Event.objects.filter(action="synonyms_added").count() == 1
    assert len(found(sup, "掉电", kinds=("ticket",))) == 3


def test_the_shipped_term_map_means_the_same_in_every_process_state(world):
    # 没电 is one of the map's words for an outage: it finds the 停电 work orders whether or not
    # a synonym group has been loaded in this process before
    assert len(found(world["supervisor"], "没电", kinds=("ticket",))) == 3


def test_a_synonym_group_needs_two_words_and_an_agent_may_not_edit(world, client):
    client.force_login(world["admin"])
    response = client.post(reverse("search:synonyms"), {"words": "停电", "note": ""})
    assert response.status_code == 400
    assert "同义词组至少需要两个词。" in response.content.decode()
    client.force_login(world["agent"])
    assert client.post(reverse("search:synonyms"), {"words": "a b"}).status_code == 403
    assert SynonymGroup.objects.count() == 0


def test_words_found_in_some_fields_only_still_rank_the_record_holding_all(world):
    sup = world["supervisor"]
    hits = services.search(sup, "阳光花园 停电", services.Filters(kinds=("ticket",))).hits
    assert hits[0].object_id == world["own"].pk
    assert not services.search(sup, "阳光花园 停电").broadened
    broad = services.search(sup, "阳光花园 光伏")
    assert broad.broadened and [h.object_id for h in broad.hits] == [world["own"].pk]


def test_the_search_page_marks_matches_and_escapes_what_people_wrote(world, client):
    make_ticket(actor=world["agent"], title="<script>alert(1)</script> 停电", description="停电")
    client.force_login(world["agent"])
    page = client.get(reverse("search:search"), {"q": "停电"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "<mark>停电</mark>" in page
    assert "锦绣家园" not in page  # the other team's work order


def test_the_search_page_refuses_dates_out_of_order_with_a_message(world, client):
    client.force_login(world["agent"])
    response = client.get(
        reverse("search:search"), {"q": "停电", "since": "2026-02-01", "until": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "结束日期早于开始日期。" in response.content.decode()


def test_customers_cannot_open_the_staff_search_page(world, client):
    client.force_login(world["portal"])
    assert client.get(reverse("search:search"), {"q": "停电"}).status_code == 403


def test_the_api_searches_with_the_callers_access(world):
    body = ApiClient(world["agent"]).get("search", {"q": "停电", "kind": "ticket"}).json()
    assert [h["id"] for h in body["hits"]] == [world["own"].pk]
    assert body["hits"][0]["title_pieces"][-1] == {"text": "停电", "match": True}
    # the word and, from the bilingual term map, its English (and Chinese) equivalents
    assert body["words"][0][0] == "停电" and {"outage", "blackout"} <= set(body["words"][0])
    portal = ApiClient(world["portal"]).get("search", {"q": "1234567"}).json()
    assert portal["hits"] == []


def test_the_api_refuses_bad_parameters_with_a_message(world):
    api = ApiClient(world["agent"])
    response = api.get("search", {"q": "停电", "since": "2026-02-01", "until": "2026-01-01"})
    assert response.status_code == 422
    assert "until is before since" in response.content.decode()
    assert api.get("search", {"q": ""}).status_code == 422
    assert api.get("search", {"q": "停电", "kind": "cats"}).status_code == 422


def test_reindex_rebuilds_the_index_from_the_records(world):
    SearchDoc.objects.all().delete()
    counts = services.reindex(clear=True)
    assert counts["ticket"] == 3 and counts["customer"] == 2
    assert found(world["supervisor"], "冰箱") == [("ticket", world["own"].pk)]


def test_catch_up_indexes_records_changed_by_bulk_updates(world):
    from kefu.tickets.models import Ticket

    later = timezone.now() + dt.timedelta(seconds=5)
    Ticket.objects.filter(pk=world["own"].pk).update(title="光伏并网咨询", updated_at=later)
    assert found(world["supervisor"], "光伏") == []
    assert services.catch_up() >= 1
    assert found(world["supervisor"], "光伏") == [("ticket", world["own"].pk)]


def test_a_staff_member_without_customer_access_finds_no_customers(world):
    planner = make_user(Role.PLANNER)
    assert found(planner, "王小明") == []


def test_search_and_the_work_order_access_rule_agree_for_every_role(world):
    from kefu.tickets.access import visible_tickets

    people = [world[k] for k in ("agent", "agent2", "outsider", "engineer", "liaison",
                                 "supervisor", "admin", "portal", "other_portal")]  # fmt: skip
    people.append(make_user(Role.QA))
    people.append(make_user(Role.PLANNER))
    for person in people:
        expected = set(visible_tickets(person).values_list("pk", flat=True))
        got = {i for k, i in found(person, "停电") if k == "ticket"}
        assert got == expected, person.username


def test_a_search_page_of_twenty_hits_takes_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    for n in range(25):
        make_ticket(actor=world["agent"], title=f"停电报修 {n}", contact_phone=f"1380000{n:04d}")
    api = ApiClient(world["agent"])
    api.get("search", {"q": "停电"})  # warm the caches
    with django_assert_max_num_queries(16):  # PostgreSQL adds a savepoint and planner settings
        body = api.get("search", {"q": "停电 13800000", "limit": 20}).json()
    assert len(body["hits"]) == 20


def test_a_new_synonym_word_recuts_the_records_that_hold_it(world, client):
    # given a work order written with 没气, indexed before anyone taught the segmenter the word
    ticket = make_ticket(actor=world["agent"], title="家里没气", description="")
    assert found(world["supervisor"], "断气") == []
    # when an administrator adds the group
    client.force_login(world["admin"])
    client.post(reverse("search:synonyms"), {"words": "断气 没气", "note": ""})
    # then the work order is found by either word
    assert found(world["supervisor"], "断气") == [("ticket", ticket.pk)]
    assert found(world["supervisor"], "没气") == [("ticket", ticket.pk)]


def test_synonym_words_must_be_single_words(world):
    with pytest.raises(ValidationError):
        services.save_synonyms(None, "wi-fi 无线网", "", actor=world["admin"])
    assert SynonymGroup.objects.count() == 0


def test_dates_beyond_the_calendar_are_no_error(world, client):
    client.force_login(world["agent"])
    response = client.get(reverse("search:search"), {"q": "停电", "until": "9999-12-31"})
    assert response.status_code == 200
    api = ApiClient(world["agent"]).get("search", {"q": "停电", "since": "0001-01-01"})
    assert api.status_code == 200


def test_a_customer_merge_moves_the_work_orders_in_the_index(world):
    from kefu.customers.services import merge_customers

    merge_customers(actor=world["supervisor"], source=world["theirs"], target=world["mine"])
    assert {i for _k, i in found(world["portal"], "停电")} == {world["own"].pk, world["foreign"].pk}
    assert found(world["other_portal"], "停电") == []


def test_a_phone_typed_with_separators_is_found_by_its_digits(world):
    ticket = make_ticket(actor=world["agent"], title="咨询", contact_phone="138-0013-8000")
    assert found(world["agent"], "13800138000") == [("ticket", ticket.pk)]
    assert found(world["agent"], "0013800") == [("ticket", ticket.pk)]
