"""kefu bench email — incoming mail parsed, threaded and stored, per second, on PostgreSQL.

A mailbox receives a realistic mix (built before timing, deterministic): new mail from returning
and new customers in UTF-8, GB18030, GBK-labelled-GB2312 and Big5, plain and HTML with
quoted history, one in ten with an image attached; replies that thread by In-Reply-To, replies
that thread by the number in the subject, and out-of-office auto-replies. Each message goes
through the whole pipeline (store the original, deduplicate, classify, thread, match or create
the customer, open a work order or add the message, attachments, events and every work-order
hook: SLA clocks, routing, search index) and commits on its own, as a fetch does.

Full scale is 5,000 messages; --scale 0.01 for a quick run (50). Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bench._harness import (
    emit,
    kefu,
    pg_drop,
    pg_recreate,
    production_env,
    say,
    setup_django,
    summary_ms,
)

DATABASE = "kefu_bench_email"
BATCH = 50  # messages per fetch batch, as kefu.email.services.fetch takes them
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478"
    "9c6360000002000154a24f5d0000000049454e44ae426082"
)
SUBJECTS = ["家中停电", "电费账单异常", "水表读数不对", "燃气表不走字", "发票申请", "路灯不亮",
            "营业厅周末开门吗", "申请更名过户", "线路老化请检修", "缴费未到账"]  # fmt: skip
BODIES = [
    "您好：\n\n我家（户号 {acct}）从今天早上开始停电，请尽快派人检修。\n\n谢谢！",
    "上个月用水只有5吨，账单却是50吨，请核实。户号 {acct}。",
    "請問本月帳單明細如何查詢？戶號 {acct}。",
    "Please check my bill for account {acct}; the amount looks wrong.",
]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞"]


def build_mix(n: int, rng: random.Random) -> list[tuple[bytes, int]]:
    """``n`` raw messages in arrival order, each with its conversation (replies share their
    parent's, so a worker that takes a conversation sees its messages in order)."""
    messages: list[tuple[bytes, int]] = []
    sent_ids: list[tuple[str, str, str]] = []  # (message id, sender, subject)
    group_of: dict[str, int] = {}
    senders = [
        f"user{i}@example.{rng.choice(['cn', 'com', 'net'])}" for i in range(max(10, n // 3))
    ]
    for i in range(n):
        roll = rng.random()
        msg = EmailMessage()
        if sent_ids and roll < 0.30:
            parent, sender, subject = rng.choice(sent_ids)
            msg["Subject"] = f"回复：{subject}"
            msg["In-Reply-To"] = parent
            msg["References"] = parent
            text = "好的，明天上午在家。\n\n在 2026年12月1日 10:00，客服中心 写道：\n> 已安排检修"
        elif sent_ids and roll < 0.35:
            parent, sender, subject = rng.choice(sent_ids)
            msg["Subject"] = f"Re: {subject} [#NUMBER:{parent}]"
            text = "补充：户号写错了，应为 1002003005。"
        elif roll < 0.40:
            sender = rng.choice(senders)
            subject = "自动回复：" + rng.choice(SUBJECTS)
            msg["Subject"] = subject
            msg["Auto-Submitted"] = "auto-replied"
            text = "我正在休假，12月5日返回。"
        else:
            sender = rng.choice(senders)
            subject = rng.choice(SUBJECTS)
            msg["Subject"] = subject
            text = rng.choice(BODIES).format(acct=rng.randint(1000000000, 9999999999))
        msg["From"] = f"{rng.choice(NAMES)} <{sender}>"
        msg["To"] = "service@kefu.example.cn"
        msg["Date"] = format_datetime(_now())
        mid = f"<bench-{i}-{rng.getrandbits(48):x}@{sender.split('@')[1]}>"
        msg["Message-ID"] = mid
        charset = rng.choice(["utf-8", "gb18030", "gb2312", "big5"])
        try:
            text.encode("gbk" if charset == "gb2312" else charset)
        except UnicodeEncodeError:
            charset = "utf-8"
        msg.set_content(text, charset="gbk" if charset == "gb2312" else charset)
        if charset == "gb2312":  # what Chinese clients do: label GBK text as GB2312
            msg.set_param("charset", "gb2312")
        if rng.random() < 0.3:
            msg.add_alternative(
                "<div>" + text.replace("\n", "<br>") + "</div>", subtype="html", charset="utf-8"
            )
        if rng.random() < 0.1:
            msg.add_attachment(PNG, maintype="image", subtype="png", filename="现场照片.png")
        parent_id = str(msg["In-Reply-To"] or "")
        if "[#NUMBER:" in str(msg["Subject"]):
            parent_id = str(msg["Subject"]).split("[#NUMBER:")[1].rstrip("]")
        group = group_of.get(parent_id, i)
        group_of[mid] = group
        if not msg["Auto-Submitted"] and "In-Reply-To" not in msg and "[#NUMBER" not in subject:
            sent_ids.append((mid, sender, subject))
        messages.append((msg.as_bytes(), group))
    return messages


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def _fill_numbers(raw: bytes) -> bytes:
    """Subject-number replies name the work order their parent opened (known only once filed)."""
    marker = b"[#NUMBER:"
    if marker not in raw:
        return raw
    from email import message_from_bytes, policy

    from kefu.email.models import InboundEmail

    msg = message_from_bytes(raw, policy=policy.default)
    subject = str(msg["Subject"])
    start = subject.index("[#NUMBER:")
    parent = subject[start + 9 : subject.index("]", start)]
    row = InboundEmail.objects.filter(message_id=parent).select_related("ticket").first()
    number = row.ticket.number if row is not None and row.ticket is not None else "GD00000000-00000"
    del msg["Subject"]
    msg["Subject"] = subject[:start] + f"[#{number}]"
    return msg.as_bytes()


def _work(
    env: dict[str, str],
    mailbox_id: int,
    batch: list[tuple[str, bytes]],
    results: Any,
    ready: Any,
) -> None:
    """One worker process: ingest its conversations in order, in fetch batches of up to
    BATCH messages (one transaction each), and report each batch's size and time."""
    setup_django(env)
    from django.db import connections

    from kefu.email.models import Mailbox
    from kefu.email.services import ingest_batch

    mailbox = Mailbox.objects.get(pk=mailbox_id)
    backend = _backend_pid()
    ready.wait()
    cpu0, db0 = time.process_time(), _cpu_seconds(backend)
    times: list[tuple[int, float]] = []
    pending: list[tuple[str, bytes]] = []
    parents: set[str] = set()

    def flush() -> None:
        if pending:
            t0 = time.perf_counter()
            ingest_batch(mailbox, [(uid, _fill_numbers(raw)) for uid, raw in pending])
            times.append((len(pending), time.perf_counter() - t0))
            pending.clear()
            parents.clear()

    for uid, raw in batch:
        # A reply naming its work order's number can only be written once the message that
        # opened it is committed (the customer learns the number from our acknowledgement).
        parent = _numbered_parent(raw)
        if parent and parent in parents:
            flush()
        pending.append((uid, raw))
        parents.add(_message_id(raw))
        if len(pending) >= BATCH:
            flush()
    flush()
    cpu = {"client": time.process_time() - cpu0, "db": _cpu_seconds(backend) - db0}
    connections.close_all()
    results.put((times, cpu))


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _cpu_seconds(pid: int) -> float:
    """CPU time used by a process of this machine (the worker's PostgreSQL backend); 0 when
    the database runs elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _numbered_parent(raw: bytes) -> str:
    marker = raw.find(b"[#NUMBER:")
    if marker < 0:
        return ""
    return raw[marker + 9 : raw.index(b"]", marker)].decode()


def _message_id(raw: bytes) -> str:
    start = raw.index(b"Message-ID: ") + 12
    return raw[start : raw.index(b"\n", start)].strip().decode()


def _run(
    env: dict[str, str], mailbox_id: int, batches: list[list[tuple[str, bytes]]]
) -> tuple[float, list[tuple[int, float]], dict[str, float]]:
    """Wall-clock seconds for the workers to finish, and every fetch batch's size and time.
    Workers are
    started fresh (spawn: the connection pool's threads do not survive a fork); the clock
    starts once all of them have set Django up."""
    import importlib
    import multiprocessing

    # `kefu bench` loads this file outside sys.modules; the workers need the importable copy.
    work = importlib.import_module("bench.email")._work
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    ready = context.Barrier(len([b for b in batches if b]) + 1)
    procs = [
        context.Process(target=work, args=(env, mailbox_id, b, results, ready))
        for b in batches
        if b
    ]
    for proc in procs:
        proc.start()
    ready.wait()
    started = time.perf_counter()
    times: list[tuple[int, float]] = []
    cpu = {"client": 0.0, "db": 0.0}
    for _proc in procs:
        got, used = results.get()
        times.extend(got)
        cpu = {k: cpu[k] + used[k] for k in cpu}
    for proc in procs:
        proc.join()
    return time.perf_counter() - started, times, cpu


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench email")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one per CPU core; filing mail is CPU-bound)",
    )
    args = parser.parse_args(argv)
    n = max(50, int(5000 * scale))
    say(f"kefu bench email: {n:,} incoming messages through the whole pipeline on PostgreSQL")
    rng = random.Random(20261203)
    mix = build_mix(n, rng)
    say(f"  built {n:,} messages ({sum(len(m) for m, _g in mix) / n:,.0f} bytes on average)")

    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-email-"))
    url = pg_recreate(DATABASE)
    env = production_env(url, data_dir)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        from kefu.email import parsing

        started = time.perf_counter()
        for raw, _group in mix:
            parsed = parsing.parse_message(raw)
            parsing.classify(parsed, {"service@kefu.example.cn"})
            parsing.fold_quoted(parsed.text)
            parsing.sanitize_html(parsed.html)
        parse_s = time.perf_counter() - started
        say(f"  parsing alone (one process): {n / parse_s:,.0f} messages/s")

        mailbox = _mailbox()
        numbered = [(f"imap:1:{i + 1}", raw, group) for i, (raw, group) in enumerate(mix)]
        first = max(10, n // 5)
        one_s, one_times, one_cpu = _run(
            env, mailbox.pk, [[(u, r) for u, r, _g in numbered[:first]]]
        )
        one_rate = first / one_s
        say(f"  one worker: {first:,} in {one_s:.1f} s = {one_rate:,.0f} messages/s")
        rest = numbered[first:]
        batches: list[list[tuple[str, bytes]]] = [[] for _ in range(args.workers)]
        for uid, raw, group in rest:
            batches[group % args.workers].append((uid, raw))
        many_s, many_times, many_cpu = _run(env, mailbox.pk, batches)
        rate = len(rest) / many_s
        batch_times = [t for _n, t in one_times + many_times]
        stats = summary_ms(batch_times)
        per_message_ms = sum(batch_times) * 1000 / sum(k for k, _t in one_times + many_times)
        say(
            f"  {args.workers} workers: {len(rest):,} in {many_s:.1f} s = {rate:,.0f} messages/s "
            f"(a batch of up to {BATCH}: p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, "
            f"p99 {stats['p99_ms']} ms; {per_message_ms:.1f} ms per message)"
        )
        cpu_ms = {k: (one_cpu[k] + many_cpu[k]) * 1000 / n for k in one_cpu}
        per_core = 1000 / (cpu_ms["client"] + cpu_ms["db"]) if cpu_ms["db"] else 0.0
        say(
            f"  CPU per message: {cpu_ms['client']:.1f} ms in Kefu, {cpu_ms['db']:.1f} ms in "
            f"PostgreSQL = {per_core:,.0f} messages/s per CPU core"
        )

        from kefu.email.models import InboundEmail
        from kefu.email.services import ingest
        from kefu.tickets.models import Ticket

        stored = InboundEmail.objects.count()
        states = dict.fromkeys(("processed", "ignored", "quarantined"), 0)
        for state in InboundEmail.objects.values_list("state", flat=True):
            states[state] += 1
        threaded = InboundEmail.objects.filter(created_ticket=False, state="processed").count()
        tickets = Ticket.objects.count()
        say(
            f"  stored {stored:,}: {states['processed']:,} filed ({tickets:,} new work orders, "
            f"{threaded:,} threaded onto existing ones), {states['ignored']:,} automatic, "
            f"{states['quarantined']:,} in quarantine"
        )
        sample = [raw for raw, _g in mix[: max(10, n // 10)]]
        started = time.perf_counter()
        duplicates = sum(ingest(mailbox, raw).duplicate for raw in sample)
        again_s = time.perf_counter() - started
        say(
            f"  the same {len(sample):,} fetched again: {duplicates:,} recognised as "
            f"duplicates, {len(sample) / again_s:,.0f}/s"
        )
        from django.db import connections

        connections.close_all()
    finally:
        if not args.keep:
            pg_drop(DATABASE)
    emit(
        {
            "bench": "email",
            "messages": n,
            "workers": args.workers,
            "msgs_per_s": round(rate, 1),
            "one_worker_msgs_per_s": round(one_rate, 1),
            "parse_per_s": round(n / parse_s, 1),
            "batch": BATCH,
            "batch_p50_ms": stats["p50_ms"],
            "batch_p95_ms": stats["p95_ms"],
            "batch_p99_ms": stats["p99_ms"],
            "ms_per_message": round(per_message_ms, 2),
            "cpu_ms_per_message": round(cpu_ms["client"], 2),
            "db_cpu_ms_per_message": round(cpu_ms["db"], 2),
            "msgs_per_s_per_core": round(per_core, 1),
            "stored": stored,
            "work_orders": tickets,
            "threaded": threaded,
            "automatic": states["ignored"],
            "quarantined": states["quarantined"],
            "duplicates_recognised": duplicates,
            "target_msgs_per_s": 200,
        }
    )
    return 0


def _mailbox() -> Any:
    from django.db import transaction

    from kefu.accounts.models import Team, User
    from kefu.core.permissions import Role
    from kefu.email.services import create_mailbox
    from kefu.tickets.models import TicketType

    with transaction.atomic():
        team = Team.objects.create(name="一线", code="frontline", kind=Team.Kind.FRONTLINE)
        admin = User(username="bench-admin", role=Role.ADMIN, display_name="管理员")
        admin.set_unusable_password()
        admin.save()
    kind = TicketType.objects.filter(is_active=True).order_by("sort", "id").first()
    assert kind is not None
    return create_mailbox(
        actor=admin,
        data={
            "name": "客服邮箱",
            "address": "service@kefu.example.cn",
            "team": team.pk,
            "ticket_type": kind.pk,
            "in_host": "imap.kefu.example.cn",
            "in_username": "service",
            "out_host": "smtp.kefu.example.cn",
            "send_acknowledgement": False,
        },
    )
