"""What can be searched. Each domain app registers a :class:`Source` for its records when Kefu
starts: how to turn records into index rows, who may see which rows (a filter on the index
columns, applied inside the search query), and where a hit links to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from kefu.search.backends import DocRow


@dataclass(frozen=True)
class Source:
    kind: str
    label: Any
    model: Any
    build: Callable[[Sequence[int]], list[DocRow]]  # rows for the ids that still exist
    visible: Callable[[Any], Q | None]  # None: all of this kind; Q(pk__in=[]): none
    url: Callable[[Any, Any], str]  # (user, SearchDoc) -> link for that person

    def changed_since(self, when: Any) -> Iterable[int]:
        """Ids of records changed after ``when`` (every source model has ``updated_at``)."""
        ids: Iterable[int] = (
            self.model.objects.filter(updated_at__gt=when)
            .order_by("updated_at")
            .values_list("pk", flat=True)
        )
        return ids

    def all_ids(self) -> Iterable[int]:
        ids: Iterable[int] = self.model.objects.order_by("pk").values_list("pk", flat=True)
        return ids


SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    SOURCES[source.kind] = source


def source(kind: str) -> Source:
    return SOURCES[kind]
