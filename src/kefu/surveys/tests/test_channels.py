"""The chat hook, the hotline hook with the SMS gateway, and the IVR result import."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from kefu.surveys import services
from kefu.surveys.imports import import_ivr_results
from kefu.surveys.models import Invitation, Response
from kefu.surveys.sms import LogBackend
from kefu.testing.factories import make_customer


def test_chat_hook_returns_a_link_for_the_widget(centre, survey):
    customer = make_customer()
    result = services.chat_ended(chat_ref="chat-42", customer=customer, agent=centre["agent"])
    assert result is not None
    invitation, token = result
    assert (invitation.delivery, invitation.chat_ref, invitation.trigger) == (
        "chat",
        "chat-42",
        "chat_ended",
    )
    assert services.invitation_for_token(token).pk == invitation.pk
    # throttled: a second chat within 30 days sends nothing
    assert services.chat_ended(chat_ref="chat-43", customer=customer) is None


def _call(centre, external_id="c-1", customer=None):
    from kefu.calls.models import Call

    return Call.objects.create(
        source="test",
        external_id=external_id,
        started_at=timezone.now(),
        caller="13800138000",
        customer=customer or make_customer(phone="13800138000"),
        user=centre["agent"],
    )


def test_call_hook_sends_an_sms_link(centre, survey):
    LogBackend.outbox.clear()
    call = _call(centre)
    invitation = services.call_ended(call=call)
    assert invitation.delivery == "sms"
    assert len(LogBackend.outbox) == 1
    phone, text = LogBackend.outbox[0]
    assert phone.endswith("13800138000")
    assert services.link_token(invitation) in text


def test_ivr_import_records_answers(centre, survey):
    _call(centre, "c-1")
    _call(centre, "c-2")
    text = "call_id,answered_at,csat,nps\nc-1,2026-11-30T10:00:00+08:00,4,9\nc-2,2026-11-30T11:00:00+08:00,1,\n"
    assert import_ivr_results(actor=None, name="ivr.csv", text=text, template=survey) == 2
    rows = list(
        Response.objects.order_by("answered_at").values_list("via", "csat_score", "nps_score")
    )
    assert rows == [("ivr", 4, 9), ("ivr", 1, None)]
    assert Response.objects.first().answered_at == dt.datetime(2026, 11, 30, 2, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "call_id,answered_at,csat\nc-1,2026-11-30T10:00:00+08:00,4\nc-9,2026-11-30T10:00:00+08:00,4\n",
            "ivr.csv line 3: no call “c-9” with a known customer.",
        ),
        (
            "call_id,answered_at,csat\nc-1,2026-11-30 10:00,4\n",
            "ivr.csv line 2: answered_at must be a date and time with a zone.",
        ),
        ("call_id,csat\nc-1,4\n", "ivr.csv line 1: missing columns answered_at."),
        (
            "call_id,answered_at,csat\nc-1,2026-11-30T10:00:00+08:00,7\n",
            "ivr.csv line 2: csat: Choose a number from 1 to 4.",
        ),
    ],
)
def test_ivr_import_refuses_the_whole_file(centre, survey, text, message):
    _call(centre, "c-1")
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        import_ivr_results(actor=None, name="ivr.csv", text=text, template=survey)
    assert message in exc.value.messages
    assert Response.objects.count() == 0
    assert Invitation.objects.count() == 0


def test_ivr_import_command_names_file_and_line(centre, survey, tmp_path):
    path = tmp_path / "ivr.json"
    path.write_text('[{"call_id": "nope", "answered_at": "2026-11-30T10:00:00+08:00", "csat": 3}]')
    with pytest.raises(CommandError) as exc:
        call_command("import_ivr_results", "csat", str(path))
    assert f"{path} line 1: no call “nope” with a known customer." in str(exc.value)


def test_ivr_import_through_the_api(centre, survey):
    from kefu.testing.factories import ApiClient

    _call(centre, "c-7")
    body = {
        "template": survey.pk,
        "filename": "ivr.json",
        "content": '[{"call_id": "c-7", "answered_at": "2026-11-30T10:00:00+08:00", "csat": 2}]',
    }
    assert ApiClient(centre["agent"]).post("/api/v1/surveys/ivr-import", body).status_code == 403
    r = ApiClient(centre["supervisor"]).post("/api/v1/surveys/ivr-import", body)
    assert (r.status_code, r.json()) == (200, {"imported": 1})
    again = ApiClient(centre["supervisor"]).post("/api/v1/surveys/ivr-import", body)
    assert again.status_code == 422
    assert again.json()["error"]["fields"] == {
        "file": ["ivr.json 第 1 行：通话“c-7”已有 IVR 评价。"]
    }
    assert Response.objects.count() == 1


def test_the_agents_wrap_up_of_a_call_sends_the_after_call_survey(
    centre, survey, django_capture_on_commit_callbacks
):
    from kefu.calls.models import WrapUpCode
    from kefu.calls.services import wrap_up

    LogBackend.outbox.clear()
    call = _call(centre)
    WrapUpCode.objects.get_or_create(code="solved", defaults={"label": "已解决", "active": True})
    with django_capture_on_commit_callbacks(execute=True):
        wrap_up(actor=centre["agent"], call=call, code="solved", note="已解答")
        # wrapping the same call up again sends nothing more
        wrap_up(actor=centre["agent"], call=call, code="solved", note="补充说明")
    assert len(LogBackend.outbox) == 1
    assert Invitation.objects.filter(call=call).count() == 1
