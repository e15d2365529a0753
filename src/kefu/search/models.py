"""The search index (one row per searchable record, with the columns access rules read) and the
administrator's synonym groups. Text columns for the full-text index itself are added per
database by migration 0002: an FTS5 table on SQLite, a tsvector column on PostgreSQL."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    TICKET = "ticket", _("Work order")
    CUSTOMER = "customer", _("Customer")
    ARTICLE = "article", _("Article")


class SearchDoc(models.Model):
    """What the index knows about one record. Filters and access rules read these columns; the
    backend's full-text structure (keyed by this row's id) holds the words."""

    kind = models.CharField(max_length=10, choices=Kind)
    object_id = models.BigIntegerField()
    ref = models.CharField(max_length=40, blank=True)  # what links use (a work-order number)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)  # source text kept for snippets (first 4,000 chars)
    numbers = models.TextField(blank=True)  # digit runs, matched by any part
    status = models.CharField(max_length=20, blank=True)
    type_code = models.CharField(max_length=40, blank=True)
    team_id = models.IntegerField(null=True, blank=True)
    customer_id = models.IntegerField(null=True, blank=True)
    assignee_id = models.IntegerField(null=True, blank=True)
    created_by_id = models.IntegerField(null=True, blank=True)
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    indexed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_doc_unique")
        ]
        indexes = [
            models.Index(fields=["customer_id"], name="search_doc_customer_idx"),
            models.Index(fields=["team_id"], name="search_doc_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class TermStat(models.Model):
    """How many documents hold each word (PostgreSQL ranking's IDF), refreshed by a job."""

    term = models.CharField(max_length=100, primary_key=True)
    docs = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.term}={self.docs}"


class SynonymGroup(models.Model):
    """Words a caller uses for the same thing; a search for one finds all."""

    words = models.CharField(
        _("words"),
        max_length=300,
        help_text=_("Separate the words with spaces or commas, e.g. 停电 断电 没电"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.words

    def word_list(self) -> list[str]:
        return [w for w in self.words.replace("，", " ").replace(",", " ").split() if w]
