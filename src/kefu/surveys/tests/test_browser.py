"""The survey page in a real browser: "why" appears only after a dissatisfied answer, the answer
is stored once, and the used link says so."""

import pytest

from kefu.surveys import services
from kefu.surveys.defaults import install
from kefu.surveys.models import Delivery, Response, Trigger
from kefu.testing.factories import frontline_setup, make_customer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_dissatisfied_customer_is_asked_why(page, asgi_server):
    from django.db import transaction

    frontline_setup()
    template = install()
    with transaction.atomic():
        invitation = services.invite(
            template=template,
            trigger=Trigger.TICKET_RESOLVED,
            delivery=Delivery.EMAIL,
            customer=make_customer(name="王五"),
        )
    url = f"{asgi_server.url}/surveys/s/{services.link_token(invitation)}/"
    page.goto(url)
    why = page.locator('[data-question="why"]')
    assert why.is_hidden()
    page.click('label[for="q-csat-4"]')
    assert why.is_hidden()
    page.click('label[for="q-csat-1"]')
    why.wait_for(state="visible")
    page.fill('textarea[name="why"]', "等了三天才有人上门")
    page.click('label[for="q-nps-3"]')
    page.click("[data-testid=survey-submit]")
    page.locator("[data-testid=survey-thanks]").wait_for()
    response = Response.objects.get()
    assert (response.csat_score, response.nps_score, response.comment) == (
        1,
        3,
        "等了三天才有人上门",
    )
    page.goto(url)
    assert "该调查已经提交过" in page.locator("[data-testid=survey-refused]").inner_text()
    # the used link is answered with 410 Gone, which the browser logs as a failed load
    assert page.kefu_errors == [
        "console error: Failed to load resource: the server responded with a status of 410 (Gone)"
    ]
    page.kefu_errors.clear()
