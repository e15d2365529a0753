"""The rules of the knowledge base: writing and versioning articles, the review workflow,
files, votes, views, help-centre deflection, drafts from solved work orders, review reminders."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import events
from kefu.core.notifications import notify
from kefu.core.permissions import has_perm, require_perm
from kefu.kb import states
from kefu.kb.models import (
    Article,
    ArticleFile,
    ArticleVersion,
    ArticleVote,
    Deflection,
    KbCategory,
    KbTag,
)

SEARCHED_FIELDS = ("title", "summary", "body", "category", "status", "visibility", "tags")


@dataclass(frozen=True)
class ArticleInput:
    title: str
    body: str
    category_id: int
    summary: str = ""
    visibility: str = Article.Visibility.INTERNAL
    tags: Sequence[str] = ()
    review_by: dt.date | None = None
    related_ids: Sequence[int] = ()
    note: str = ""


def _clean(data: ArticleInput) -> ArticleInput:
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = _("An article needs a title.")
    if not data.body.strip():
        errors["body"] = _("An article needs some text.")
    if data.visibility not in Article.Visibility.values:
        errors["visibility"] = _("Choose public or internal.")
    if not KbCategory.objects.filter(pk=data.category_id).exists():
        errors["category_id"] = _("Choose a category.")
    if any(len(t) > 40 for t in data.tags):
        errors["tags"] = _("A tag may have at most 40 characters.")
    if errors:
        raise ValidationError(errors)
    return data


def _may_edit(actor: Any, article: Article) -> None:
    require_perm(actor, "kb.edit")
    if article.status == Article.Status.PUBLISHED and not has_perm(actor, "kb.publish"):
        raise PermissionDenied(_("Only editors may change a published article."))


def _set_tags(article: Article, names: Sequence[str]) -> None:
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        tag, _created = KbTag.objects.get_or_create(name=name)
        tags.append(tag)
    article.tags.set(tags)


def _snapshot(article: Article, actor: Any, note: str) -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        summary=article.summary,
        body=article.body,
        note=note[:200],
        editor=actor,
    )


def create_article(
    data: ArticleInput, *, actor: Any, source_ticket_id: int | None = None
) -> Article:
    require_perm(actor, "kb.edit")
    data = _clean(data)
    with transaction.atomic():
        article = Article.objects.create(
            title=data.title.strip(),
            summary=data.summary.strip(),
            body=data.body,
            category_id=data.category_id,
            visibility=data.visibility,
            owner=actor,
            review_by=data.review_by,
            source_ticket_id=source_ticket_id,
        )
        _set_tags(article, data.tags)
        article.related.set(Article.objects.filter(pk__in=data.related_ids).exclude(pk=article.pk))
        _snapshot(article, actor, data.note or _("First version"))
        events.record(
            "article_created",
            article,
            actor=actor,
            data={"title": article.title, "source_ticket": source_ticket_id},
        )
    return article


def update_article(article: Article, data: ArticleInput, *, actor: Any) -> Article:
    """Save a new version (when title, summary or text changed) and the other fields."""
    _may_edit(actor, article)
    data = _clean(data)
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        before = events.snapshot(
            article, ["title", "summary", "category", "visibility", "review_by"]
        )
        content_changed = (article.title, article.summary, article.body) != (
            data.title.strip(),
            data.summary.strip(),
            data.body,
        )
        article.title, article.summary, article.body = (
            data.title.strip(),
            data.summary.strip(),
            data.body,
        )
        article.category_id, article.visibility = data.category_id, data.visibility
        if article.review_by != data.review_by:
            article.review_by, article.review_reminded_on = data.review_by, None
        article.updated_at = timezone.now()
        if content_changed:
            article.version += 1
        article.save()
        _set_tags(article, data.tags)
        article.related.set(Article.objects.filter(pk__in=data.related_ids).exclude(pk=article.pk))
        if content_changed:
            _snapshot(article, actor, data.note)
        after = events.snapshot(
            article, ["title", "summary", "category", "visibility", "review_by"]
        )
        events.record(
            "article_changed",
            article,
            actor=actor,
            changes=events.diff(before, after),
            data={"version": article.version},
        )
    return article


def transition_article(article: Article, to: str, *, actor: Any, reason: str = "") -> Article:
    """The only way an article's status changes."""
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        move = states.allowed(article.status, to)
        if move is None:
            raise ValidationError(
                _("An article cannot go from %(a)s to %(b)s.")
                % {"a": article.get_status_display(), "b": Article.Status(to).label}
            )
        require_perm(actor, move.perm)
        if move.needs_reason and not reason.strip():
            raise ValidationError({"reason": _("Say what needs changing.")})
        before = article.status
        article.status = to
        article.updated_at = timezone.now()
        if to == Article.Status.PUBLISHED:
            article.published_at = article.updated_at
        article.save(update_fields=["status", "updated_at", "published_at"])
        events.record(
            "article_status",
            article,
            actor=actor,
            changes={"status": [before, to]},
            data={"reason": reason.strip()[:500]} if reason.strip() else None,
        )
        if to == Article.Status.REVIEW:
            from kefu.accounts.models import User

            editors = [u for u in User.objects.filter(is_active=True) if has_perm(u, "kb.publish")]
            notify(
                [u for u in editors if u.pk != actor.pk],
                kind="kb_review",
                title=_("Article to review: %(t)s") % {"t": article.title},
                url=reverse("kb:detail", args=[article.pk]),
            )
        elif before == Article.Status.REVIEW and article.owner_id != actor.pk:
            notify(
                [article.owner],
                kind="kb_reviewed",
                title=(
                    _("Published: %(t)s")
                    if to == Article.Status.PUBLISHED
                    else _("Sent back: %(t)s")
                )
                % {"t": article.title},
                body=reason.strip(),
                url=reverse("kb:detail", args=[article.pk]),
            )
    return article


def restore_version(article: Article, number: int, *, actor: Any) -> Article:
    """Make an earlier version the current text again (as a new version: nothing is lost)."""
    version = ArticleVersion.objects.filter(article=article, number=number).first()
    if version is None:
        raise ValidationError(_("There is no version %(n)s.") % {"n": number})
    data = ArticleInput(
        title=version.title,
        summary=version.summary,
        body=version.body,
        category_id=article.category_id,
        visibility=article.visibility,
        tags=list(article.tags.values_list("name", flat=True)),
        review_by=article.review_by,
        related_ids=list(article.related.values_list("pk", flat=True)),
        note=_("Restored version %(n)s") % {"n": number},
    )
    return update_article(article, data, actor=actor)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "add", "del", "gap"
    text: str


def diff_versions(old: ArticleVersion, new: ArticleVersion, *, context: int = 2) -> list[DiffLine]:
    """Line changes from ``old`` to ``new`` (title first), with a little context."""
    a = [f"# {old.title}", *old.body.splitlines()]
    b = [f"# {new.title}", *new.body.splitlines()]
    out: list[DiffLine] = []
    for group in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_grouped_opcodes(context):
        if out:
            out.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(DiffLine("same", line) for line in a[i1:i2])
                continue
            out.extend(DiffLine("del", line) for line in a[i1:i2])
            out.extend(DiffLine("add", line) for line in b[j1:j2])
    return out


def add_file(article: Article, upload: UploadedFile[Any], *, actor: Any) -> ArticleFile:
    """Attach an image or document: the same checks as work-order attachments (allowed kinds,
    contents matching the name, size limit, a safe file name)."""
    from kefu.tickets.services import check_upload

    _may_edit(actor, article)
    name, content_type, _inline = check_upload(upload)
    with transaction.atomic():
        item = ArticleFile(
            article=article,
            name=name,
            content_type=content_type,
            size=upload.size or 0,
            uploaded_by=actor,
        )
        item.file.save(name, upload, save=False)
        item.save()
        events.record("article_file_added", article, actor=actor, data={"file": name})
    return item


def remove_file(item: ArticleFile, *, actor: Any) -> None:
    _may_edit(actor, item.article)
    with transaction.atomic():
        events.record("article_file_removed", item.article, actor=actor, data={"file": item.name})
        stored = item.file
        item.delete()
        transaction.on_commit(lambda: stored.delete(save=False))


def count_view(article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


def vote(article: Article, *, voter: str, helpful: bool) -> Article:
    """Record (or change) one person's helpful / not-helpful vote and keep the counts exact."""
    with transaction.atomic():
        Article.objects.select_for_update().filter(pk=article.pk).first()
        existing = ArticleVote.objects.filter(article=article, voter=voter).first()
        if existing is None:
            ArticleVote.objects.create(article=article, voter=voter, helpful=helpful)
        elif existing.helpful != helpful:
            existing.helpful = helpful
            existing.save(update_fields=["helpful"])
        counts = {
            "helpful": ArticleVote.objects.filter(article=article, helpful=True).count(),
            "not_helpful": ArticleVote.objects.filter(article=article, helpful=False).count(),
        }
        Article.objects.filter(pk=article.pk).update(**counts)
    article.helpful, article.not_helpful = counts["helpful"], counts["not_helpful"]
    return article


def record_deflection(article: Article, *, user: Any, query: str) -> Deflection:
    """A customer writing a work order opened a suggested article."""
    return Deflection.objects.create(
        article=article,
        user=user if getattr(user, "is_authenticated", False) else None,
        query=query.strip()[:200],
    )


def resolve_deflection(deflection_id: int, *, user: Any, solved: bool) -> Deflection | None:
    """The customer said whether the suggested article solved it. Only their own record."""
    if not getattr(user, "is_authenticated", False):
        return None
    row = Deflection.objects.filter(pk=deflection_id, user_id=user.pk).first()
    if row is None:
        return None
    row.outcome = Deflection.Outcome.SOLVED if solved else Deflection.Outcome.NOT_SOLVED
    row.updated_at = timezone.now()
    row.save(update_fields=["outcome", "updated_at"])
    return row


def draft_from_ticket(ticket: Any, *, actor: Any) -> Article:
    """A draft article from a resolved work order: the question, then the answers given."""
    from kefu.tickets.models import Message

    require_perm(actor, "kb.edit")
    if ticket.resolved_at is None:
        raise ValidationError(_("Only a resolved work order can become an article."))
    replies = ticket.messages.filter(kind=Message.Kind.REPLY).values_list("body", flat=True)
    body = "\n\n".join(
        [
            "## " + _("Question"),
            ticket.description or ticket.title,
            "## " + _("Answer"),
            *(replies or [_("(write the answer here)")]),
        ]
    )
    category = KbCategory.objects.order_by("sort", "id").first()
    if category is None:
        raise ValidationError(_("Create an article category first."))
    return create_article(
        ArticleInput(
            title=ticket.title,
            body=body,
            category_id=category.pk,
            note=_("Drafted from work order %(n)s") % {"n": ticket.number},
        ),
        actor=actor,
        source_ticket_id=ticket.pk,
    )


def remind_reviews(today: dt.date | None = None) -> int:
    """Tell each owner about their published articles whose review-by date has come (once)."""
    today = today or timezone.localdate()
    due = Article.objects.filter(
        status=Article.Status.PUBLISHED, review_by__lte=today, review_reminded_on__isnull=True
    ).select_related("owner")
    sent = 0
    for article in due:
        with transaction.atomic():
            notify(
                [article.owner],
                kind="kb_review_due",
                title=_("Time to review: %(t)s") % {"t": article.title},
                body=_("The review-by date was %(d)s.") % {"d": article.review_by},
                url=reverse("kb:detail", args=[article.pk]),
                email=True,
            )
            Article.objects.filter(pk=article.pk).update(review_reminded_on=today)
            events.record(
                "article_review_due",
                article,
                actor=None,
                data={"review_by": str(article.review_by)},
            )
        sent += 1
    return sent
