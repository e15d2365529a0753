"""Who may read which article. Every path that loads an article comes through here: the staff
pages, the help centre, files, votes, search and the API.

- staff with ``kb.view`` read published articles, public and internal;
- staff with ``kb.edit`` also read drafts, articles in review and archived ones;
- everyone else (customers, visitors) reads published public articles only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.permissions import has_perm, require_perm
from kefu.kb.models import Article, ArticleFile

PUBLIC = Q(status=Article.Status.PUBLISHED, visibility=Article.Visibility.PUBLIC)


def visibility_q(user: Any) -> Q | None:
    """A filter on Article for what ``user`` may read; None means every article."""
    if has_perm(user, "kb.edit"):
        return None
    if has_perm(user, "kb.view"):
        return Q(status=Article.Status.PUBLISHED)
    return PUBLIC


def visible_articles(user: Any) -> QuerySet[Article]:
    q = visibility_q(user)
    return Article.objects.all() if q is None else Article.objects.filter(q)


def access_article(user: Any, pk: Any, *, perm: str | None = None) -> Article:
    """One article for ``user``: 404 if they may not read it, 403 if they may read it but not
    do ``perm``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    article = visible_articles(user).select_related("category", "owner").filter(pk=pk).first()
    if article is None:
        raise Http404
    if perm:
        require_perm(user, perm)
    return article


def access_file(user: Any, pk: Any) -> ArticleFile:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    item = ArticleFile.objects.filter(pk=pk).first()
    if item is None or not visible_articles(user).filter(pk=item.article_id).exists():
        raise Http404
    return item
