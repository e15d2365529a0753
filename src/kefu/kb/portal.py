"""The help centre in the customer portal: browse and search public articles, vote, and the
suggestions shown while a customer writes a request (with the deflection record)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.kb import services
from kefu.kb.access import PUBLIC, access_article, visible_articles
from kefu.kb.models import Article, Deflection, KbCategory
from kefu.kb.render import to_html
from kefu.portal.access import portal_login_required
from kefu.search import services as search

SUGGESTIONS = 5


def _public(request: HttpRequest):  # type: ignore[no-untyped-def]
    """What the help centre shows: public articles, even to staff browsing it."""
    return visible_articles(request.user).filter(PUBLIC)


def help_home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    results = None
    if q:
        results = search.search(
            request.user,
            q,
            search.Filters(kinds=("article",), status=Article.Status.PUBLISHED, public_only=True),
            limit=20,
        )
    categories = KbCategory.objects.annotate(
        n=Count("articles", filter=Q(articles__status="published", articles__visibility="public"))
    ).filter(n__gt=0)
    return render(
        request,
        "kb/portal/home.html",
        {
            "q": q,
            "results": results,
            "categories": categories,
            "popular": _public(request).order_by("-views")[:8],
            "nav": "help",
        },
    )


def help_category(request: HttpRequest, category_id: int) -> HttpResponse:
    category = KbCategory.objects.filter(pk=category_id).first()
    if category is None:
        raise Http404
    return render(
        request,
        "kb/portal/category.html",
        {
            "category": category,
            "articles": _public(request).filter(category=category).order_by("title"),
            "nav": "help",
        },
    )


def help_article(request: HttpRequest, article_id: int) -> HttpResponse:
    article = access_article(request.user, article_id)
    if not article.is_public:
        raise Http404
    services.count_view(article)
    deflection = None
    marker = request.GET.get("d", "")
    if marker.isascii() and marker.isdecimal() and request.user.is_authenticated:
        deflection = Deflection.objects.filter(
            pk=int(marker), user_id=request.user.pk, article=article
        ).first()
    return render(
        request,
        "kb/portal/article.html",
        {
            "article": article,
            "html": to_html(article.body),
            "files": article.files.all(),
            "related": _public(request).filter(pk__in=article.related.values_list("pk", flat=True)),
            "deflection": deflection,
            "nav": "help",
        },
    )


@require_POST
def help_vote(request: HttpRequest, article_id: int) -> HttpResponse:
    article = access_article(request.user, article_id)
    if not article.is_public:
        raise Http404
    if request.user.is_authenticated:
        voter = f"u{request.user.pk}"
    else:
        if not request.session.session_key:
            request.session.save()
        voter = f"s{request.session.session_key}"
    services.vote(article, voter=voter, helpful=request.POST.get("helpful") == "1")
    messages.success(request, _("Thank you for the feedback."))
    return redirect("portal:help_article", article_id=article.pk)


@portal_login_required
def help_suggest(request: HttpRequest) -> HttpResponse:
    """Articles for what the customer is typing into a new request (HTMX partial)."""
    words = f"{request.GET.get('title', '')} {request.GET.get('description', '')}".strip()[:300]
    hits = []
    if len(words) >= 2:
        hits = search.search(
            request.user,
            words,
            search.Filters(kinds=("article",), status=Article.Status.PUBLISHED, public_only=True),
            limit=SUGGESTIONS,
        ).hits
    return render(request, "kb/portal/_suggestions.html", {"hits": hits, "words": words})


@portal_login_required
def help_suggested(request: HttpRequest, article_id: int) -> HttpResponse:
    """The customer opened a suggestion: record it, then show the article with the question
    whether it solved the problem."""
    article = access_article(request.user, article_id)
    if not article.is_public:
        raise Http404
    row = services.record_deflection(article, user=request.user, query=request.GET.get("q", ""))
    return redirect(f"{reverse('portal:help_article', args=[article.pk])}?d={row.pk}")


@portal_login_required
@require_POST
def help_outcome(request: HttpRequest, deflection_id: int) -> HttpResponse:
    solved = request.POST.get("solved") == "1"
    row = services.resolve_deflection(deflection_id, user=request.user, solved=solved)
    if row is None:
        raise Http404
    if solved:
        messages.success(request, _("Glad that helped. No request was needed."))
        return redirect("portal:help")
    messages.info(request, _("Sorry it did not help. Please tell us what you need."))
    return redirect("portal:ticket_new")
