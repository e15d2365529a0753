"""/api/v1: the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core import selectors
from kefu.core.api_base import Out
from kefu.core.pagination import paginate
from kefu.core.permissions import require_perm
from kefu.core.validation import PathId

router = Router(tags=["audit"])


class EventOut(Out):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: int
    object_repr: str
    changes: dict[str, Any]
    data: dict[str, Any]
    source: str
    ip: str | None
    request_id: str


class EventPage(Out):
    items: list[EventOut]
    next_cursor: str | None


class EventFilterIn(Schema):
    actor: PathId | None = Field(None, description="User id")
    action: str | None = Field(None, max_length=64)
    object_type: str | None = Field(None, max_length=64)
    object_id: PathId | None = None
    source: str | None = Field(None, max_length=16)
    after: dt.datetime | None = None
    before: dt.datetime | None = None
    cursor: str | None = None
    limit: int = Field(100, ge=1, le=500)


@router.get("/events", response=EventPage, summary="The audit log, newest first")
def list_events(request: HttpRequest, filters: Query[EventFilterIn]) -> dict[str, Any]:
    require_perm(request.user, "audit.view")
    qs = selectors.filter_events(
        selectors.EventFilters(**filters.model_dump(exclude={"cursor", "limit"}))
    )
    page = paginate(
        qs, sort="-id", keys=selectors.EVENT_SORT, cursor=filters.cursor, limit=filters.limit
    )
    return {
        "items": [
            {
                "id": e.pk,
                "at": e.at,
                "actor_id": e.actor_id,
                "actor": e.actor_label,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "object_repr": e.object_repr,
                "changes": e.changes,
                "data": e.data,
                "source": e.source,
                "ip": e.ip,
                "request_id": e.request_id,
            }
            for e in page.items
        ],
        "next_cursor": page.next_cursor,
    }
