"""Fetch mail as it arrives: IMAP IDLE where the server offers it, polling otherwise."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from kefu.email.watch import start_watchers


class Command(BaseCommand):
    help = "Watch every active mailbox (IMAP IDLE where offered, else polling) until stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_a: stop.set())
        threads = start_watchers(stop)
        self.stdout.write(f"watching {len(threads)} mailbox(es); Ctrl+C stops")
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            stop.set()
        for thread in threads:
            thread.join(timeout=10)
