"""`kefu calls ...`: hotline imports and KPIs.

kefu calls import --format FORMAT FILE [--tz ZONE]
    Import a call log: queue_log, asterisk_cdr, freeswitch_cdr or bank. Shows a progress bar and
    ends with a summary of rejected lines (line number and reason). Importing a file twice adds
    nothing the second time.
kefu calls follow FILE [--interval 1]
    Follow an Asterisk queue_log file as it grows (like tail -f); restarts continue where the
    last run stopped.
kefu calls follow-table --url URL [--table queue_log] [--id-column id] [--interval 1] [--tz ZONE]
    Follow Asterisk's realtime queue_log table in MySQL or PostgreSQL: rows after the last id
    read are imported as the file's lines would be; restarts continue where the last run stopped.
kefu calls kpi --from DATE --to DATE [--interval 60] [--queue Q] [--tz ZONE]
    Print the KPIs of those days: by day, by hour of the day, by queue and in total.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMATS = ("queue_log", "asterisk_cdr", "freeswitch_cdr", "bank")


def _parser() -> argparse.ArgumentParser:
    from kefu.calls import kpi

    parser = argparse.ArgumentParser(prog="kefu calls", description="Hotline imports and KPIs")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("import", help="import a call log file")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument(
        "--tz", default="", help="zone of the file's clock times (default: the centre's)"
    )
    p.add_argument("file", type=Path)
    p = sub.add_parser("follow", help="follow a queue_log file as it grows")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between looks")
    p.add_argument("--once", action="store_true", help="read what is new once and stop")
    p.add_argument("file", type=Path)
    p = sub.add_parser("follow-table", help="follow Asterisk's realtime queue_log table")
    p.add_argument("--url", required=True, help="postgresql://… or mysql://… of the PBX database")
    p.add_argument("--table", default="queue_log")
    p.add_argument("--id-column", default="id")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between looks")
    p.add_argument("--batch", type=int, default=10_000, help="rows read at most per look")
    p.add_argument(
        "--tz", default="", help="zone of times stored without one (default: the centre's)"
    )
    p.add_argument("--once", action="store_true", help="read what is new once and stop")
    p = sub.add_parser("kpi", help="print KPIs by day and by hour")
    p.add_argument("--from", dest="start", required=True, type=dt.date.fromisoformat)
    p.add_argument("--to", dest="end", required=True, type=dt.date.fromisoformat)
    p.add_argument("--interval", type=int, default=60, choices=kpi.INTERVALS_MIN)
    p.add_argument("--queue", default="")
    p.add_argument("--tz", default="")
    p.add_argument("--short-abandon", type=int, default=kpi.DEFAULT_SHORT_ABANDON_S)
    p.add_argument(
        "--sl", type=int, default=kpi.DEFAULT_SERVICE_LEVEL_S, help="service level Y (s)"
    )
    p.add_argument("--ring", type=int, default=kpi.DEFAULT_TIMELY_RING_S, help="接听及时率 R (s)")
    return parser


def _zone(name: str) -> Any:
    from django.conf import settings

    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise SystemExit(f"kefu calls: unknown time zone {name!r}") from None


def cmd_import(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from kefu.calls import services

    path: Path = args.file
    if not path.is_file():
        print(f"kefu calls: {path}: no such file", file=sys.stderr)
        return 2
    with open(path, "rb") as handle:
        total = sum(1 for _line in handle)
    tz = _zone(args.tz)
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"), transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task(path.name, total=total)
        with open(path, "rb") as handle:
            run = services.import_file(
                args.format,
                handle,
                name=path.name,
                actor=None,
                tz=tz,
                progress=lambda n: bar.update(task, completed=n),
                workers=min(os.cpu_count() or 1, 4) if total > 200_000 else 1,
            )
    took = time.perf_counter() - started
    print(
        f"{path}: {run.lines} lines, {run.added} added, {run.duplicates} already there, "
        f"{run.rejected} rejected; {run.calls} calls ({took:.1f} s)"
    )
    for line, reason in run.rejects:
        print(f"  {path}:{line}: {reason}")
    if run.rejected > len(run.rejects):
        print(f"  … and {run.rejected - len(run.rejects)} more")
    return 1 if run.rejected else 0


def cmd_follow(args: argparse.Namespace) -> int:
    from kefu.calls import services

    path: Path = args.file
    print(f"following {path} (Ctrl-C to stop)")
    while True:
        if path.is_file():
            run = services.follow_queue_log(path)
            if run is not None:
                print(f"{run.name}: {run.added} events added, {run.rejected} rejected", flush=True)
                for line, reason in run.rejects:
                    print(f"  {path}:+{line}: {reason}")
        if args.once:
            return 0
        time.sleep(args.interval)


def cmd_follow_table(args: argparse.Namespace) -> int:
    from kefu.calls import follow

    try:
        source = follow.TableSource(args.url, args.table, args.id_column)
        conn = follow.connect(source)
    except follow.SourceError as exc:
        print(f"kefu calls: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - any driver's connection error, said plainly
        print(f"kefu calls: cannot connect to {source.key}: {exc}", file=sys.stderr)
        return 2
    tz = _zone(args.tz)
    print(f"following {source.key} (Ctrl-C to stop)")
    with conn:
        while True:
            run = follow.follow_queue_table(conn, source, tz=tz, batch=max(args.batch, 1))
            if run is not None:
                print(f"{run.name}: {run.added} events added, {run.rejected} rejected", flush=True)
                for row_id, reason in run.rejects:
                    print(f"  {args.table} id {row_id}: {reason}")
                if run.lines >= args.batch:
                    continue  # more rows are waiting
            if args.once:
                return 0
            time.sleep(args.interval)


def _fmt(value: float | int | None, rate: bool = False) -> str:
    if value is None:
        return "—"
    if rate:
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


COLUMNS = (
    ("offered", "offered", False),
    ("answered", "answered", False),
    ("abandoned", "abandoned", False),
    ("answer_rate", "人工接通率", True),
    ("abandon_rate", "abandon%", True),
    ("asa_s", "ASA s", False),
    ("aht_s", "AHT s", False),
    ("talk_avg_s", "talk s", False),
    ("sl_answered", "SL/ans", True),
    ("sl_offered", "SL/off", True),
    ("timely_rate", "接听及时率", True),
    ("longest_wait_s", "max wait", False),
    ("occupancy", "occupancy", True),
)


def _table(title: str, rows: list[tuple[str, Any]]) -> None:
    print(f"\n{title}")
    head = ["", *[c[1] for c in COLUMNS]]
    lines = [head] + [
        [label, *[_fmt(getattr(k, key), rate) for key, _h, rate in COLUMNS]] for label, k in rows
    ]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    for line in lines:
        cells = [str(line[0]).ljust(widths[0])]
        cells += [str(cell).rjust(widths[i]) for i, cell in enumerate(line) if i]
        print("  ".join(cells))


def cmd_kpi(args: argparse.Namespace) -> int:
    from kefu.calls.selectors import KpiQuery, kpi_report

    if args.end < args.start:
        print("kefu calls: --to is before --from", file=sys.stderr)
        return 2
    q = KpiQuery(
        start=args.start,
        end=args.end,
        tz=_zone(args.tz),
        interval_min=args.interval,
        queue=args.queue,
        short_abandon_s=args.short_abandon,
        service_level_s=args.sl,
        timely_ring_s=args.ring,
    )
    report = kpi_report(q)
    print(
        f"KPIs {args.start} to {args.end} ({q.tz}); short abandon < {q.short_abandon_s} s, "
        f"service level Y = {q.service_level_s} s, 接听及时率 R = {q.timely_ring_s} s"
    )
    _table("by day", [(f"{d:%Y-%m-%d %a}", k) for d, k in report.by_day])
    _table("by hour of the day", [(f"{h:02d}:00", k) for h, k in report.by_hour])
    _table("by queue", report.by_queue)
    _table("total", [("all", report.total)])
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "import": cmd_import,
        "follow": cmd_follow,
        "follow-table": cmd_follow_table,
        "kpi": cmd_kpi,
    }
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return 130
