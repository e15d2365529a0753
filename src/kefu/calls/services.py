"""The hotline's rules: imports, linking calls to customers, agents and work orders, wrap-up,
the CTI webhook's events, and agent states from queue events."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import hmac
import itertools
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.calls import bulk, ingest, queueing, rollup
from kefu.calls.models import AgentLink, Call, FollowedFile, ImportRun, Integration, WrapUpCode
from kefu.calls.parsers import CallRecord, LineError, bank, cdr, freeswitch
from kefu.core import events
from kefu.core.interactions import ContactReceived, contact_received
from kefu.core.permissions import require_perm, require_perm_unless_system
from kefu.core.realtime import broadcast, user_group

Progress = Callable[[int], None]


# --- imports --------------------------------------------------------------------------------------


def _lines(handle: Iterable[bytes]) -> Iterable[str]:
    for raw in handle:
        yield raw.decode("utf-8", errors="replace")


def _record_run(run: ImportRun, summary: ingest.Summary, actor: Any) -> ImportRun:
    run.lines, run.added, run.rejected = summary.lines, summary.added, summary.rejected
    run.duplicates, run.calls = summary.duplicates, summary.calls
    run.rejects = [list(r) for r in summary.rejects]
    run.save()
    events.record(
        "calls_imported",
        run,
        actor=actor,
        data={
            "format": run.format,
            "file": run.name,
            "lines": run.lines,
            "added": run.added,
            "duplicates": run.duplicates,
            "rejected": run.rejected,
            "calls": run.calls,
        },
    )
    return run


def import_queue_log(
    lines: Iterable[str],
    *,
    name: str,
    actor: Any,
    progress: Progress | None = None,
    first_line: int = 1,
    states: bool = False,
    workers: int = 1,
) -> ImportRun:
    """Import queue_log lines (a file, or the new part of a followed file). Lines already
    stored add nothing. With ``states``, recent agent events also change presence. ``workers``
    parse a big file in that many processes (PostgreSQL).

    The import is one transaction, except a big one on PostgreSQL (``bulk.BIG`` lines or more,
    not inside a caller's transaction): see :func:`_import_big`. Imports of queue_log take
    turns on PostgreSQL (``bulk.take_turn``)."""
    require_perm_unless_system(actor, "calls.import")
    summary = ingest.Summary()
    if ingest._is_pg() and not connection.in_atomic_block:
        rest = iter(lines)
        head = list(itertools.islice(rest, bulk.BIG))
        if len(head) >= bulk.BIG:
            return _import_big(
                itertools.chain(head, rest), summary, name=name, actor=actor,
                progress=progress, first_line=first_line, states=states, workers=workers,
            )  # fmt: skip
        lines = head
    with transaction.atomic():
        run = ImportRun.objects.create(
            format=ImportRun.Format.QUEUE_LOG, name=name[:255], started_by=actor
        )
        if ingest._is_pg():
            bulk.take_turn()
            since, last_call = _marks()
            staged = bulk.stage(
                lines, summary, first_line=first_line, workers=workers, progress=progress
            )
            batch = _Batch(bulk.STAGE, staged, summary, since, last_call, states)
            _store_staged(batch, overlapping=bulk.overlaps(bulk.STAGE))
        else:
            since, last_call = _marks()
            parsed, days, rebuilt = _import_queue_log_rows(lines, summary, first_line, progress)
            summary.duplicates = parsed - summary.added
            if summary.added:
                _rebuilt(rebuilt, days)
                link_calls(after_call=last_call)
                rollup.refresh_days(days)
                if states:
                    apply_agent_states(since)
        if progress is not None:
            progress(summary.lines)
        return _record_run(run, summary, actor)


def _marks() -> tuple[int, int]:
    """The last event id and the last call id before an import."""
    last_call = Call.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return ingest.max_event_id(), last_call


@dataclass
class _Batch:
    """A queue-log import staged on PostgreSQL, with the last event and call ids before it."""

    table: str
    staged: bulk.Staged
    summary: ingest.Summary
    since: int
    last_call: int
    states: bool  # recent agent events change presence


def _store_staged(batch: _Batch, *, overlapping: bool) -> None:
    """Store the staged events not stored yet and their calls, in the caller's transaction
    (``overlapping``: stored events fall within the staged times, see ``bulk.overlaps``)."""
    table, staged, summary = batch.table, batch.staged, batch.summary
    if overlapping:
        bulk.drop_stored(table)
    summary.added = bulk.insert_events(table)
    summary.duplicates = staged.parsed - summary.added
    if not summary.added:
        return
    summary.calls, rebuilt = bulk.store_calls(table)
    days = set(staged.days)
    _rebuilt(rebuilt, days)
    link_calls(after_call=batch.last_call)
    rollup.refresh_days(days)
    if batch.states:
        apply_agent_states(batch.since)


def _rebuilt(rebuilt: list[tuple[str, Any, str]], days: set[int]) -> None:
    """Link the stored calls an import rebuilt, and add the days they were and are on to
    ``days`` (their KPI sums change)."""
    if not rebuilt:
        return
    link_calls(callids=[callid for callid, _at, _agent in rebuilt])
    old = [at for _c, at, _a in rebuilt if at is not None]
    days.update(int(at.timestamp()) // rollup.DAY for at in old)
    new = Call.objects.filter(
        source="queue_log", external_id__in=[c for c, _at, _a in rebuilt]
    ).values_list("offered_at", flat=True)
    days.update(int(at.timestamp()) // rollup.DAY for at in new if at is not None)


class _Abandoned(Exception):
    """The events could not be stored: the calls built beside them are not committed."""


def _import_big(
    lines: Iterable[str],
    summary: ingest.Summary,
    *,
    name: str,
    actor: Any,
    progress: Progress | None,
    first_line: int,
    states: bool,
    workers: int,
) -> ImportRun:
    """A big import on PostgreSQL (a month of history) uses both of the database's hands. The
    lines are staged in an unlogged table of the import's own. Then, once it is this import's
    turn, if no stored event falls in the staged times (a new stretch of history), this
    connection stores the events while a second one builds the calls of new call ids with their
    agents, customers and KPI sums; once the events are stored, the calls are committed, then
    the events (with the rebuilt stored calls and the import's record). A file that overlaps
    stored events (imported again, or in part) is stored in one transaction.

    The calls commit first, so a failure in between leaves calls whose events are missing,
    never events without their calls: importing the file again stores the events and rebuilds
    those calls from them. If the events cannot be stored, the calls are not committed."""
    table = bulk.shared_stage()
    try:
        staged = bulk.stage(
            lines, summary, first_line=first_line, workers=workers, progress=progress, table=table
        )
        with transaction.atomic():
            run = ImportRun.objects.create(
                format=ImportRun.Format.QUEUE_LOG, name=name[:255], started_by=actor
            )
            bulk.take_turn()  # no other import writes events or calls until this one commits
            batch = _Batch(table, staged, summary, *_marks(), states)
            if bulk.overlaps(table):
                _store_staged(batch, overlapping=True)
            else:
                _store_both(batch)
            if progress is not None:
                progress(summary.lines)
            return _record_run(run, summary, actor)
    finally:
        bulk.drop_shared(table)


def _store_both(batch: _Batch) -> None:
    """The events on this connection, in the caller's transaction, and the new calls on a
    second one at the same time, committed just before the caller commits (see _import_big)."""
    table, staged, summary = batch.table, batch.staged, batch.summary
    stored = bulk.stored_calls(table)
    ready, decided = threading.Event(), threading.Event()
    go: list[bool] = []

    def build_calls() -> int:
        try:
            with transaction.atomic():
                bulk.bound_waits()
                added = bulk.insert_calls(table, [callid for callid, _at, _a in stored])
                link_calls(after_call=batch.last_call)
                rollup.refresh_days(staged.days)
                ready.set()
                decided.wait()
                if not go:
                    raise _Abandoned
            return added
        finally:
            ready.set()
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        calls = pool.submit(build_calls)
        try:
            summary.added = bulk.insert_events(table)
            ready.wait()
            if calls.done():
                calls.result()  # the calls failed: raise their error
            go.append(True)
            decided.set()
            summary.calls = calls.result() + len(stored)
        finally:
            decided.set()
    summary.duplicates = staged.parsed - summary.added
    if stored:
        ingest.derive_calls(sorted(callid for callid, _at, _a in stored))
        days: set[int] = set()
        _rebuilt(stored, days)
        rollup.refresh_days(days)
    if batch.states and summary.added:
        apply_agent_states(batch.since)


def _import_queue_log_rows(
    lines: Iterable[str], summary: ingest.Summary, first_line: int, progress: Progress | None
) -> tuple[int, set[int], list[tuple[str, Any, str]]]:
    """The row-wise import (SQLite): returns the events parsed, their UTC days and the calls
    rebuilt with what they had before."""
    parsed = 0
    days: set[int] = set()
    facts: dict[str, list[Any]] = {}
    for batch in ingest.read_queue_log(lines, summary, first_line=first_line):
        parsed += len(batch)
        days.update(row[0] // rollup.DAY for row in batch)
        added = ingest.insert_events(batch)
        summary.added += len(added)
        ingest.collect(facts, added)
        if progress is not None:
            progress(summary.lines)
    rebuilt: list[tuple[str, Any, str]] = []
    if summary.added:
        callids = [c for c, f in facts.items() if f[ingest.CALL]]
        for start in range(0, len(callids), 500):
            rebuilt += Call.objects.filter(
                source="queue_log", external_id__in=callids[start : start + 500]
            ).values_list("external_id", "offered_at", "agent")
        summary.calls = ingest.store_calls(facts)
    return parsed, days, rebuilt


PARSERS: dict[str, Callable[[list[str], dt.tzinfo], CallRecord]] = {
    ImportRun.Format.ASTERISK_CDR: cdr.parse_row,
    ImportRun.Format.FREESWITCH_CDR: freeswitch.parse_row,
    ImportRun.Format.BANK: bank.parse_row,
}


def _rows(fmt: str, lines: Iterable[str]) -> Iterable[tuple[int, list[str]]]:
    if fmt == ImportRun.Format.BANK:
        for number, line in enumerate(lines, 1):
            text = line.rstrip("\r\n")
            if number == 1 and text.startswith("vru+line"):
                continue
            if text.strip():
                yield number, text.split("\t")
        return
    import csv

    reader = csv.reader(lines)
    for row in reader:
        if row:
            yield reader.line_num, row


def import_records(
    fmt: str,
    lines: Iterable[str],
    *,
    name: str,
    actor: Any,
    tz: dt.tzinfo,
    progress: Progress | None = None,
) -> ImportRun:
    """Import a CDR-style file (one call per line): Asterisk Master.csv, FreeSWITCH cdr_csv or
    the bank format. Calls already stored (same source and call id) add nothing."""
    require_perm_unless_system(actor, "calls.import")
    if fmt not in PARSERS:
        raise ValidationError({"format": [_("Unknown file format “%(f)s”.") % {"f": fmt}]})
    parse = PARSERS[fmt]
    summary = ingest.Summary()
    now = timezone.now()
    with transaction.atomic():
        run = ImportRun.objects.create(format=fmt, name=name[:255], started_by=actor)
        before = Call.objects.order_by("-id").values_list("id", flat=True).first() or 0
        batch: list[CallRecord] = []
        parsed = 0
        number = 0
        days: set[int] = set()
        for number, row in _rows(fmt, lines):
            try:
                record = parse(row, tz)
            except LineError as exc:
                summary.reject(number, str(exc))
            else:
                batch.append(record)
                if record.offered_at is not None:
                    days.add(int(record.offered_at.timestamp()) // rollup.DAY)
            if len(batch) >= 5000:
                parsed += len(batch)
                summary.added += ingest.insert_calls(batch, now)
                batch = []
                if progress is not None:
                    progress(number)
        parsed += len(batch)
        summary.added += ingest.insert_calls(batch, now)
        summary.lines = number
        summary.duplicates = parsed - summary.added
        summary.calls = summary.added
        link_calls(after_call=before)
        if summary.added:
            rollup.refresh_days(days)
        if progress is not None:
            progress(number)
        return _record_run(run, summary, actor)


def import_file(
    fmt: str,
    handle: Iterable[bytes],
    *,
    name: str,
    actor: Any,
    tz: dt.tzinfo,
    progress: Progress | None = None,
    workers: int = 1,
) -> ImportRun:
    if fmt == ImportRun.Format.QUEUE_LOG:
        return import_queue_log(
            _lines(handle), name=name, actor=actor, progress=progress, workers=workers
        )
    return import_records(fmt, _lines(handle), name=name, actor=actor, tz=tz, progress=progress)


def follow_queue_log(path: Path, *, actor: Any = None) -> ImportRun | None:
    """Read what was appended to a queue_log file since the last call and import it; the
    position (inode and offset) is saved, so a restart continues where it stopped and a
    rotated file is read from the start. Returns None when nothing new was there."""
    stat = os.stat(path)
    state, _created = FollowedFile.objects.get_or_create(path=str(path))
    offset = state.offset
    if state.inode != stat.st_ino or stat.st_size < offset:
        offset = 0
    if stat.st_size == offset:
        return None
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    complete = data.rfind(b"\n") + 1  # a half-written last line waits for the next round
    if complete == 0:
        return None
    with transaction.atomic():
        first_line = state.offset and 0  # line numbers count from the followed position
        run = import_queue_log(
            data[:complete].decode("utf-8", errors="replace").splitlines(),
            name=f"{path}@{offset}",
            actor=actor,
            first_line=first_line + 1,
            states=True,
        )
        FollowedFile.objects.filter(pk=state.pk).update(
            inode=stat.st_ino, offset=offset + complete, updated_at=timezone.now()
        )
    return run


# --- linking calls to agents and customers --------------------------------------------------------


def link_calls(
    *, since_event: int | None = None, after_call: int | None = None,
    callids: list[str] | None = None,
) -> None:  # fmt: skip
    """Point new calls at the Kefu user behind their PBX agent and at the customer whose phone
    number called (when exactly one active customer has it): the calls after ``after_call``,
    the queue_log calls with events after ``since_event``, or the queue_log calls ``callids``."""
    from kefu.customers.models import ContactPoint

    calls = Call.objects.all()
    if after_call is not None:
        calls = calls.filter(pk__gt=after_call)
    if since_event is not None:
        from kefu.calls.models import QueueLogEvent

        calls = calls.filter(
            source="queue_log",
            external_id__in=QueueLogEvent.objects.filter(pk__gt=since_event).values("callid"),
        )
    if callids is not None:
        calls = calls.filter(source="queue_log", external_id__in=callids)
    if AgentLink.objects.exists():
        calls.filter(user__isnull=True, agent__in=AgentLink.objects.values("pbx_agent")).update(
            user=Subquery(AgentLink.objects.filter(pbx_agent=OuterRef("agent")).values("user")[:1]),
            updated_at=timezone.now(),
        )
    if not ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE).exists():
        return
    callers = set(
        calls.filter(customer__isnull=True).exclude(caller="").values_list("caller", flat=True)
    )
    if not callers:
        return
    phones = ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, customer__is_active=True)
    owners: dict[str, set[int]] = {}
    if phones.count() <= len(callers):
        # fewer known numbers than callers (a big import): read the numbers once
        for normalized, customer_id in phones.values_list("normalized", "customer_id"):
            owners.setdefault(normalized, set()).add(customer_id)
        numbers: dict[str, list[str]] = {}
        for caller in callers:
            key = _e164(caller)
            if key in owners:
                numbers.setdefault(key, []).append(caller)
    else:
        numbers = {}
        for caller in callers:
            numbers.setdefault(_e164(caller), []).append(caller)
        keys = [k for k in numbers if k]
        for start in range(0, len(keys), 500):
            for normalized, customer_id in phones.filter(
                normalized__in=keys[start : start + 500]
            ).values_list("normalized", "customer_id"):
                owners.setdefault(normalized, set()).add(customer_id)
    for normalized, raw in numbers.items():
        ids = owners.get(normalized, set())
        if len(ids) == 1:
            calls.filter(customer__isnull=True, caller__in=raw).update(
                customer_id=next(iter(ids)), updated_at=timezone.now()
            )


_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


def _e164(caller: str) -> str:
    """The caller's number as customers' contact points store it ("" if it is no number)."""
    from kefu.core.validation import normalize_phone

    match = _MOBILE.match(caller)
    if match:
        return f"+86{match.group(1)}"
    try:
        return normalize_phone(caller, allow_service_numbers=True)
    except ValidationError:
        return ""


# --- agents' work on a call -----------------------------------------------------------------------


def _lock(call: Call) -> Call:
    return Call.objects.select_for_update().get(pk=call.pk)


@transaction.atomic
def link_customer(*, actor: Any, call: Call, customer: Any) -> Call:
    require_perm(actor, "calls.handle")
    call = _lock(call)
    before = call.customer_id
    call.customer = customer
    call.save(update_fields=["customer", "updated_at"])
    events.record(
        "call_customer_linked", call, actor=actor, changes={"customer": [before, customer.pk]}
    )
    return call


@transaction.atomic
def create_customer_for_call(*, actor: Any, call: Call, name: str) -> Call:
    """Create a customer with the caller's number and link the call to them."""
    from kefu.customers.services import ContactInput, create_customer

    require_perm(actor, "calls.handle")
    if not call.caller:
        raise ValidationError({"caller": [_("This call has no caller number.")]})
    customer = create_customer(
        actor=actor,
        name=name,
        contacts=[ContactInput(kind="phone", value=call.caller, is_primary=True)],
    )
    return link_customer(actor=actor, call=call, customer=customer)


@transaction.atomic
def create_ticket_from_call(
    *, actor: Any, call: Call, title: str, ticket_type: Any, description: str = ""
) -> Any:
    """Open a work order for the call (channel: hotline, the caller's customer and number) and
    log the call on it."""
    from kefu.core.choices import Channel
    from kefu.tickets.services import create_ticket

    require_perm(actor, "calls.handle")
    call = _lock(call)
    if call.ticket_id:
        raise ValidationError({"ticket": [_("This call is already logged on a work order.")]})
    ticket = create_ticket(
        actor=actor,
        title=title,
        ticket_type=ticket_type,
        description=description,
        channel=Channel.PHONE,
        customer=call.customer_id,
        contact_phone=call.caller,
    )
    call.ticket = ticket
    call.save(update_fields=["ticket", "updated_at"])
    events.record("call_ticket_linked", call, actor=actor, changes={"ticket": [None, ticket.pk]})
    return ticket


@transaction.atomic
def log_call_on_ticket(*, actor: Any, call: Call, ticket: Any) -> Call:
    require_perm(actor, "calls.handle")
    call = _lock(call)
    before = call.ticket_id
    call.ticket = ticket
    call.save(update_fields=["ticket", "updated_at"])
    events.record("call_ticket_linked", call, actor=actor, changes={"ticket": [before, ticket.pk]})
    return call


WrapUpHook = Callable[[Call], object]
WRAP_UP_HOOKS: list[WrapUpHook] = []
"""Run inside the transaction when a call is first wrapped up (the surveys app sends the
after-call survey from here)."""


def register_wrap_up_hook(hook: WrapUpHook) -> None:
    if hook not in WRAP_UP_HOOKS:
        WRAP_UP_HOOKS.append(hook)


@transaction.atomic
def wrap_up(*, actor: Any, call: Call, code: str, note: str = "", acw_s: int | None = None) -> Call:
    """The agent's summary of the call (话后小结) and the after-call work it took."""
    require_perm(actor, "calls.handle")
    errors: dict[str, list[str]] = {}
    wrapup = WrapUpCode.objects.filter(code=code, active=True).first()
    if wrapup is None:
        errors["code"] = [_("Unknown wrap-up code “%(c)s”.") % {"c": code}]
    if acw_s is not None and not 0 <= acw_s <= 86_400:
        errors["acw_s"] = [_("After-call work must be between 0 and 86400 seconds.")]
    if len(note) > 2000:
        errors["note"] = [_("The note is longer than 2000 characters.")]
    if errors:
        raise ValidationError(errors)
    call = _lock(call)
    before = {"wrapup": call.wrapup_id, "wrapup_note": call.wrapup_note, "acw_s": call.acw_s}
    call.wrapup = wrapup
    call.wrapup_note = note
    if acw_s is not None:
        call.acw_s = acw_s
    call.save(update_fields=["wrapup", "wrapup_note", "acw_s", "updated_at"])
    if before["acw_s"] != call.acw_s and call.outcome in rollup.COUNTED:
        rollup.refresh_calls([(call.offered_at, call.agent)])
    after = {"wrapup": call.wrapup_id, "wrapup_note": call.wrapup_note, "acw_s": call.acw_s}
    events.record(
        "call_wrapped_up",
        call,
        actor=actor,
        changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
    )
    queueing.wrapped_up(call, actor)
    if before["wrapup"] is None:
        for hook in WRAP_UP_HOOKS:
            hook(call)
    return call


# --- the CTI webhook ------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authenticate(slug: str, body: bytes, header: str) -> Integration | None:
    """The integration whose secret signed ``body`` (header ``sha256=<hex>``), or None."""
    integration = Integration.objects.filter(slug=slug, active=True).first()
    given = header.removeprefix("sha256=").strip()
    expected = signature(integration.secret if integration else "-", body)
    if not hmac.compare_digest(expected, given) or integration is None:
        return None
    return integration


CTI_EVENTS = ("ring", "answer", "hold", "unhold", "transfer", "hangup")


@dataclass(frozen=True)
class CtiEvent:
    event: str
    call_id: str
    at: dt.datetime
    caller: str = ""
    callee: str = ""
    queue: str = ""
    agent: str = ""
    target: str = ""
    recording_url: str = ""
    ivr_path: str = ""
    area: str = ""


def parse_cti(payload: Any) -> CtiEvent:
    """Check a webhook body: every problem is named, nothing is stored on failure."""
    if not isinstance(payload, Mapping):
        raise ValidationError({"body": [_("Send a JSON object.")]})
    errors: dict[str, list[str]] = {}
    event = payload.get("event")
    if event not in CTI_EVENTS:
        errors["event"] = [
            _("Unknown event “%(e)s”; use one of: %(all)s.")
            % {"e": event, "all": ", ".join(CTI_EVENTS)}
        ]
    call_id = payload.get("call_id")
    if not isinstance(call_id, str) or not call_id.strip() or len(call_id) > 96:
        errors["call_id"] = [_("Give the call id (text, at most 96 characters).")]
    at = timezone.now()
    if payload.get("at") is not None:
        try:
            at = dt.datetime.fromisoformat(str(payload["at"]))
            if at.tzinfo is None:
                raise ValueError
        except ValueError:
            errors["at"] = [_("Give the time as ISO 8601 with a time zone.")]
    text: dict[str, str] = {}
    for key, limit in (
        ("caller", 40),
        ("callee", 40),
        ("queue", 64),
        ("agent", 80),
        ("target", 80),
        ("recording_url", 500),
        ("ivr_path", 200),
        ("area", 60),
    ):
        value = payload.get(key, "")
        if not isinstance(value, str) or len(value) > limit:
            errors[key] = [_("Must be text of at most %(n)s characters.") % {"n": limit}]
        else:
            text[key] = value.strip()
    if text.get("recording_url") and not text["recording_url"].startswith(("https://", "http://")):
        errors["recording_url"] = [_("The recording link must start with http:// or https://.")]
    if event in ("ring", "answer") and not text.get("agent") and event == "answer":
        errors["agent"] = [_("An answered call needs the agent who answered.")]
    if errors:
        raise ValidationError(errors)
    return CtiEvent(
        event=str(event), call_id=str(call_id).strip(), at=at.astimezone(dt.UTC), **text
    )


def _user_for(agent: str) -> Any:
    if not agent:
        return None
    link = AgentLink.objects.select_related("user").filter(pbx_agent=agent).first()
    return link.user if link else None


@transaction.atomic
def handle_cti(integration: Integration, payload: Any) -> Call:
    """Apply one CTI event to its call; ringing at a known agent pops the caller's screen."""
    ev = parse_cti(payload)
    source = f"cti:{integration.slug}"
    call = Call.objects.select_for_update().filter(source=source, external_id=ev.call_id).first()
    created = False
    if call is None:
        if ev.event != "ring":
            raise ValidationError(
                {"call_id": [_("No ringing call “%(c)s”; send ring first.") % {"c": ev.call_id}]}
            )
        call = Call.objects.create(
            source=source,
            external_id=ev.call_id,
            state=Call.State.RINGING,
            outcome="live",
            started_at=ev.at,
            offered_at=ev.at if ev.queue or ev.agent else None,
            caller=ev.caller,
            callee=ev.callee,
            queue=ev.queue,
            ivr_path=ev.ivr_path,
        )
        if call.caller:
            link_calls(after_call=call.pk - 1)
            call.refresh_from_db()
        created = True
    elif call.state == Call.State.ENDED:
        raise ValidationError({"event": [_("The call has already ended.")]})
    before = {"state": call.state, "agent": call.agent}
    previous_user = call.user
    counted_before = (call.offered_at, call.agent, call.outcome)
    if ev.agent:
        call.agent = ev.agent
        call.user = _user_for(ev.agent) or call.user
    if ev.recording_url:
        call.recording_url = ev.recording_url
    if ev.event == "answer":
        call.state, call.answered_at, call.outcome = Call.State.TALKING, ev.at, "answered"
        call.wait_s = max(int((ev.at - (call.offered_at or call.started_at)).total_seconds()), 0)
    elif ev.event == "hold":
        call.state, call.held_since = Call.State.HELD, ev.at
    elif ev.event == "unhold" and call.held_since:
        call.hold_s += max(int((ev.at - call.held_since).total_seconds()), 0)
        call.state, call.held_since = Call.State.TALKING, None
    elif ev.event == "transfer":
        call.transferred = True
        call.agent = ev.target or call.agent
        call.user = _user_for(call.agent)
    elif ev.event == "hangup":
        if call.held_since:
            call.hold_s += max(int((ev.at - call.held_since).total_seconds()), 0)
            call.held_since = None
        call.state, call.ended_at = Call.State.ENDED, ev.at
        if call.answered_at:
            call.talk_s = max(int((ev.at - call.answered_at).total_seconds()) - call.hold_s, 0)
        else:
            call.outcome = "abandoned" if call.offered_at else "unanswered"
            call.wait_s = max(
                int((ev.at - (call.offered_at or call.started_at)).total_seconds()), 0
            )
    call.save()
    if {counted_before[2], call.outcome} & set(rollup.COUNTED):
        rollup.refresh_calls([counted_before[:2], (call.offered_at, call.agent)])
    events.record(
        f"call_{ev.event}",
        call,
        actor=None,
        changes={k: [before[k], getattr(call, k)] for k in before if before[k] != getattr(call, k)},
        data={"integration": integration.slug},
    )
    _follow_in_routing(call, ev.event, created, previous_user)
    if created:
        contact_received(
            ContactReceived(
                channel="phone", obj=call, customer=call.customer, text=ev.ivr_path, area=ev.area
            )
        )
    if ev.event in ("ring", "transfer") and call.user_id:
        broadcast(
            user_group(call.user_id),
            {"type": "call.ringing", "call": call.pk, "caller": call.caller},
        )
    return call


def _follow_in_routing(call: Call, event: str, created: bool, previous_user: Any) -> None:
    """The call's item in the unified queue and its agent's presence follow the CTI event."""
    if created and call.offered_at is not None:
        queueing.enqueue(call)
    elif event == "answer":
        queueing.answered(call)
    elif event == "transfer":
        queueing.transferred(call, previous_user)
    elif event == "hangup":
        queueing.ended(call)


# --- agent states from queue events ---------------------------------------------------------------

PAUSE_REASONS = {"meal", "training", "meeting", "coaching", "rest"}
RECENT = dt.timedelta(minutes=15)


def apply_agent_states(since_event: int, now: dt.datetime | None = None) -> int:
    """Feed presence from recent agent events (login, logoff, pause with reason, unpause,
    member added or removed): the latest such event per linked agent, if it is recent, sets
    the agent's state through routing. Returns how many agents changed."""
    from kefu.calls.models import QueueLogEvent
    from kefu.routing.models import Presence
    from kefu.routing.services import set_presence

    now = now or timezone.now()
    kinds = ("AGENTLOGIN", "AGENTLOGOFF", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL",
             "ADDMEMBER", "REMOVEMEMBER")  # fmt: skip
    latest: dict[str, tuple[int, str, str]] = {}
    for ts, agent, event, reason in (
        QueueLogEvent.objects.filter(pk__gt=since_event, event__in=kinds)
        .order_by("ts", "pk")
        .values_list("ts", "agent", "event", "d1")
    ):
        latest[agent] = (ts, event, reason)
    links = {
        a.pbx_agent: a.user
        for a in AgentLink.objects.select_related("user").filter(pbx_agent__in=list(latest))
    }
    changed = 0
    for agent, (ts, event, reason) in latest.items():
        user = links.get(agent)
        if user is None or now - dt.datetime.fromtimestamp(ts, tz=dt.UTC) > RECENT:
            continue
        if event in ("AGENTLOGOFF", "REMOVEMEMBER"):
            state, why = Presence.State.OFFLINE, ""
        elif event in ("PAUSE", "PAUSEALL"):
            key = reason.strip().lower()
            state, why = Presence.State.BREAK, key if key in PAUSE_REASONS else "rest"
        else:
            state, why = Presence.State.AVAILABLE, ""
        try:
            set_presence(actor=None, user=user, state=state, reason=why)
        except ValidationError:
            continue  # e.g. a linked user who is not an agent
        changed += 1
    return changed
