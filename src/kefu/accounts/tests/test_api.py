import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts.models import Membership, Team, User
from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.testing.factories import ApiClient, make_team, make_user

pytestmark = pytest.mark.django_db


def test_me_shows_role_and_permissions():
    agent = make_user(Role.AGENT_L1, display_name="李娜")
    body = ApiClient(user=agent).get("me").json()
    assert body["display_name"] == "李娜"
    assert body["role"] == "agent_l1"
    assert "customers.view" in body["permissions"] and "users.manage" not in body["permissions"]
    assert body["token_scopes"] is None


def test_administrators_create_change_and_deactivate_staff():
    admin = make_user(Role.ADMIN)
    team = make_team("一线")
    api = ApiClient(user=admin)
    created = api.post(
        "users",
        {
            "username": "wangwu",
            "display_name": "王五",
            "role": "agent_l2",
            "employee_no": "B2009",
            "email": "wangwu@example.com",
            "phone": "13800138000",
            "team_ids": [team.pk],
            "agent_profile": {"languages": ["zh", "en"], "capacity": {"chat": 4}},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phone"] == "+8613800138000"
    assert body["teams"] == [{"id": team.pk, "name": "一线", "code": team.code, "is_lead": False}]
    assert body["agent_profile"]["languages"] == ["zh", "en"]
    assert body["agent_profile"]["capacity"]["chat"] == 4
    user_id = body["id"]
    changed = api.patch(f"users/{user_id}", {"display_name": "王武", "role": "supervisor"})
    assert changed.status_code == 200
    assert (changed.json()["display_name"], changed.json()["role"]) == ("王武", "supervisor")
    assert api.delete(f"users/{user_id}").status_code == 204
    assert User.objects.get(pk=user_id).is_active is False
    assert list(
        Event.objects.filter(object_type="user", object_id=user_id)
        .values_list("action", flat=True)
        .order_by("id")
    ) == [
        "user_created",
        "agent_profile_changed",
        "user_changed",
        "user_deactivated",
    ]


@pytest.mark.parametrize(
    "role", [Role.AGENT_L1, Role.SUPERVISOR, Role.QA, Role.PLANNER, Role.LIAISON, Role.CUSTOMER]
)
def test_roles_without_the_right_cannot_manage_staff(role):
    actor = make_user(role)
    target = make_user(Role.AGENT_L1, display_name="原名")
    api = ApiClient(user=actor)
    users_before = User.objects.count()
    events_before = Event.objects.count()
    assert (
        api.post("users", {"username": "x1234", "display_name": "x", "role": "admin"}).status_code
        == 403
    )
    assert api.patch(f"users/{target.pk}", {"role": "admin"}).status_code == 403
    assert api.delete(f"users/{target.pk}").status_code == 403
    assert api.post("teams", {"name": "t", "code": "tt", "kind": "other"}).status_code == 403
    target.refresh_from_db()
    assert (target.role, target.display_name, target.is_active) == (Role.AGENT_L1, "原名", True)
    assert User.objects.count() == users_before
    assert Event.objects.count() == events_before


def test_users_may_change_their_own_name_but_not_their_role():
    agent = make_user(Role.AGENT_L1)
    api = ApiClient(user=agent)
    assert (
        api.patch(f"users/{agent.pk}", {"display_name": "新名字", "language": "en"}).status_code
        == 200
    )
    assert api.patch(f"users/{agent.pk}", {"role": "admin"}).status_code == 403
    agent.refresh_from_db()
    assert (agent.display_name, agent.language, agent.role) == ("新名字", "en", Role.AGENT_L1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "display_name": "x", "role": "agent_l1"}, "username"),
        ({"username": "abc", "display_name": "x", "role": "boss"}, "role"),
        (
            {"username": "abc", "display_name": "x", "role": "agent_l1", "email": "not-an-email"},
            "email",
        ),
        ({"username": "abc", "display_name": "x", "role": "agent_l1", "phone": "12345"}, "phone"),
        ({"username": "abc", "display_name": "x" * 101, "role": "agent_l1"}, "display_name"),
        (
            {"username": "abc", "display_name": "x", "role": "agent_l1", "password": "12345678"},
            "password",
        ),
        (
            {"username": "abc", "display_name": "x", "role": "agent_l1", "is_superuser": True},
            "is_superuser",
        ),
        (
            {
                "username": "abc",
                "display_name": "x",
                "role": "agent_l1",
                "agent_profile": {"capacity": {"chat": -1}},
            },
            "capacity",
        ),
    ],
)
def test_bad_user_input_is_a_422_naming_the_field_and_writes_nothing(body, field):
    admin = make_user(Role.ADMIN)
    users_before, events_before = User.objects.count(), Event.objects.count()
    response = ApiClient(user=admin).post("users", body)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any(field in key for key in error["fields"]), error
    assert User.objects.count() == users_before
    assert Event.objects.count() == events_before


def test_duplicate_user_names_are_refused():
    admin = make_user(Role.ADMIN)
    make_user(username="taken")
    response = ApiClient(user=admin).post(
        "users", {"username": "TAKEN", "display_name": "x", "role": "agent_l1"}
    )
    assert response.status_code == 422
    assert "username" in response.json()["error"]["fields"]


def test_teams_members_and_leads():
    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT_L1, display_name="李娜")
    api = ApiClient(user=admin)
    team = api.post("teams", {"name": "投诉专席", "code": "complaints", "kind": "frontline"}).json()
    assert api.put(f"teams/{team['id']}/members/{agent.pk}", {"is_lead": True}).json()[
        "members"
    ] == [
        {
            "id": agent.pk,
            "display_name": "李娜",
            "employee_no": "",
            "role": "agent_l1",
            "is_lead": True,
        }
    ]
    assert (
        api.put(f"teams/{team['id']}/members/{agent.pk}", {"is_lead": False}).json()["members"][0][
            "is_lead"
        ]
        is False
    )
    assert api.delete(f"teams/{team['id']}/members/{agent.pk}").json()["members"] == []
    assert (
        api.post("teams", {"name": "投诉专席", "code": "other", "kind": "frontline"}).status_code
        == 422
    )
    actions = list(
        Event.objects.filter(object_type="team", object_id=team["id"])
        .values_list("action", flat=True)
        .order_by("id")
    )
    assert actions == [
        "team_created",
        "team_member_added",
        "team_lead_changed",
        "team_member_removed",
    ]


def test_customers_cannot_join_teams():
    admin = make_user(Role.ADMIN)
    team = make_team()
    from kefu.testing.factories import make_portal_user

    portal = make_portal_user()
    assert ApiClient(user=admin).put(f"teams/{team.pk}/members/{portal.pk}", {}).status_code == 404
    assert not Membership.objects.filter(team=team).exists()


def test_user_list_filters_sorts_pages_and_stays_within_its_query_budget():
    admin = make_user(Role.ADMIN, display_name="管理员")
    team = make_team()
    for i in range(12):
        make_user(Role.AGENT_L1, display_name=f"坐席{i:02d}", teams=[team])
    api = ApiClient(user=admin)
    api.get("me")  # the session's first request loads and refreshes it; not part of the budget
    with CaptureQueriesContext(connection) as queries:
        first = api.get("users", {"team": team.pk, "sort": "display_name", "limit": 5})
    assert first.status_code == 200
    assert len(queries) <= 6, [q["sql"] for q in queries]
    names = [u["display_name"] for u in first.json()["items"]]
    assert names == [f"坐席{i:02d}" for i in range(5)]
    seen = list(names)
    cursor = first.json()["next_cursor"]
    while cursor:
        page = api.get(
            "users", {"team": team.pk, "sort": "display_name", "limit": 5, "cursor": cursor}
        ).json()
        seen.extend(u["display_name"] for u in page["items"])
        cursor = page["next_cursor"]
    assert seen == [f"坐席{i:02d}" for i in range(12)]
    assert Team.objects.count() == 1
