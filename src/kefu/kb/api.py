"""/api/v1/kb: knowledge-base articles — list, read, write, move through review."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from kefu.core.api_base import Input, Out
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.kb import services
from kefu.kb.access import access_article, visible_articles
from kefu.kb.models import Article

router = Router(tags=["knowledge base"])


class ArticleOut(Out):
    id: int
    title: str
    summary: str
    body: str
    category_id: int
    category: str
    status: str
    visibility: str
    tags: list[str]
    owner_id: int
    version: int
    views: int
    helpful: int
    not_helpful: int
    review_by: dt.date | None
    related_ids: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None


def _out(a: Article, user: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "title": a.title,
        "summary": a.summary,
        "body": a.body,
        "category_id": a.category_id,
        "category": a.category.name,
        "status": a.status,
        "visibility": a.visibility,
        "tags": [t.name for t in a.tags.all()],
        "owner_id": a.owner_id,
        "version": a.version,
        "views": a.views,
        "helpful": a.helpful,
        "not_helpful": a.not_helpful,
        "review_by": a.review_by,
        "related_ids": sorted(
            visible_articles(user)
            .filter(pk__in=[r.pk for r in a.related.all()])
            .values_list("pk", flat=True)
        ),
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "published_at": a.published_at,
    }


class ArticleFilter(Input):
    status: Literal["draft", "review", "published", "archived"] | None = None
    visibility: Literal["public", "internal"] | None = None
    category: PathId | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/kb/articles", response=list[ArticleOut], summary="Articles you may read")
def list_articles(request: HttpRequest, f: Query[ArticleFilter]) -> list[dict[str, Any]]:
    qs = visible_articles(request.user).select_related("category")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.visibility:
        qs = qs.filter(visibility=f.visibility)
    if f.category:
        qs = qs.filter(category_id=f.category)
    qs = qs.prefetch_related("tags", "related").order_by("-updated_at")[: f.limit]
    return [_out(a, request.user) for a in qs]


@router.get("/kb/articles/{article_id}", response=ArticleOut, summary="One article")
def get_article(request: HttpRequest, article_id: PathId) -> dict[str, Any]:
    return _out(access_article(request.user, article_id), request.user)


class ArticleIn(Input):
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=50000)
    category_id: BodyId
    summary: str = Field("", max_length=300)
    visibility: Literal["public", "internal"] = "internal"
    tags: list[str] = Field(default_factory=list, max_length=20)
    review_by: dt.date | None = None
    related_ids: list[BodyId] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=200)

    def to_input(self) -> services.ArticleInput:
        return services.ArticleInput(**self.model_dump())


@router.post("/kb/articles", response={201: ArticleOut}, summary="Write a draft article")
def create_article(request: HttpRequest, payload: ArticleIn) -> Status[Any]:
    require_perm(request.user, "kb.edit")
    article = services.create_article(payload.to_input(), actor=request.user)
    return Status(201, _out(access_article(request.user, article.pk), request.user))


@router.put(
    "/kb/articles/{article_id}", response=ArticleOut, summary="Save a new version of an article"
)
def update_article(request: HttpRequest, article_id: PathId, payload: ArticleIn) -> dict[str, Any]:
    article = access_article(request.user, article_id, perm="kb.edit")
    services.update_article(article, payload.to_input(), actor=request.user)
    return _out(access_article(request.user, article_id), request.user)


class ArticleTransitionIn(Input):
    to: Literal["draft", "review", "published", "archived"]
    reason: str = Field("", max_length=500)


@router.post(
    "/kb/articles/{article_id}/transition",
    response=ArticleOut,
    summary="Send for review, publish, send back or archive",
)
def transition(
    request: HttpRequest, article_id: PathId, payload: ArticleTransitionIn
) -> dict[str, Any]:
    article = access_article(request.user, article_id)
    services.transition_article(article, payload.to, actor=request.user, reason=payload.reason)
    return _out(access_article(request.user, article_id), request.user)
