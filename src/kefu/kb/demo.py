"""Demo knowledge base: categories, published articles (public and internal), one in review,
one draft, votes and views; the synonym groups; and, last, the search index of everything."""

from __future__ import annotations

import datetime as dt

from kefu.accounts.models import User
from kefu.core.demo import DemoContext, seeder
from kefu.core.permissions import Role
from kefu.kb import services
from kefu.kb.demo_articles import ARTICLES, CATEGORIES, SYNONYMS
from kefu.kb.models import Article, KbCategory
from kefu.search.models import SynonymGroup


@seeder(60)
def seed_kb(ctx: DemoContext) -> None:
    if Article.objects.exists():
        return
    rng = ctx.rng
    editor = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    writers = list(User.objects.filter(role=Role.AGENT_L2, is_active=True).order_by("pk")[:3])
    if editor is None:
        return
    writers = writers or [editor]
    categories = [
        KbCategory.objects.create(name=name, description=desc, icon=icon, sort=i * 10)
        for i, (name, desc, icon) in enumerate(CATEGORIES)
    ]
    for i, (_key, cat, visibility, title, summary, body, tags) in enumerate(ARTICLES):
        owner = writers[i % len(writers)]
        article = services.create_article(
            services.ArticleInput(
                title=title,
                summary=summary,
                body=body,
                category_id=categories[cat].pk,
                visibility=visibility,
                tags=tags.split(),
                review_by=ctx.now.date() + dt.timedelta(days=rng.randint(-10, 200)),
            ),
            actor=owner,
        )
        if i == len(ARTICLES) - 2:
            services.transition_article(article, Article.Status.REVIEW, actor=owner)
            continue
        if i == len(ARTICLES) - 1:
            continue
        services.transition_article(article, Article.Status.PUBLISHED, actor=editor)
        views = rng.randint(20, 900)
        Article.objects.filter(pk=article.pk).update(views=views)
        for n in range(rng.randint(0, 12)):
            services.vote(article, voter=f"demo{n}", helpful=rng.random() < 0.8)
    for words, note in SYNONYMS:
        SynonymGroup.objects.create(words=words, note=note)


@seeder(99)
def seed_search_index(ctx: DemoContext) -> None:
    """Index every demo record (bulk-loaded records bypass the save signals)."""
    from kefu.search.services import reindex

    reindex()
