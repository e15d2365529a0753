"""kefu bench chat: customers' chat sockets spread over two server processes sharing PostgreSQL
and Redis; agents' sockets on the other process; a steady rate of customer messages.

Each customer message is stored, acknowledged and pushed through the Redis channel layer to
the agent watching that chat on the other process. Reports the connections held, the rate
achieved, the end-to-end delivery latency (customer's send to the agent's receipt) at
p50/p95/p99, the send-to-acknowledgement latency, and how many messages were lost (never
reached the agent) or duplicated (reached it twice, or stored twice).

Full scale: 5,000 customer connections and 500 messages a second for 20 seconds; ``--scale``
multiplies both. The clients run in this process on the same machine as the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import (
    Server,
    emit,
    kefu,
    pg_drop,
    pg_recreate,
    production_env,
    say,
    setup_django,
    summary_ms,
)

DATABASE = "kefu_bench_chat"
REQUIRES = ("websockets", "uvloop")
PER_AGENT_SOCKET = 50  # chats one agent socket watches (the consumer's limit)
PING_EVERY = 20.0  # seconds, as the widget


def seed(chats: int) -> tuple[list[tuple[int, str]], str]:
    """Chats in conversation, their guest tokens, and a supervisor's session cookie."""
    import secrets

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from kefu.accounts.models import User
    from kefu.chat import services
    from kefu.chat.models import Conversation, Widget
    from kefu.core.permissions import Role

    now = timezone.now()
    with transaction.atomic():
        widget = Widget.objects.create(name="压测", allowed_origins=["http://127.0.0.1"])
        boss = User(username="bench-lead", display_name="值班长", role=Role.SUPERVISOR)
        boss.set_password(secrets.token_urlsafe(16))
        boss.save()
        rows = Conversation.objects.bulk_create(
            (
                Conversation(widget=widget, guest_name=f"客户{i}", state="active", agent=boss,
                             accepted_at=now, token_nonce=secrets.token_urlsafe(12))
                for i in range(chats)
            ),
            batch_size=2000,
        )  # fmt: skip
    session = SessionStore()
    session["_auth_user_id"] = str(boss.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    session["_auth_user_hash"] = boss.get_session_auth_hash()
    session.create()
    return [(c.pk, services.guest_token(c)) for c in rows], f"sessionid={session.session_key}"


class Run:
    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.received: dict[str, float] = {}
        self.duplicates = 0
        self.errors: list[str] = []
        self.guest_sockets: dict[int, Any] = {}
        self.last_seen: dict[int, int] = {}
        self.connected = 0


async def _guest(run: Run, url: str, origin: str, conv: int, token: str, ready: Any) -> None:
    import websockets

    async with ready:
        socket = await websockets.connect(
            url, additional_headers={"Origin": origin}, open_timeout=60, max_queue=None,
            ping_interval=None,
        )  # fmt: skip
        await socket.send(json.dumps({"type": "hello", "token": token, "last": 0}))
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == "state":
                break
    run.guest_sockets[conv] = socket
    run.connected += 1
    pinger = asyncio.create_task(_ping(run, socket, conv))
    try:
        async for raw in socket:
            frame = json.loads(raw)
            if frame["type"] == "ack":
                run.acked.setdefault(frame["cid"], time.perf_counter())
            elif frame["type"] == "msg":
                run.last_seen[conv] = max(run.last_seen.get(conv, 0), frame["seq"])
            elif frame["type"] == "error":
                run.errors.append(frame["message"])
    except websockets.ConnectionClosed as exc:
        run.errors.append(f"guest socket closed: {exc}")
    finally:
        pinger.cancel()


async def _ping(run: Run, socket: Any, conv: int) -> None:
    """The widget's ping every 20 s (each asks the database for the chat's last number)."""
    import random

    await asyncio.sleep(random.uniform(0, PING_EVERY))  # noqa: S311 - spreading, not secrecy
    while True:
        await socket.send(json.dumps({"type": "ping", "last": run.last_seen.get(conv, 0)}))
        await asyncio.sleep(PING_EVERY)


async def _agent(
    run: Run, url: str, origin: str, cookie: str, convs: list[int], ready: Any
) -> None:
    import websockets

    async with ready:
        socket = await websockets.connect(
            url, additional_headers={"Origin": origin, "Cookie": cookie}, open_timeout=60,
            max_queue=None, ping_interval=None,
        )  # fmt: skip
        for conv in convs:
            await socket.send(json.dumps({"type": "join", "conv": conv, "last": 0}))
        joined = 0
        while joined < len(convs):
            frame = json.loads(await socket.recv())
            if frame["type"] == "joined":
                joined += 1
            elif frame["type"] == "error":
                raise RuntimeError(f"agent socket refused: {frame}")
    run.connected += 1
    try:
        async for raw in socket:
            frame = json.loads(raw)
            if frame["type"] == "msg" and frame.get("from") == "guest":
                now = time.perf_counter()
                cid = frame["cid"]
                if cid in run.received:
                    run.duplicates += 1
                else:
                    run.received[cid] = now
    except websockets.ConnectionClosed as exc:
        run.errors.append(f"agent socket closed: {exc}")


async def drive(
    servers: list[Server], chats: list[tuple[int, str]], cookie: str, rate: float, seconds: float
) -> tuple[Run, dict[str, Any]]:
    run = Run()
    ready = asyncio.Semaphore(100)  # connections being opened at once
    tasks = []
    ws = [s.url.replace("http://", "ws://") for s in servers]
    origins = [s.url for s in servers]
    started = time.perf_counter()
    for index, (conv, token) in enumerate(chats):
        side = index % 2
        tasks.append(asyncio.create_task(
            _guest(run, ws[side] + "/ws/chat/guest/", origins[side], conv, token, ready)))  # fmt: skip
    # the agents watch each chat from the other process than its customer
    for side in (0, 1):
        mine = [conv for index, (conv, _t) in enumerate(chats) if index % 2 != side]
        for start in range(0, len(mine), PER_AGENT_SOCKET):
            tasks.append(asyncio.create_task(_agent(
                run, ws[side] + "/ws/chat/agent/", origins[side], cookie,
                mine[start:start + PER_AGENT_SOCKET], ready)))  # fmt: skip
    agents = sum((len(chats) // 2 + PER_AGENT_SOCKET - 1) // PER_AGENT_SOCKET for _ in (0, 1))
    expected = len(chats) + agents
    while run.connected < expected:
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise RuntimeError(f"a socket failed to connect: {failed[0].exception()!r}")
        await asyncio.sleep(0.2)
    connect_s = time.perf_counter() - started
    say(f"  {len(chats):,} customer + {agents} agent sockets connected in {connect_s:.1f} s")
    # the load generator's own garbage collections (thousands of sockets) would stall its
    # reading and count as delivery time: none while sending
    gc.collect()
    gc.freeze()
    gc.disable()
    # a steady rate: one message every 1/rate seconds, to the chats in turn
    order = itertools.cycle([conv for conv, _t in chats])
    total = int(rate * seconds)
    interval = 1.0 / rate
    cpu0 = time.process_time()
    servers_cpu0 = [_cpu_seconds(s) for s in servers]
    t0 = time.perf_counter()
    for n in range(total):
        due = t0 + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conv = next(order)
        cid = f"b{n}"
        run.sent[cid] = time.perf_counter()
        await run.guest_sockets[conv].send(json.dumps({"type": "msg", "cid": cid,
                                                       "body": f"压测消息 {n}"}))  # fmt: skip
    send_s = time.perf_counter() - t0
    gc.enable()
    client_cpu = (time.process_time() - cpu0) / send_s
    servers_cpu = [
        (_cpu_seconds(s) - c) / send_s for s, c in zip(servers, servers_cpu0, strict=True)
    ]
    deadline = time.perf_counter() + 15
    while len(run.received) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    for socket in run.guest_sockets.values():
        await socket.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return run, {"connect_s": round(connect_s, 1), "send_s": send_s, "agent_sockets": agents,
                 "client_cpu": client_cpu, "servers_cpu": servers_cpu}  # fmt: skip


def _cpu_seconds(server: Server) -> float:
    """CPU time used so far by a server process (all its threads)."""
    import psutil

    times = psutil.Process(server.proc.pid).cpu_times()
    return float(times.user + times.system)


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench chat")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady rate")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--connections", type=int, help="customer sockets (default 5,000 × scale)")
    parser.add_argument("--rate", type=float, help="messages a second (default 500 × scale)")
    args = parser.parse_args(argv)
    connections = args.connections or max(100, int(5000 * scale))
    rate = args.rate or max(10.0, 500.0 * scale)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    say(f"kefu bench chat: {connections:,} customer sockets over 2 server processes, "
        f"{rate:.0f} messages/s for {args.seconds:.0f} s (PostgreSQL, Redis channel layer)")  # fmt: skip
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-chat-"))
    url = pg_recreate(DATABASE)
    env = production_env(url, data_dir, KEFU_DB_POOL_SIZE="12")
    servers: list[Server] = []
    try:
        kefu("migrate", env=env)
        setup_django(env)
        import redis
        from django.conf import settings

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        chats, cookie = seed(connections)
        from django.db import connection

        connection.close()
        servers = [Server(env, workers=1), Server(env, workers=1)]
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        try:
            run, facts = asyncio.run(drive(servers, chats, cookie, rate, args.seconds))
        except Exception:
            for server in servers:
                server.stop()
                say((server.proc.stderr.read() if server.proc.stderr else "")[-3000:])
            raise
        from kefu.chat.models import Message

        stored = Message.objects.filter(client_id__startswith="b").count()
        total = len(run.sent)
        lost = sum(1 for cid in run.sent if cid not in run.received)
        latency = [run.received[c] - run.sent[c] for c in run.sent if c in run.received]
        acks = [run.acked[c] - run.sent[c] for c in run.sent if c in run.acked]
        e2e = summary_ms(latency)
        ack = summary_ms(acks)
        achieved = total / facts["send_s"] if facts["send_s"] else 0.0
        duplicated = run.duplicates + max(0, stored - total)
        say(f"  sent {total:,} messages at {achieved:.0f}/s; stored {stored:,}; "
            f"delivered {len(latency):,}; lost {lost}; duplicated {duplicated}")  # fmt: skip
        say(f"  delivery to the agent on the other process: p50 {e2e['p50_ms']} ms, "
            f"p95 {e2e['p95_ms']} ms, p99 {e2e['p99_ms']} ms")  # fmt: skip
        say(f"  acknowledgement to the customer: p50 {ack['p50_ms']} ms, p99 {ack['p99_ms']} ms")
        cpu = ", ".join(f"{c:.0%}" for c in facts["servers_cpu"])
        say(f"  CPU while sending: server processes {cpu} of a core; this client "
            f"{facts['client_cpu']:.0%}")  # fmt: skip
        peak = max(s.peak_rss for s in servers) / 1048576
        say(f"  peak server memory {peak:.0f} MB per process; {len(run.errors)} error frames")
        if run.errors:
            say(f"  first error: {run.errors[0]}")
        emit(
            {
                "bench": "chat",
                "scale": scale,
                "connections": connections,
                "agent_sockets": facts["agent_sockets"],
                "server_processes": 2,
                "connect_s": facts["connect_s"],
                "msgs_per_s": round(achieved, 1),
                "messages": total,
                "p50_ms": e2e["p50_ms"],
                "p95_ms": e2e["p95_ms"],
                "p99_ms": e2e["p99_ms"],
                "ack_p99_ms": ack["p99_ms"],
                "lost": lost,
                "duplicated": duplicated,
                "peak_rss_mb": round(peak),
                "server_cpu": [round(c, 2) for c in facts["servers_cpu"]],
                "client_cpu": round(facts["client_cpu"], 2),
            }
        )
        return 0
    finally:
        for server in servers:
            server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        if not args.keep:
            from django.db import connections as all_connections

            all_connections.close_all()
            pg_drop(DATABASE)
