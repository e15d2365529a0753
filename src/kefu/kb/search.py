"""Articles in search: title, summary, text and tags. Who finds which follows
:mod:`kefu.kb.access`; the help centre asks for public articles only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import has_perm
from kefu.kb.models import Article
from kefu.search import text
from kefu.search.backends import DocRow
from kefu.search.registry import Source, register_source
from kefu.search.services import mark_changed

_MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|[#>*_`|]+|\[([^\]]*)\]\([^)]*\)")


def plain(markdown: str) -> str:
    """Markdown without its markup (images dropped, links by their words)."""
    return _MARKUP.sub(lambda m: m.group(1) or " ", markdown)


def build(ids: Sequence[int]) -> list[DocRow]:
    rows = []
    for a in Article.objects.filter(pk__in=ids).select_related("category").prefetch_related("tags"):
        tags = " ".join(t.name for t in a.tags.all())
        body = "\n".join(p for p in (a.summary, plain(a.body)) if p)
        rows.append(
            DocRow(
                kind="article",
                object_id=a.pk,
                title=a.title,
                body=body,
                analyzed=text.analyze(f"{a.title} {tags}", f"{body}\n{a.category.name}"),
                created_at=a.created_at,
                updated_at=a.updated_at,
                status=a.status,
                type_code=str(a.category_id),
                created_by_id=a.owner_id,
                is_public=a.visibility == Article.Visibility.PUBLIC,
            )
        )
    return rows


def visible(user: Any) -> Q | None:
    """Editors find every article; other staff published ones; everyone else published public
    ones."""
    if has_perm(user, "kb.edit"):
        return None
    if has_perm(user, "kb.view"):
        return Q(status=Article.Status.PUBLISHED)
    return Q(status=Article.Status.PUBLISHED, is_public=True)


def url(user: Any, doc: Any) -> str:
    if has_perm(user, "kb.view"):
        return reverse("kb:detail", args=[doc.object_id])
    return reverse("portal:help_article", args=[doc.object_id])


def _saved(sender: Any, instance: Article, **kwargs: Any) -> None:
    mark_changed("article", instance.pk)


def register() -> None:
    register_source(
        Source(
            kind="article",
            label=_("Article"),
            model=Article,
            build=build,
            visible=visible,
            url=url,
        )
    )
    post_save.connect(_saved, sender=Article, dispatch_uid="search_article")
