"""Keeping the index in step with the records, and answering searches.

A change is indexed right after its transaction commits (see :func:`mark_changed`), so it is
searchable at once; a one-minute job catches records changed by bulk updates that bypass the
model signals, and ``kefu manage search_reindex`` rebuilds everything.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from kefu.core import events
from kefu.core.jobs import enqueue
from kefu.search import text
from kefu.search.backends import Candidate, get_backend
from kefu.search.models import SearchDoc, SynonymGroup
from kefu.search.registry import SOURCES, source

logger = logging.getLogger(__name__)

WINDOW = 200  # best candidates asked of each of the word and the gram index per search
RECENCY_BOOST = 0.5  # a brand-new record scores up to 1.5× an old one of equal relevance
RECENCY_HALF_LIFE_DAYS = 90.0
# The fused score: each index's BM25 as a share of the best candidate's, weighted.
WORD_WEIGHT = 1.0
GRAM_WEIGHT = 1.0
NUMBER_EXACT_BONUS = 1.0  # per query number equal to a whole number of the record
BATCH = 500


# ---- indexing ---------------------------------------------------------------------------------

_pending = threading.local()


def mark_changed(kind: str, object_id: int) -> None:
    """Re-index one record once the current transaction commits (at once outside one)."""
    pending: set[tuple[str, int]] | None = getattr(_pending, "items", None)
    if pending is None:
        pending = _pending.items = set()
    pending.add((kind, int(object_id)))
    transaction.on_commit(flush_pending)


def flush_pending() -> None:
    """Index what changed. A failure here must not fail the request whose change is already
    committed: it is logged, and the catch-up job indexes the records a minute later."""
    pending: set[tuple[str, int]] = getattr(_pending, "items", None) or set()
    if not pending:
        return
    _pending.items = set()
    by_kind: dict[str, list[int]] = {}
    for kind, object_id in pending:
        by_kind.setdefault(kind, []).append(object_id)
    for kind, ids in by_kind.items():
        try:
            index(kind, ids)
        except DatabaseError:
            logger.exception(
                "search: indexing %s %s failed; the catch-up job will retry", kind, ids
            )


def index(kind: str, object_ids: Sequence[int]) -> int:
    """Bring the index rows of ``object_ids`` up to date (removing those that no longer
    exist); returns the characters of text indexed."""
    src = source(kind)
    size = 0
    backend = get_backend()
    text.add_words(synonyms().words())  # the segmenter must know them before it cuts
    for start in range(0, len(object_ids), BATCH):
        ids = list(object_ids[start : start + BATCH])
        rows = src.build(ids)
        with transaction.atomic():
            backend.upsert(rows, timezone.now())
            gone = set(ids) - {r.object_id for r in rows}
            if gone:
                backend.remove(kind, sorted(gone))
        size += sum(r.analyzed.size for r in rows)
    return size


def reindex(kinds: Iterable[str] | None = None, *, clear: bool = False) -> dict[str, int]:
    """Index every record of ``kinds`` (all by default); returns documents per kind."""
    backend = get_backend()
    kinds = list(kinds or SOURCES)
    if clear and set(kinds) == set(SOURCES):
        backend.clear()
    elif clear:
        for kind in kinds:
            stale = list(SearchDoc.objects.filter(kind=kind).values_list("object_id", flat=True))
            for start in range(0, len(stale), BATCH):
                backend.remove(kind, stale[start : start + BATCH])
    counts: dict[str, int] = {}
    for kind in kinds:
        ids = list(source(kind).all_ids())
        for start in range(0, len(ids), BATCH * 4):
            index(kind, ids[start : start + BATCH * 4])
        counts[kind] = len(ids)
    backend.refresh_stats()
    return counts


CATCH_UP_KEY = "search:catch-up:{}"
CATCH_UP_OVERLAP = dt.timedelta(minutes=2)


def catch_up() -> int:
    """Index records changed since this job last ran (bulk updates skip the save signals).
    Each run looks back a little further than the last one finished, so a record saved while
    it ran is not missed; indexing a record twice is harmless."""
    done = 0
    started = timezone.now()
    for kind, src in SOURCES.items():
        key = CATCH_UP_KEY.format(kind)
        since = cache.get(key)
        if since is None:  # first run in this cache: the newest index row is a fair start
            since = SearchDoc.objects.filter(kind=kind).aggregate(m=Max("updated_at"))["m"]
        if since is not None:
            ids = list(src.changed_since(since - CATCH_UP_OVERLAP))[:5000]
            if ids:
                index(kind, ids)
                done += len(ids)
        cache.set(key, started, None)
    return done


# ---- synonyms ---------------------------------------------------------------------------------

# Each process keeps the synonym groups it read, tagged with the version it read them under; a
# change anywhere (the synonym screens, the demo, a shell) sets a new version in the shared cache
# once it commits (see :func:`synonyms_changed`), so every process reads them again at once.
SYNONYM_VERSION_KEY = "search:synonyms:version"
SYNONYM_MAX_AGE = 60.0  # seconds; a process whose cache is not shared re-reads this often
_synonym_memo: dict[str, Any] = {}
_synonym_lock = threading.Lock()


def synonyms() -> text.Synonyms:
    """The administrator's synonym groups, as of the last committed change."""
    version = cache.get(SYNONYM_VERSION_KEY)
    if version is None:
        cache.add(SYNONYM_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(SYNONYM_VERSION_KEY)
    memo = _synonym_memo
    fresh = time.monotonic() - memo.get("at", -SYNONYM_MAX_AGE) < SYNONYM_MAX_AGE
    if memo.get("version") == version and fresh:
        loaded: text.Synonyms = memo["synonyms"]
        return loaded
    loaded = text.Synonyms([g.word_list() for g in SynonymGroup.objects.all()])
    with _synonym_lock:
        _synonym_memo.update(version=version, synonyms=loaded, at=time.monotonic())
    return loaded


def synonyms_changed(**_kwargs: Any) -> None:
    """A synonym group was saved or deleted, by any path: every process reads the groups again
    once the change commits. Connected to the model's signals."""
    transaction.on_commit(lambda: cache.set(SYNONYM_VERSION_KEY, uuid.uuid4().hex, None))


def save_synonyms(group: SynonymGroup | None, words: str, note: str, *, actor: Any) -> SynonymGroup:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    probe = SynonymGroup(words=words.strip(), note=note.strip())
    listed = probe.word_list()
    if len(listed) < 2:
        raise ValidationError({"words": _("A synonym group needs at least two words.")})
    if any(len(w) > 30 for w in listed):
        raise ValidationError({"words": _("A word may have at most 30 characters.")})
    if any(not text.is_word(w) for w in listed):
        raise ValidationError(
            {"words": _("Use single words of letters or digits (no spaces, hyphens or 的/了).")}
        )
    with transaction.atomic():
        if group is None:
            group = SynonymGroup.objects.create(
                words=" ".join(listed), note=probe.note, updated_by=actor
            )
            events.record("synonyms_added", group, actor=actor, data={"words": listed})
        else:
            before = group.word_list()
            group.words, group.note = " ".join(listed), probe.note
            group.updated_by, group.updated_at = actor, timezone.now()
            group.save()
            events.record(
                "synonyms_changed", group, actor=actor, changes={"words": [before, listed]}
            )
        enqueue(_reindex_words_task(), listed)
    return group


def _reindex_words_task() -> Any:
    from kefu.search.tasks import reindex_words_task

    return reindex_words_task


def reindex_containing(words: Sequence[str]) -> int:
    """Re-cut the records that hold ``words``: a word the segmenter has just learnt (from a
    synonym group) was split differently when they were indexed."""
    done = 0
    for kind in SOURCES:
        match = Q()
        for word in words:
            match |= Q(title__icontains=word) | Q(body__icontains=word)
        ids = list(SearchDoc.objects.filter(match, kind=kind).values_list("object_id", flat=True))
        if ids:
            index(kind, ids)
            done += len(ids)
    return done


def delete_synonyms(group: SynonymGroup, *, actor: Any) -> None:
    with transaction.atomic():
        events.record("synonyms_deleted", group, actor=actor, data={"words": group.word_list()})
        group.delete()


# ---- searching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    kinds: tuple[str, ...] = ()
    status: str = ""
    type_code: str = ""
    team_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    public_only: bool = False

    def q(self) -> Q:
        q = Q()
        if self.status:
            q &= Q(status=self.status)
        if self.type_code:
            q &= Q(type_code=self.type_code)
        if self.team_id:
            q &= Q(team_id=self.team_id)
        if self.since:
            q &= Q(created_at__gte=_day_start(self.since))
        if self.until:
            q &= Q(created_at__lt=_day_start(min(self.until, LATEST) + dt.timedelta(days=1)))
        if self.public_only:
            q &= Q(is_public=True)
        return q


def _day_start(day: dt.date) -> dt.datetime:
    day = min(max(day, EARLIEST), LATEST)
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(2999, 12, 30)


@dataclass
class Hit:
    kind: str
    object_id: int
    title: str
    url: str
    score: float
    status: str
    updated_at: dt.datetime
    is_public: bool = False
    title_pieces: list[tuple[str, bool]] = field(default_factory=list)
    snippet: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def kind_label(self) -> Any:
        return SOURCES[self.kind].label


@dataclass
class Results:
    query: text.Query
    hits: list[Hit]
    total: int
    capped: bool  # more may match than were ranked (the newest were)
    took_ms: float
    broadened: bool = False  # nothing held every word: the hits hold some of them


def access_q(user: Any, kinds: Sequence[str]) -> Q | None:
    """What ``user`` may find among ``kinds``: each kind's own rule, combined. None means
    everything (only when every kind says so)."""
    parts: list[Q] = []
    everything = True
    for kind in kinds:
        rule = SOURCES[kind].visible(user)
        if rule is None:
            parts.append(Q(kind=kind))
        else:
            everything = False
            parts.append(Q(kind=kind) & rule)
    if everything and set(kinds) == set(SOURCES):
        return None
    if not parts:
        return Q(pk__in=[])
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def rank(candidates: Sequence[Candidate], now: dt.datetime) -> list[Candidate]:
    """Relevance × (1 + boost × 2^(−age / half-life)): among equally good matches the recent
    ones come first, but an old exact match still beats a new weak one."""

    stamp = now.timestamp()

    def score(c: Candidate) -> float:
        age_days = max(stamp - c.updated, 0.0) / 86400
        return c.relevance * (1 + RECENCY_BOOST * math.pow(2, -age_days / RECENCY_HALF_LIFE_DAYS))

    return sorted(candidates, key=lambda c: (-score(c), -c.id))


def search(
    user: Any,
    q: str,
    filters: Filters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
) -> Results:
    """The records ``user`` may open that match ``q`` and ``filters``, best first: the records
    holding any of the words or any of their character grams, ranked by the fused score."""
    started = time.perf_counter()
    filters = filters or Filters()
    query = text.parse(q, synonyms())
    kinds = [k for k in (filters.kinds or tuple(SOURCES)) if k in SOURCES]
    if query.empty or not kinds:
        return Results(query, [], 0, False, 0.0)
    where = access_q(user, kinds)
    where = filters.q() if where is None else where & filters.q()
    found, capped = get_backend().candidates(query, where, window=WINDOW)
    fused = fuse(found)
    if query.numbers:
        fused = _exact_number_bonus(fused, query)
    ordered = rank(fused, timezone.now())
    page = ordered[offset : offset + limit]
    hits, whole = _hits(user, page, query)
    # Say so when no hit on the first page holds every word (they hold some of them).
    broadened = offset == 0 and len(query.groups) > 1 and bool(hits) and not whole
    took = (time.perf_counter() - started) * 1000
    return Results(query, hits, len(found), capped, took, broadened)


def fuse(found: Sequence[Candidate]) -> list[Candidate]:
    """Each candidate's relevance as WORD_WEIGHT × its word BM25 and GRAM_WEIGHT × its gram
    BM25, each as a share of the best candidate's, added: a record strong in both comes first,
    and one that only the grams found (a typo, a compound) still ranks by how well they match."""
    best_words = max((c.relevance for c in found), default=0.0) or 1.0
    best_grams = max((c.grams for c in found), default=0.0) or 1.0
    return [
        Candidate(
            c.id,
            c.kind,
            c.object_id,
            c.updated,
            WORD_WEIGHT * c.relevance / best_words + GRAM_WEIGHT * c.grams / best_grams,
            c.grams,
        )  # fmt: skip
        for c in found
    ]


def _holds_every_group(doc: SearchDoc, query: text.Query) -> bool:
    haystack = text.normalize(f"{doc.title}\n{doc.body}")
    return all(any(word in haystack for word in group) for group in query.groups)


def _exact_number_bonus(found: list[Candidate], query: text.Query) -> list[Candidate]:
    numbers = dict(
        SearchDoc.objects.filter(id__in=[c.id for c in found]).values_list("id", "numbers")
    )
    out = []
    for c in found:
        have = set(numbers.get(c.id, "").split())
        bonus = NUMBER_EXACT_BONUS * sum(1 for n in query.numbers if n in have)
        out.append(Candidate(c.id, c.kind, c.object_id, c.updated, c.relevance + bonus, c.grams))
    return out


def _hits(user: Any, page: Sequence[Candidate], query: text.Query) -> tuple[list[Hit], bool]:
    """The page's hits, and whether any of them holds every word group of the query."""
    docs = {d.id: d for d in SearchDoc.objects.filter(id__in=[c.id for c in page])}
    hits = []
    whole = False
    for c in page:
        doc = docs.get(c.id)
        if doc is None:
            continue
        whole = whole or _holds_every_group(doc, query)
        hits.append(
            Hit(
                kind=doc.kind,
                object_id=doc.object_id,
                title=doc.title,
                url=SOURCES[doc.kind].url(user, doc),
                score=round(c.relevance, 4),
                status=doc.status,
                updated_at=doc.updated_at,
                is_public=doc.is_public,
                title_pieces=text.snippet(doc.title, query.highlight, width=300),
                snippet=text.snippet(doc.body, query.highlight, width=140),
            )
        )
    return hits, whole
