"""The screen pop in a real browser: a call ringing at the agent shows the caller's card on the
page they have open, and its button leads to a new work order for that call."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from kefu.calls.models import AgentLink, Call, Integration
from kefu.testing.factories import PASSWORD, frontline_setup, make_customer, make_ticket
from kefu.testing.fixtures import sign_in, wait_for_live

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_ringing_call_pops_the_callers_card(page: Any, asgi_server: Any, tmp_path: Any) -> None:
    centre = frontline_setup()
    agent = centre["agent"]
    AgentLink.objects.create(pbx_agent="SIP/8001", user=agent)
    customer = make_customer(
        "<i>赵</i>敏", phone="13800138000", address="江城市江岸区解放大道 1 号"
    )
    make_ticket(customer=customer.pk, title="电表示数跳变")
    pbx = Integration.objects.create(name="PBX", slug="pbx")
    sign_in(page, asgi_server.url, agent.username, PASSWORD)
    page.goto(f"{asgi_server.url}/calls/")
    wait_for_live(page, "user")

    body = json.dumps({"event": "ring", "call_id": "b-1", "caller": "13800138000",
                       "queue": "hotline", "agent": "SIP/8001"}).encode()  # fmt: skip
    signature = hmac.new(pbx.secret.encode(), body, hashlib.sha256).hexdigest()
    started = time.monotonic()
    response = page.request.post(
        f"{asgi_server.url}/calls/cti/pbx/",
        data=body,
        headers={"Content-Type": "application/json", "X-Kefu-Signature": f"sha256={signature}"},
    )
    assert response.status == 200
    pop = page.locator("[data-testid=screenpop]")
    pop.wait_for(timeout=5000)
    print(f"screen pop shown {time.monotonic() - started:.2f} s after the ring event")
    assert page.locator("[data-testid=screenpop-caller]").inner_text() == "13800138000"
    assert page.locator("[data-testid=screenpop-customer]").inner_text() == "<i>赵</i>敏"  # text
    assert "电表示数跳变" in page.locator("[data-testid=screenpop-tickets]").inner_text()
    page.screenshot(path=str(tmp_path / "screenpop.png"))
    page.click("[data-testid=screenpop-new-ticket]")
    page.wait_for_load_state("networkidle")
    call = Call.objects.get(external_id="b-1")
    assert page.url.endswith(f"/calls/{call.pk}/#new-ticket")
    assert page.locator("[data-testid=call-ticket-create]").is_visible()
