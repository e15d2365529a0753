"""Staff screens of the knowledge base: list, article, write, versions, files, workflow, and
the ticket-page helpers (insert into a reply, draft from a work order)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.files import protected_file_response
from kefu.core.permissions import has_perm, require_perm
from kefu.kb import services, states
from kefu.kb.access import access_article, access_file, visible_articles
from kefu.kb.forms import ArticleForm, initial_for
from kefu.kb.models import Article, ArticleVersion, Deflection, KbCategory
from kefu.kb.render import to_html
from kefu.kb.search import plain
from kefu.search import services as search
from kefu.tickets.access import access_ticket


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return " ".join(exc.messages)


@login_required
def article_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "kb.view")
    params = request.GET
    q = params.get("q", "").strip()[:200]
    articles = visible_articles(request.user).select_related("category", "owner")
    if params.get("status") in Article.Status.values:
        articles = articles.filter(status=params["status"])
    if params.get("visibility") in Article.Visibility.values:
        articles = articles.filter(visibility=params["visibility"])
    if params.get("category", "").isdecimal() and params["category"].isascii():
        articles = articles.filter(category_id=int(params["category"]))
    if params.get("due") == "1":
        articles = articles.filter(review_by__lte=timezone.localdate())
    results = None
    if q:
        results = search.search(request.user, q, search.Filters(kinds=("article",)), limit=100)
        order = {h.object_id: i for i, h in enumerate(results.hits)}
        rows = [a for a in articles.filter(pk__in=order)]
        rows.sort(key=lambda a: order[a.pk])
    else:
        rows = list(articles.order_by("-updated_at")[:200])
    since = timezone.now() - dt.timedelta(days=30)
    deflections = Deflection.objects.filter(created_at__gte=since).aggregate(
        shown=Count("id"), solved=Count("id", filter=Q(outcome=Deflection.Outcome.SOLVED))
    )
    totals = (
        visible_articles(request.user)
        .filter(status=Article.Status.PUBLISHED)
        .aggregate(n=Count("id"), views=Sum("views"), up=Sum("helpful"), down=Sum("not_helpful"))
    )
    return render(
        request,
        "kb/list.html",
        {
            "articles": rows,
            "params": params,
            "q": q,
            "categories": KbCategory.objects.all(),
            "statuses": Article.Status.choices,
            "visibilities": Article.Visibility.choices,
            "deflections": deflections,
            "totals": totals,
            "today": timezone.localdate(),
            "nav": "kb",
        },
    )


@login_required
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    require_perm(request.user, "kb.view")
    article = access_article(request.user, article_id)
    if article.status == Article.Status.PUBLISHED:
        services.count_view(article)
    moves = [
        (to, move)
        for to, move in states.moves_from(article.status)
        if has_perm(request.user, move.perm)
    ]
    may_edit = has_perm(request.user, "kb.edit") and (
        article.status != Article.Status.PUBLISHED or has_perm(request.user, "kb.publish")
    )
    from kefu.core.events import history

    return render(
        request,
        "kb/detail.html",
        {
            "article": article,
            "html": to_html(article.body),
            "files": article.files.all(),
            "related": visible_articles(request.user).filter(
                pk__in=article.related.values_list("pk", flat=True),
                status=Article.Status.PUBLISHED,
            ),
            "versions": article.versions.select_related("editor")[:50],
            "moves": moves,
            "may_edit": may_edit,
            "events": history("article", article.pk, limit=30),
            "nav": "kb",
        },
    )


@login_required
def article_create(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "kb.edit")
    form = ArticleForm(request.POST or None, initial={"visibility": Article.Visibility.INTERNAL})
    if request.method == "POST" and form.is_valid():
        try:
            article = services.create_article(form.to_input(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("kb:detail", article_id=article.pk)
    return render(
        request,
        "kb/form.html",
        {"form": form, "nav": "kb"},
        status=400 if form.errors else 200,
    )


@login_required
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = access_article(request.user, article_id, perm="kb.edit")
    form = ArticleForm(request.POST or None, initial=initial_for(article), article=article)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_article(article, form.to_input(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Article saved."))
            return redirect("kb:detail", article_id=article.pk)
    return render(
        request,
        "kb/form.html",
        {"form": form, "article": article, "nav": "kb"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def article_transition(request: HttpRequest, article_id: int) -> HttpResponse:
    article = access_article(request.user, article_id)
    to = request.POST.get("to", "")
    if to not in Article.Status.values:
        messages.error(request, _("Unknown status."))
        return redirect("kb:detail", article_id=article.pk)
    try:
        services.transition_article(
            article, to, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Status changed to %(s)s.") % {"s": Article.Status(to).label})
    return redirect("kb:detail", article_id=article.pk)


@login_required
def version_diff(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    article = access_article(request.user, article_id, perm="kb.view")
    versions = {v.number: v for v in article.versions.filter(number__in=[number, number - 1])}
    new = versions.get(number)
    if new is None:
        raise Http404
    old = versions.get(number - 1) or ArticleVersion(title="", body="", number=0)
    return render(
        request,
        "kb/diff.html",
        {
            "article": article,
            "new": new,
            "old": old,
            "lines": services.diff_versions(old, new),
            "may_restore": has_perm(request.user, "kb.edit") and number != article.version,
            "nav": "kb",
        },
    )


@login_required
@require_POST
def version_restore(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    article = access_article(request.user, article_id, perm="kb.edit")
    try:
        services.restore_version(article, number, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Version %(n)s restored as a new version.") % {"n": number})
    return redirect("kb:detail", article_id=article.pk)


@login_required
@require_POST
def file_add(request: HttpRequest, article_id: int) -> HttpResponse:
    article = access_article(request.user, article_id, perm="kb.edit")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
        return redirect("kb:detail", article_id=article.pk)
    try:
        item = services.add_file(article, upload, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        url = reverse("kb:file", args=[item.pk])
        snippet = f"![{item.name}]({url})" if item.is_image else f"[{item.name}]({url})"
        messages.success(request, _("File added. Put it in the text with: %(s)s") % {"s": snippet})
    return redirect("kb:detail", article_id=article.pk)


@login_required
@require_POST
def file_remove(request: HttpRequest, file_id: int) -> HttpResponse:
    item = access_file(request.user, file_id)
    article_id = item.article_id
    services.remove_file(item, actor=request.user)
    messages.success(request, _("File removed."))
    return redirect("kb:detail", article_id=article_id)


def file_download(request: HttpRequest, file_id: int) -> FileResponse:
    """Images and attachments: staff and the help centre alike, as the article allows."""
    item = access_file(request.user, file_id)
    return protected_file_response(
        item.file, name=item.name, content_type=item.content_type, size=item.size,
        inline=item.is_image,
    )  # fmt: skip


@login_required
@require_POST
def vote(request: HttpRequest, article_id: int) -> HttpResponse:
    article = access_article(request.user, article_id)
    services.vote(article, voter=f"u{request.user.pk}", helpful=request.POST.get("helpful") == "1")
    messages.success(request, _("Thank you for the feedback."))
    return redirect("kb:detail", article_id=article.pk)


@login_required
def insert(request: HttpRequest, article_id: int) -> JsonResponse:
    """What the ticket page puts into a reply: the help-centre link, or the article's text."""
    require_perm(request.user, "tickets.reply")
    article = access_article(request.user, article_id)
    if article.status != Article.Status.PUBLISHED:
        return JsonResponse({"error": _("Only published articles go into replies.")}, status=400)
    if request.GET.get("mode") == "text":
        text = f"{article.title}\n\n{plain(article.body).strip()}\n"
    elif article.is_public:
        link = request.build_absolute_uri(reverse("portal:help_article", args=[article.pk]))
        text = f"{article.title}: {link}\n"
    else:
        return JsonResponse(
            {"error": _("This article is internal: insert its text, not a link.")}, status=400
        )
    return JsonResponse({"text": text})


@login_required
@require_POST
def from_ticket(request: HttpRequest, number: str) -> HttpResponse:
    ticket = access_ticket(request.user, number)
    try:
        article = services.draft_from_ticket(ticket, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc) if isinstance(exc, ValidationError) else str(exc))
        return redirect("tickets:detail", number=ticket.number)
    messages.success(
        request, _("Draft article created from %(n)s: check and edit it.") % {"n": ticket.number}
    )
    return redirect("kb:edit", article_id=article.pk)


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    """Suggested articles on the ticket page, from its title and description."""
    from django.template.loader import render_to_string

    user = request.user
    if not has_perm(user, "kb.view"):
        return ""
    # The same work order asks the same question until it changes: ask once per version.
    key = f"kb:panel:{ticket.pk}:{ticket.updated_at.timestamp()}:{has_perm(user, 'kb.edit')}"
    hits = cache.get(key)
    if hits is None:
        query = f"{ticket.title} {ticket.description[:200]}"
        hits = search.search(
            user,
            query,
            search.Filters(kinds=("article",), status=Article.Status.PUBLISHED),
            limit=5,
        ).hits
        cache.set(key, hits, 600)
    return render_to_string(
        "kb/_ticket_panel.html",
        {
            "hits": hits,
            "ticket": ticket,
            "can_reply": has_perm(user, "tickets.reply"),
            "can_draft": has_perm(user, "kb.edit") and ticket.resolved_at is not None,
        },
        request=request,
    )
