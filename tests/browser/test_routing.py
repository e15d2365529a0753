"""The unified queue in a real browser: an offer pops up with its countdown and is accepted; the
supervisor's board lists waiting customers and agents."""

import pytest

from kefu.routing import services
from kefu.routing.models import Presence, QueueItem, RoutingQueue
from kefu.testing.factories import PASSWORD, frontline_setup, make_customer, make_tier
from kefu.testing.fixtures import sign_in, wait_for_live

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_offer_pops_up_and_the_agent_accepts_it(page, asgi_server, tmp_path):
    centre = frontline_setup()
    queue = RoutingQueue.objects.create(code="hotline", name="95598 热线", strategy="least_loaded",
                                        offer_timeout=30)  # fmt: skip
    queue.teams.set([centre["front"]])
    agent = centre["agent"]
    sign_in(page, asgi_server.url, agent.username, PASSWORD)
    assert Presence.objects.get(user=agent).state == "available"  # signing in did it
    page.goto(f"{asgi_server.url}/queues/")
    wait_for_live(page, "user")
    assert "空闲" in page.locator("[data-testid=presence-state]").inner_text()
    item = services.add_item(actor=None, queue=queue, kind="call", title="来电 <b>138****2207</b>")
    card = page.locator("[data-testid=offer]")
    card.wait_for()
    assert "来电 <b>138****2207</b>" in card.inner_text()  # shown as text, never as markup
    page.wait_for_function(
        "() => /\\d+ 秒后超时/.test(document.querySelector('[data-testid=offer]').innerText)"
    )
    page.screenshot(path=str(tmp_path / "offer.png"))
    page.goto(f"{asgi_server.url}/tickets/")  # another page: the open offer is shown there too
    card.wait_for()
    page.click("[data-testid=offer-accept]")
    card.wait_for(state="detached")
    item.refresh_from_db()
    assert item.state == QueueItem.State.ASSIGNED and item.agent_id == agent.pk
    page.goto(f"{asgi_server.url}/queues/")
    assert "来电" in page.locator("[data-testid=my-items]").inner_text()
    assert "忙碌" in page.locator("[data-testid=presence-state]").inner_text()  # on a call


def test_the_supervisor_board_and_a_break_with_its_reason(page, asgi_server, tmp_path):
    centre = frontline_setup()
    queue = RoutingQueue.objects.create(code="chat", name="在线客服", strategy="skills")
    queue.teams.set([centre["front"]])
    vip = make_customer("钱金卡", vip_tier=make_tier(weight=300))
    services.add_item(actor=None, queue=queue, kind="chat", title="在线会话：电费", customer=vip)
    services.add_item(actor=None, queue=queue, kind="chat", title="在线会话：停电")
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/queues/")
    page.click("[data-testid=presence-toggle]")
    page.select_option("[data-testid=presence-reason]", "training")
    page.click("[data-testid=presence-break]")
    page.wait_for_load_state("networkidle")
    assert "小休（培训）" in page.locator("[data-testid=presence-state]").inner_text()
    page.context.clear_cookies()
    sign_in(page, asgi_server.url, centre["supervisor"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/queues/")
    rows = page.locator("[data-testid=waiting-items] tbody tr")
    assert rows.count() == 2
    assert "钱金卡" in rows.nth(0).inner_text()  # the VIP's bonus puts them first
    agents = page.locator("[data-testid=agents]").inner_text()
    assert "小休（培训）" in agents
    assert page.locator("[data-testid=queue-card] [data-testid=queue-waiting]").inner_text() == "2"
    page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
