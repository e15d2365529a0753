"""kefu manage search_reindex [--kind ticket|customer|article] [--clear]: rebuild the index."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.search.registry import SOURCES
from kefu.search.services import reindex


class Command(BaseCommand):
    help = "Index every record again (after restoring a backup or changing the segmenter's words)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", action="append", help="ticket, customer or article")
        parser.add_argument("--clear", action="store_true", help="empty the index first")

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = options["kind"] or list(SOURCES)
        unknown = [k for k in kinds if k not in SOURCES]
        if unknown:
            raise CommandError(f"unknown kind {unknown[0]!r}; choose from {', '.join(SOURCES)}")
        started = time.perf_counter()
        counts = reindex(kinds, clear=options["clear"])
        took = time.perf_counter() - started
        done = ", ".join(f"{n:,} {k}" for k, n in counts.items())
        self.stdout.write(f"indexed {done} in {took:.1f} s")
