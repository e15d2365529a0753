"""Live chat in a real browser: a customer starts a chat from the widget on a web page, the
agent takes it in the console, they talk, and a reload of the customer's page resumes the same
chat with nothing lost or shown twice."""

import pytest

from kefu.chat.models import Conversation, Message, Widget
from kefu.routing.models import RoutingQueue
from kefu.testing.factories import PASSWORD, frontline_setup
from kefu.testing.fixtures import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_customer_and_an_agent_chat_and_a_reload_resumes(browser, page, asgi_server, tmp_path):
    centre = frontline_setup()
    queue = RoutingQueue.objects.create(code="chat", name="在线客服", strategy="manual",
                                        kinds=["chat"])  # fmt: skip
    queue.teams.set([centre["front"]])
    Widget.objects.create(name="官网客服", allowed_origins=[asgi_server.url], topics=["电费"])
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)  # now available
    # the customer, on the demo page (a stand-in for the centre's website)
    customer = browser.new_context(
        viewport={"width": 390, "height": 780}, locale="zh-CN"
    ).new_page()
    customer.goto(f"{asgi_server.url}/chat/demo/")
    customer.locator("[data-kefu-chat] button").click()
    frame = customer.frame_locator("[data-kefu-chat] iframe")
    frame.locator("[data-testid=prechat] [name=name]").fill("王女士")
    frame.locator("[data-testid=prechat] [name=contact]").fill("13800138000")
    frame.locator("[data-testid=prechat] button").click()
    frame.locator("[data-testid=queue]").wait_for()
    assert "排队" in frame.locator("[data-testid=queue]").inner_text()
    frame.locator("[data-testid=chat-input]").fill("你好，电费有疑问")
    frame.locator("[data-testid=chat-send]").click()
    # the agent takes it and answers
    page.goto(f"{asgi_server.url}/chat/")
    page.locator("[data-testid=waiting-chats] button").first.click()
    page.wait_for_url("**/chat/?open=*")
    page.locator("[data-testid=agent-log] li.guest").first.wait_for()
    assert "你好，电费有疑问" in page.locator("[data-testid=agent-log]").inner_text()
    page.fill("[data-testid=agent-input]", "您好，请讲 <b>不是标记</b>")
    page.click("[data-testid=agent-send]")
    frame.locator("li.agent").first.wait_for()
    assert "您好，请讲 <b>不是标记</b>" in frame.locator("li.agent").first.inner_text()
    customer.screenshot(path=str(tmp_path / "chat-phone.png"))
    # a whisper between two replies takes a number the customer never sees: the widget does not
    # wait for it, shows the next reply once and reads up to it
    page.click("label[for=mode-whisper]")
    page.fill("[data-testid=agent-input]", "内部：客户情绪稳定")
    page.click("[data-testid=agent-send]")
    page.locator("[data-testid=agent-log] li", has_text="内部：客户情绪稳定").wait_for()
    page.click("label[for=mode-msg]")
    page.fill("[data-testid=agent-input]", "已为您查询")
    page.click("[data-testid=agent-send]")
    frame.locator("li.agent", has_text="已为您查询").wait_for()
    conversation = Conversation.objects.get()
    for _i in range(50):
        conversation.refresh_from_db()
        if conversation.guest_read_seq == conversation.public_seq:
            break
        customer.wait_for_timeout(100)
    assert conversation.guest_read_seq == conversation.public_seq == conversation.last_seq
    assert "内部" not in frame.locator("#log").inner_text()
    # a reload resumes the same chat: every message once, in order
    customer.reload()
    customer.wait_for_load_state("networkidle")
    if not customer.locator("[data-kefu-chat] iframe").is_visible():
        customer.locator("[data-kefu-chat] button").click()
    frame = customer.frame_locator("[data-kefu-chat] iframe")
    frame.locator("li.agent").first.wait_for()
    texts = frame.locator("#log li .b").all_inner_texts()
    assert texts.count("你好，电费有疑问") == 1
    assert texts.count("您好，请讲 <b>不是标记</b>") == 1
    frame.locator("[data-testid=chat-input]").fill("好的，谢谢")
    frame.locator("[data-testid=chat-send]").click()
    page.locator("[data-testid=agent-log] li.guest", has_text="好的，谢谢").wait_for()
    assert Message.objects.filter(body="好的，谢谢").count() == 1
