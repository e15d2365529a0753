"""A hostile e-mail in a real browser: script in the subject, the sender's name, the text, the
HTML and an attachment's name shows as text and never runs."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.email import services
from kefu.email.tests.conftest import corpus
from kefu.testing.factories import PASSWORD, frontline_setup, ticket_type
from kefu.testing.fixtures import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TRAP = """
window.__dialogs = [];
window.alert = (m) => window.__dialogs.push(String(m));
"""


def test_script_in_a_mail_never_runs_in_the_agents_browser(page: Any, asgi_server: Any) -> None:
    # given a work order opened by a hostile e-mail
    centre = frontline_setup()
    mailbox = services.create_mailbox(
        actor=centre["admin"],
        data={
            "name": "客服邮箱",
            "address": "service@kefu.example.cn",
            "team": centre["front"].pk,
            "ticket_type": ticket_type().pk,
            "in_host": "127.0.0.1",
            "in_username": "x",
            "out_host": "127.0.0.1",
            "send_acknowledgement": False,
        },
    )
    inbound = services.ingest(mailbox, corpus("hostile_xss.eml")).inbound
    number = inbound.ticket.number
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(TRAP)
    sign_in(page, asgi_server.url, "agent-a", PASSWORD)

    # when the agent opens the work order, its e-mail panel, and the message itself
    page.goto(f"{asgi_server.url}/tickets/{number}/")
    page.wait_for_load_state("networkidle")
    title = page.locator("h1").inner_text()
    panel = page.locator("[data-testid=email-panel]")
    panel.wait_for()
    panel_link = panel.locator("[data-testid=email-panel-in]")
    panel_link.click()
    page.wait_for_load_state("networkidle")
    subject = page.locator("[data-testid=email-subject]").inner_text()
    sender = page.locator("[data-testid=email-from]").inner_text()
    files = page.locator("[data-testid=email-attachments]").inner_text()
    html = page.locator("[data-testid=email-html]")
    html.locator("a").click()  # the link that was javascript:
    page.locator("[data-testid=email-html] p").first.click()  # had an onclick
    page.wait_for_timeout(300)

    # then every piece of script is text on the page, and none of it ran
    assert "<script>window.__pwned='subject'</script>" in title
    assert subject == "<script>window.__pwned='subject'</script><img src=x onerror=alert(3)>"
    assert sender == "<img src=x onerror=alert('from')> <attacker@evil.example>"
    assert "<img src=x onerror=alert(4)>.txt" in files
    assert html.locator("script, iframe, svg, form, style").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("window.__dialogs") == []
    assert dialogs == []
    assert page.url.endswith(f"/email/messages/{inbound.pk}/")
