"""The knowledge base in a real browser: a customer writing a request is shown an article that
solves it; an agent puts an article's text into a reply."""

import pytest

from kefu.core.permissions import Role
from kefu.kb import services
from kefu.kb.models import Article, Deflection, KbCategory
from kefu.testing.factories import (
    PASSWORD,
    frontline_setup,
    make_portal_user,
    make_ticket,
    make_user,
)
from kefu.testing.fixtures import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _article(title: str, body: str, visibility: str = "public") -> Article:
    category = KbCategory.objects.get_or_create(name="停电与抢修")[0]
    writer = make_user(Role.SUPERVISOR)
    article = services.create_article(
        services.ArticleInput(
            title=title, body=body, category_id=category.pk, visibility=visibility
        ),
        actor=writer,
    )
    return services.transition_article(article, Article.Status.PUBLISHED, actor=writer)


def test_a_customer_is_shown_an_article_while_writing_and_it_solves_the_problem(
    page, asgi_server, tmp_path
):
    frontline_setup()
    article = _article("家里停电了怎么办", "## 第一步\n看邻居家是否有电。")
    _article("停电来电话术", "仅供坐席", visibility="internal")
    customer = make_portal_user(email="wang@example.com")
    sign_in(page, asgi_server.url, "wang@example.com", PASSWORD, portal=True)
    page.goto(f"{asgi_server.url}/portal/requests/new/")
    page.fill("#id_title", "家里没有电了")
    page.locator("#id_title").press("Space")
    box = page.locator("[data-testid=suggestions]")
    box.wait_for()
    assert "家里停电了怎么办" in box.inner_text()
    assert "话术" not in box.inner_text()
    page.screenshot(path=str(tmp_path / "suggestions.png"))
    with page.context.expect_page() as opened:
        box.get_by_text("家里停电了怎么办").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert "看邻居家是否有电" in tab.locator(".kefu-article").inner_text()
    tab.click("[data-testid=deflection-solved]")
    tab.wait_for_load_state()
    row = Deflection.objects.get()
    assert (row.article_id, row.user_id, row.outcome) == (article.pk, customer.pk, "solved")


def test_an_agent_inserts_an_articles_text_into_a_reply(page, asgi_server):
    centre = frontline_setup()
    _article("电表显示屏不亮", "按一下按键即可点亮屏幕。")
    ticket = make_ticket(actor=centre["agent"], title="电表显示屏不亮", description="黑屏了")
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    panel = page.locator("[data-testid=kb-panel]")
    assert "电表显示屏不亮" in panel.inner_text()
    panel.locator("[data-testid=kb-insert-text]").first.click()
    page.wait_for_function(
        "() => document.querySelector('#reply-body').value.includes('按一下按键即可点亮屏幕。')"
    )
    panel.locator("[data-testid=kb-insert-link]").first.click()
    page.wait_for_function(
        "() => document.querySelector('#reply-body').value.includes('/portal/help/')"
    )
