import pytest
from django.urls import reverse

from kefu.accounts.models import AgentSkill, Membership, Skill, User
from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.customers.models import VipTier
from kefu.testing.factories import make_portal_user, make_team, make_user

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "core:home",
    "accounts:profile",
    "accounts:users",
    "accounts:teams",
    "customers:list",
    "core:audit",
]
EXPECTED = {
    Role.ADMIN: {
        "core:home": 200,
        "accounts:profile": 200,
        "accounts:users": 200,
        "accounts:teams": 200,
        "customers:list": 200,
        "core:audit": 200,
    },
    Role.SUPERVISOR: {
        "core:home": 200,
        "accounts:profile": 200,
        "accounts:users": 200,
        "accounts:teams": 200,
        "customers:list": 200,
        "core:audit": 403,
    },
    Role.AGENT_L1: {
        "core:home": 200,
        "accounts:profile": 200,
        "accounts:users": 403,
        "accounts:teams": 200,
        "customers:list": 200,
        "core:audit": 403,
    },
    Role.QA: {
        "core:home": 200,
        "accounts:profile": 200,
        "accounts:users": 200,
        "accounts:teams": 200,
        "customers:list": 200,
        "core:audit": 403,
    },
    Role.PLANNER: {
        "core:home": 200,
        "accounts:profile": 200,
        "accounts:users": 200,
        "accounts:teams": 200,
        "customers:list": 403,
        "core:audit": 403,
    },
    Role.LIAISON: {
        "core:home": 200,
        "accounts:profile": 200,
        "accounts:users": 403,
        "accounts:teams": 200,
        "customers:list": 403,
        "core:audit": 403,
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_reaches_exactly_its_screens(client, role):
    client.force_login(make_user(role))
    got = {name: client.get(reverse(name)).status_code for name in STAFF_PAGES}
    assert got == EXPECTED[role]


def test_navigation_follows_the_role(client):
    client.force_login(make_user(Role.AGENT_L1))
    html = client.get("/").content.decode()
    assert (
        'data-nav="customers"' in html
        and 'data-nav="audit"' not in html
        and 'data-nav="admin"' not in html
    )
    client.force_login(make_user(Role.ADMIN))
    html = client.get("/").content.decode()
    assert 'data-nav="audit"' in html and 'data-nav="admin"' in html


def test_customers_are_sent_to_the_portal(client):
    client.force_login(make_portal_user())
    assert client.get("/")["Location"] == reverse("portal:home")
    assert client.get(reverse("accounts:users")).status_code == 403


@pytest.mark.parametrize(
    "role", [Role.SUPERVISOR, Role.AGENT_L1, Role.QA, Role.PLANNER, Role.LIAISON, Role.CUSTOMER]
)
def test_only_administrators_open_the_configuration_admin(client, role):
    user = make_user(role) if role != Role.CUSTOMER else make_portal_user()
    client.force_login(user)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    tiers = VipTier.objects.count()
    client.post(
        "/admin/customers/viptier/add/",
        {"code": "x", "name": "x", "rank": 1, "priority_weight": 1, "color": "#000000"},
    )
    assert VipTier.objects.count() == tiers


def test_visitors_are_sent_from_the_admin_to_the_sign_in_page(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('accounts:login')}?next=/admin/"


def test_admin_changes_are_audited(client):
    client.force_login(make_user(Role.ADMIN))
    assert client.get("/admin/").status_code == 200
    response = client.post(
        "/admin/customers/viptier/add/",
        {
            "code": "diamond",
            "name": "钻石",
            "rank": 5,
            "priority_weight": 900,
            "color": "#123456",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    tier = VipTier.objects.get(code="diamond")
    event = Event.objects.get(action="config_created", object_id=tier.pk)
    assert event.changes["priority_weight"] == [None, 900]


def test_administrator_creates_an_account_and_sets_the_agent_profile(client):
    admin = make_user(Role.ADMIN)
    team = make_team("一线")
    skill = Skill.objects.create(code="billing", name="电费账单")
    client.force_login(admin)
    response = client.post(
        reverse("accounts:user_create"),
        {
            "username": "newbie",
            "display_name": "新人",
            "role": "agent_l1",
            "employee_no": "A1999",
            "email": "newbie@example.com",
            "teams": [team.pk],
            "password": "Initial-pass-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert Membership.objects.filter(team=team, user=user).exists()
    profile_post = {
        "save_profile": "1",
        "languages": ["zh", "en"],
        "channels": ["chat", "ticket"],
        "capacity_voice": 0,
        "capacity_chat": 4,
        "capacity_email": 0,
        "capacity_ticket": 25,
        f"skill_{skill.pk}": "4",
        "extension": "8123",
    }
    assert (
        client.post(reverse("accounts:user_detail", args=[user.pk]), profile_post).status_code
        == 302
    )
    user.agent_profile.refresh_from_db()
    assert user.agent_profile.capacity["chat"] == 4 and user.agent_profile.channels == [
        "chat",
        "ticket",
    ]
    assert AgentSkill.objects.get(profile=user.agent_profile).level == 4


def test_teams_screen_adds_members_and_sets_leads(client):
    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT_L1)
    team = make_team()
    client.force_login(admin)
    client.post(
        reverse("accounts:team_detail", args=[team.pk]), {"add_member": "1", "user": agent.pk}
    )
    client.post(reverse("accounts:team_detail", args=[team.pk]), {"member": agent.pk, "lead": "1"})
    assert Membership.objects.get(team=team, user=agent).is_lead is True
    client.post(
        reverse("accounts:team_detail", args=[team.pk]), {"member": agent.pk, "remove": "1"}
    )
    assert not Membership.objects.filter(team=team).exists()


def test_agents_cannot_change_teams_from_the_screen(client):
    agent = make_user(Role.AGENT_L1)
    team = make_team()
    client.force_login(agent)
    assert (
        client.post(
            reverse("accounts:team_detail", args=[team.pk]), {"add_member": "1", "user": agent.pk}
        ).status_code
        == 403
    )
    assert not Membership.objects.filter(team=team).exists()


def test_api_tokens_screen_shows_the_token_once(client):
    agent = make_user(Role.AGENT_L1)
    client.force_login(agent)
    response = client.post(
        reverse("accounts:tokens"), {"name": "脚本", "scopes": ["customers:read"]}
    )
    html = response.content.decode()
    assert 'data-testid="new-token"' in html and "kefu_" in html
    again = client.get(reverse("accounts:tokens")).content.decode()
    assert 'data-testid="new-token"' not in again


def test_audit_screen_filters(client):
    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT_L1, display_name="审计对象")
    client.force_login(admin)
    client.post(reverse("accounts:user_detail", args=[agent.pk]), {"toggle_active": "1"})
    html = client.get(reverse("core:audit"), {"action": "user_deactivated"}).content.decode()
    assert "审计对象" in html
    assert client.get(reverse("core:audit"), {"cursor": "broken"}).status_code == 200
