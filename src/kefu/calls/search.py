"""Calls in search: the caller's number, the customer, the queue and agent, the wrap-up code and
the agent's note.

Indexed are the calls people work with: every call the CTI server reported live, and any call
an agent linked to a customer or a work order or wrapped up. A month of PBX history imported in
bulk (millions of calls nobody touched) stays out of the index; the call list filters it by
caller. Who finds calls is who sees them (``calls.access``: ``calls.view``); a call linked to a
customer carries the customer's name in its row (title and matched text), so only those who
may also see customers (``customers.view``, narrowed by a token's scopes) find it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.calls.models import WORKED, Call
from kefu.core.permissions import has_perm
from kefu.search import text
from kefu.search.backends import DocRow
from kefu.search.registry import Source
from kefu.search.services import mark_changed

KIND = "call"


def indexed(call: Call) -> bool:
    return bool(
        call.source.startswith("cti:")
        or call.customer_id
        or call.ticket_id
        or call.wrapup_id
        or call.wrapup_note
    )


def build(ids: Sequence[int]) -> list[DocRow]:
    rows = []
    calls = (
        Call.objects.filter(pk__in=ids)
        .filter(WORKED)
        .select_related("customer", "wrapup", "ticket", "user")
    )
    for call in calls:
        when = timezone.localtime(call.started_at)
        caller = call.caller or _("unknown number")
        customer = call.customer.name if call.customer else ""
        title = f"{caller} · {customer} · {when:%Y-%m-%d %H:%M}" if customer else (
            f"{caller} · {when:%Y-%m-%d %H:%M}"
        )  # fmt: skip
        parts = [
            call.get_outcome_display(),
            call.queue,
            call.agent,
            call.user.display_label if call.user else "",
            call.callee,
            call.wrapup.label if call.wrapup else "",
            call.ticket.number if call.ticket else "",
            call.wrapup_note,
        ]
        body = "\n".join(p for p in parts if p)
        rows.append(
            DocRow(
                kind=KIND,
                object_id=call.pk,
                title=title,
                body=body,
                analyzed=text.analyze(title, body, [call.caller] if call.caller else []),
                created_at=call.started_at,
                updated_at=call.updated_at,
                status=call.outcome,
                type_code=call.wrapup.code if call.wrapup else "",
                customer_id=call.customer_id,
                assignee_id=call.user_id,
                ref=call.external_id[:40],
            )
        )
    return rows


def visible(user: Any) -> Q | None:
    """``calls.access.visible_calls``'s rule (``calls.view`` sees every call), and a call linked
    to a customer only for who may see customers: its hit names the customer, and a query that
    matches the name would tell who called even without it."""
    if not has_perm(user, "calls.view"):
        return Q(pk__in=[])
    if has_perm(user, "customers.view"):
        return None
    return Q(customer_id__isnull=True)


def url(user: Any, doc: Any) -> str:
    return reverse("calls:detail", args=[doc.object_id])


@dataclass(frozen=True)
class CallSource(Source):
    """Only the calls worth finding (see the module's note) are indexed or re-indexed."""

    def changed_since(self, when: Any) -> Iterable[int]:
        ids: Iterable[int] = (
            Call.objects.filter(WORKED, updated_at__gt=when)
            .order_by("updated_at")
            .values_list("pk", flat=True)
        )
        return ids

    def all_ids(self) -> Iterable[int]:
        ids: Iterable[int] = Call.objects.filter(WORKED).order_by("pk").values_list("pk", flat=True)
        return ids


def _saved(sender: Any, instance: Call, **kwargs: Any) -> None:
    if indexed(instance):
        mark_changed(KIND, instance.pk)


def source() -> CallSource:
    post_save.connect(_saved, sender=Call, dispatch_uid="search_call")
    return CallSource(
        kind=KIND, label=gettext_lazy("Call"), model=Call, build=build, visible=visible, url=url
    )
