"""Service plans in a real browser: an engineer ticks a generated inspection's checklist on the
ticket page, with a photo, and a failed item raises a rectification."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.plans.defaults import install
from kefu.plans.models import ChecklistResult, Rectification
from kefu.plans.services.schedule import generate_due
from kefu.plans.services.setup import create_checklist, create_plan
from kefu.testing.factories import PASSWORD, frontline_setup
from kefu.testing.fixtures import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def test_ticking_a_checklist_on_the_ticket_page(page, asgi_server, tmp_path):
    # given: a monthly inspection whose round for today was generated
    centre = frontline_setup()
    install()
    today = timezone.localdate()
    checklist = create_checklist(
        actor=None, name="配电房巡检表", kind="inspection",
        items=[{"text": "变压器油温正常", "photo_required": True}, {"text": "灭火器在有效期内"},
               {"text": "应急照明可用"}],
    )  # fmt: skip
    create_plan(
        actor=None, name="配电房月度巡检", kind="inspection", checklist=checklist,
        frequency="daily", starts_on=today - dt.timedelta(days=3), assignee=centre["engineer"],
        inspector=centre["supervisor"],
    )  # fmt: skip
    (made,) = generate_due(today)
    number = made.ticket.number
    photo = tmp_path / "油温.png"
    photo.write_bytes(PNG)
    sign_in(page, asgi_server.url, centre["engineer"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/{number}/")
    panel = page.locator("[data-testid=plans-panel]")
    assert panel.locator("[data-testid=checklist-progress]").inner_text() == "0/3"
    # when: pass without the required photo, then with it
    first = panel.locator("li[data-item='1']")
    first.locator("[data-testid=mark-pass]").click()
    page.wait_for_load_state()
    assert page.locator("li[data-item='1']").get_attribute("data-result") == "pending"
    page.locator("li[data-item='1'] input[type=file]").set_input_files(str(photo))
    page.locator("li[data-item='1'] [data-testid=mark-pass]").click()
    page.wait_for_selector("li[data-item='1'][data-result=pass]")
    # a failed item with its note
    page.locator("li[data-item='2'] input[name=note]").fill("灭火器已过期")
    page.locator("li[data-item='2'] [data-testid=mark-fail]").click()
    page.wait_for_selector("li[data-item='2'][data-result=fail]")
    page.locator("li[data-item='3'] [data-testid=mark-na]").click()
    page.wait_for_selector("li[data-item='3'][data-result=na]")
    # then
    assert page.locator("[data-testid=checklist-progress]").inner_text() == "3/3"
    link = page.locator("li[data-item='2'] [data-testid=finding-link]")
    rect = Rectification.objects.get()
    assert rect.ticket.number in link.inner_text()
    assert rect.hazard == "灭火器在有效期内: 灭火器已过期"
    assert ChecklistResult.objects.get(item__position=1).photo.filename == "油温.png"
    # the rectification's page: the owner starts it
    link.click()
    page.wait_for_selector("[data-testid=rect-state]")
    page.locator("[data-testid=rect-rectifying] button").click()
    page.wait_for_selector("[data-testid=rect-submitted]")
    rect.refresh_from_db()
    assert rect.state == "rectifying"
