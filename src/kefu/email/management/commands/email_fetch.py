"""Fetch mailboxes once, now (cron, or an administrator at the shell)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.email.models import Mailbox


class Command(BaseCommand):
    help = "Fetch every active mailbox once (or the one given), and say what was taken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", type=int, help="only the mailbox with this id")

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.email.services import FetchBusy, fetch_mailbox

        mailboxes = Mailbox.objects.filter(is_active=True).order_by("id")
        if options["mailbox"] is not None:
            mailboxes = Mailbox.objects.filter(pk=options["mailbox"])
            if not mailboxes.exists():
                raise CommandError(f"no mailbox with id {options['mailbox']}")
        failed = 0
        for mailbox in mailboxes:
            try:
                result = fetch_mailbox(mailbox)
            except FetchBusy:
                self.stdout.write(f"{mailbox.address}: another fetch is running; skipped")
                continue
            except Exception as exc:  # noqa: BLE001 - noted on the mailbox; report and go on
                failed += 1
                self.stderr.write(f"{mailbox.address}: {exc}")
                continue
            self.stdout.write(
                f"{mailbox.address}: {result.on_server} on the server, {result.new} new, "
                f"{result.duplicates} already known, {result.quarantined} in quarantine"
            )
        if failed:
            raise CommandError(f"{failed} mailbox(es) could not be fetched")
