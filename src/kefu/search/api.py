"""/api/v1/search: one search over work orders, customers and articles, with the caller's
access rules applied inside the query."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field, model_validator

from kefu.core.api_base import Input, Out
from kefu.core.validation import PathId
from kefu.search import services

router = Router(tags=["search"])


class SearchIn(Input):
    q: str = Field(..., min_length=1, max_length=200, description="Words, numbers or a phone")
    kind: Literal["ticket", "customer", "article"] | None = None
    status: str | None = Field(None, max_length=20)
    type: str | None = Field(None, max_length=40, description="Work-order type code")
    team: PathId | None = Field(None, ge=1)
    since: dt.date | None = Field(None, description="Created on or after this day")
    until: dt.date | None = Field(None, description="Created on or before this day")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1900)

    @model_validator(mode="after")
    def dates_in_order(self) -> SearchIn:
        if self.since and self.until and self.since > self.until:
            raise ValueError("until is before since")
        return self


class Piece(Out):
    text: str
    match: bool


class HitOut(Out):
    kind: str
    id: int
    title: str
    url: str
    status: str
    score: float
    updated_at: dt.datetime
    title_pieces: list[Piece]
    snippet: list[Piece]


class SearchOut(Out):
    total: int
    capped: bool = Field(description="More records matched than were ranked (the newest were)")
    broadened: bool = Field(description="No record held every word; hits hold some of them")
    took_ms: float
    words: list[list[str]] = Field(description="The words searched for, with their synonyms")
    numbers: list[str]
    hits: list[HitOut]


@router.get("/search", response=SearchOut, summary="Search work orders, customers and articles")
def search(request: HttpRequest, params: Query[SearchIn]) -> dict[str, Any]:
    filters = services.Filters(
        kinds=(params.kind,) if params.kind else (),
        status=params.status or "",
        type_code=params.type or "",
        team_id=params.team,
        since=params.since,
        until=params.until,
    )
    result = services.search(
        request.user, params.q, filters, limit=params.limit, offset=params.offset
    )
    return {
        "total": result.total,
        "capped": result.capped,
        "broadened": result.broadened,
        "took_ms": round(result.took_ms, 1),
        "words": [list(g) for g in result.query.groups],
        "numbers": list(result.query.numbers),
        "hits": [
            {
                "kind": h.kind,
                "id": h.object_id,
                "title": h.title,
                "url": request.build_absolute_uri(h.url),
                "status": h.status,
                "score": h.score,
                "updated_at": h.updated_at,
                "title_pieces": [{"text": t, "match": m} for t, m in h.title_pieces],
                "snippet": [{"text": t, "match": m} for t, m in h.snippet],
            }
            for h in result.hits
        ],
    }
