import datetime as dt
import json

import pytest
from django.core.signing import b64_encode
from django.utils import timezone

from kefu.core.models import Event
from kefu.surveys import services
from kefu.surveys.models import Delivery, Invitation, Response, Trigger
from kefu.testing.factories import make_customer


def _invite(survey, customer):
    from django.db import transaction

    with transaction.atomic():
        return services.invite(
            template=survey,
            trigger=Trigger.TICKET_RESOLVED,
            delivery=Delivery.PORTAL,
            customer=customer,
        )


@pytest.fixture
def invitation(survey):
    return _invite(survey, make_customer(name="张三"))


def test_answer_once_through_the_link(client, invitation):
    # given
    url = f"/surveys/s/{services.link_token(invitation)}/"
    # when
    first = client.post(url, {"csat": "4", "nps": "10"})
    second = client.post(url, {"csat": "1", "nps": "0"})
    # then
    assert first.status_code == 200
    assert second.status_code == 410
    assert "该调查已经提交过" in second.content.decode()
    response = Response.objects.get()
    assert (response.csat_score, response.nps_score, response.via) == (4, 10, "portal")
    assert Invitation.objects.get().status == "answered"
    assert Event.objects.filter(action="survey_answered").count() == 1


def test_tampered_or_guessed_links_are_refused(client, invitation, survey):
    token = services.link_token(invitation)
    other = _invite(survey, make_customer(name="李四"))
    # naming another invitation (with its own nonce) under this token's signature fails
    payload, signature = token.rsplit(":", 1)
    forged = b64_encode(
        json.dumps({"i": other.pk, "n": other.nonce}, separators=(",", ":")).encode()
    ).decode()
    assert forged != payload
    for bad in (f"{forged}:{signature}", token[:-2] + "xx", "abc", "1"):
        r = client.post(f"/surveys/s/{bad}/", {"csat": "1", "nps": "0"})
        assert r.status_code == 404
        assert "该调查链接无效" in r.content.decode()
    assert Response.objects.count() == 0


def test_a_new_nonce_invalidates_the_old_link(client, invitation):
    token = services.link_token(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(nonce="x" * 43)
    r = client.post(f"/surveys/s/{token}/", {"csat": "4", "nps": "9"})
    assert r.status_code == 404
    assert Response.objects.count() == 0


def test_expired_link_is_refused(client, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    r = client.post(f"/surveys/s/{services.link_token(invitation)}/", {"csat": "4", "nps": "9"})
    assert r.status_code == 410
    assert Response.objects.count() == 0


def test_bad_answer_writes_nothing(client, invitation):
    r = client.post(f"/surveys/s/{services.link_token(invitation)}/", {"csat": "7", "nps": "9"})
    assert r.status_code == 422
    assert Response.objects.count() == 0
    assert Invitation.objects.get().status == "sent"


def test_portal_lists_only_my_own_surveys(client, survey):
    from kefu.testing.factories import make_portal_user

    mine = _invite(survey, make_customer(name="王五"))
    theirs = _invite(survey, make_customer(name="赵六"))
    user = make_portal_user(customer=mine.customer)
    client.force_login(user)
    page = client.get("/portal/").content.decode()
    assert services.link_token(mine) in page
    assert services.link_token(theirs) not in page
