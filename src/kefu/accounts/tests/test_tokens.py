import datetime as dt

import pytest
from django.utils import timezone

from kefu.accounts.models import ApiToken
from kefu.accounts.services import create_api_token, revoke_api_token
from kefu.core.permissions import Role
from kefu.customers.models import Customer
from kefu.testing.factories import ApiClient, make_customer, make_user

pytestmark = pytest.mark.django_db


def test_tokens_are_shown_once_and_stored_hashed():
    user = make_user()
    token, plaintext = create_api_token(
        actor=user, user=user, name="IVR", scopes=["customers:read"]
    )
    assert plaintext.startswith(f"kefu_{token.prefix}_")
    secret = plaintext.split("_", 2)[2]
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64


def test_a_read_scoped_token_reads_but_cannot_write():
    user = make_user(Role.AGENT_L1)
    _t, plaintext = create_api_token(actor=user, user=user, name="ro", scopes=["customers:read"])
    api = ApiClient(token=plaintext)
    make_customer("王五")
    assert api.get("customers").status_code == 200
    before = Customer.objects.count()
    response = api.post("customers", {"name": "新客户"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Customer.objects.count() == before


def test_revoked_and_expired_tokens_are_refused():
    user = make_user()
    token, plaintext = create_api_token(actor=user, user=user, name="x", scopes=["customers:read"])
    assert ApiClient(token=plaintext).get("me").status_code == 200
    revoke_api_token(actor=user, token=token)
    assert ApiClient(token=plaintext).get("me").status_code == 401
    token2, plaintext2 = create_api_token(
        actor=user,
        user=user,
        name="y",
        scopes=["customers:read"],
        expires_at=timezone.now() + dt.timedelta(seconds=60),
    )
    ApiToken.objects.filter(pk=token2.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert ApiClient(token=plaintext2).get("me").status_code == 401
    assert ApiClient(token=plaintext2[:-2] + "xx").get("me").status_code == 401


def test_a_token_cannot_mint_tokens():
    user = make_user()
    _t, plaintext = create_api_token(
        actor=user, user=user, name="x", scopes=["customers:read", "customers:write"]
    )
    before = ApiToken.objects.count()
    response = ApiClient(token=plaintext).post(
        "me/tokens", {"name": "escalate", "scopes": ["customers:write"]}
    )
    assert response.status_code == 401
    assert ApiToken.objects.count() == before


def test_tokens_cannot_exceed_the_role():
    agent = make_user(Role.AGENT_L1)
    response = ApiClient(user=agent).post("me/tokens", {"name": "x", "scopes": ["users:write"]})
    assert response.status_code == 422
    assert "users:write" in response.json()["error"]["fields"]["scopes"][0]
    assert not ApiToken.objects.filter(user=agent).exists()


def test_session_users_create_list_and_revoke_their_tokens():
    agent = make_user(Role.AGENT_L1)
    api = ApiClient(user=agent)
    created = api.post("me/tokens", {"name": "脚本", "scopes": ["customers:read"]})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("kefu_") and body["scopes"] == ["customers:read"]
    assert [t["name"] for t in api.get("me/tokens").json()] == ["脚本"]
    assert api.delete(f"me/tokens/{body['id']}").status_code == 204
    assert ApiClient(token=body["token"]).get("me").status_code == 401
    other = make_user()
    assert ApiClient(user=other).delete(f"me/tokens/{body['id']}").status_code == 404


def test_a_token_in_use_stops_at_once_when_its_user_is_deactivated_or_demoted(settings):
    from django.core.cache import cache

    from kefu.accounts.services import update_user

    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT_L1)
    token, plaintext = create_api_token(
        actor=agent, user=agent, name="ivr", scopes=["customers:read", "customers:write"]
    )
    api = ApiClient(token=plaintext)
    assert api.post("customers", {"name": "甲"}).status_code == 201
    assert cache.get(f"accounts:apitoken:{token.prefix}") is not None  # served from the cache now

    update_user(actor=admin, user=agent, changes={"role": Role.QA})
    before = Customer.objects.count()
    assert api.post("customers", {"name": "乙"}).status_code == 403
    assert Customer.objects.count() == before

    update_user(actor=admin, user=agent, changes={"is_active": False})
    assert api.get("me").status_code == 401
