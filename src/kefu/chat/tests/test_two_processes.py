"""Two Kefu server processes sharing PostgreSQL and Redis: the customer talks to one, the agent
to the other. Killing a process (kill -9) and cutting the channel layer's Redis connections
lose nothing, double nothing, and live updates resume by themselves."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from kefu.chat import services
from kefu.chat.models import Message
from kefu.chat.tests.wsclient import ChatClient
from kefu.testing.fixtures import run_async

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[4]
APP_NAME = "kefu-chat-cluster-test"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """One uvicorn process serving Kefu (as `kefu serve` runs each worker), against the test
    database and Redis."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.env = env
        self.port = port or _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        import httpx

        self.log = open(Path(self.env["KEFU_DATA_DIR"]) / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "kefu.config.asgi:application", "--host",
             "127.0.0.1", "--port", str(self.port), "--ws", "wsproto", "--no-proxy-headers",
             "--ws-per-message-deflate", "false", "--log-level", "warning"],
            env={**os.environ, **self.env}, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = Path(self.log.name).read_text(errors="replace")[-3000:]
                raise AssertionError(f"kefu serve exited:\n{text}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("kefu serve did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/"


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        "DJANGO_SETTINGS_MODULE": "kefu.config.settings",
        "KEFU_ENV": "production",
        "KEFU_DATABASE_URL": url,
        "KEFU_REDIS_URL": redis_url,
        "KEFU_SECRET_KEY": settings.SECRET_KEY,
        "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KEFU_DATA_DIR": str(tmp_path),
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_SECURE_COOKIES": "0",
        "KEFU_DB_POOL_SIZE": "4",
        "PGAPPNAME": APP_NAME,  # their database sessions, to end any a killed process left
    }
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # this test's own Redis database
    servers = [ServerProcess(env), ServerProcess(env)]
    yield servers
    for server in servers:
        server.stop()
    with connection.cursor() as cursor:  # a killed process's sessions may linger a moment
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [APP_NAME],
        )


def _cut_layer_connections(redis_url: str) -> int:
    """Close every connection to this test's Redis database except our own (the servers'
    channel-layer connections among them), as a Redis restart would."""
    import redis

    r = redis.Redis.from_url(redis_url)
    me = r.client_id()
    db = r.connection_pool.connection_kwargs.get("db", 0)
    killed = 0
    for client in r.client_list():
        if int(client["id"]) != me and int(client.get("db", -1)) == db:
            killed += r.client_kill_filter(_id=int(client["id"]))
    return killed


@pytest.mark.postgres  # two server processes share a PostgreSQL database
def test_customer_and_agent_on_two_processes_lose_and_double_nothing(chat_centre, cluster,
                                                                     redis_url):  # fmt: skip
    # given: a chat taken by an agent; the customer's socket on process A, the agent's on B
    a, b = cluster
    conversation = services.start_chat(widget=chat_centre["widget"], name="王女士", contact="")
    services.accept_chat(actor=chat_centre["agent"], conversation=conversation)
    token = services.guest_token(conversation)
    client = Client()
    client.force_login(chat_centre["agent"])
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    conv = conversation.pk

    async def scenario() -> dict[str, Any]:
        guest = ChatClient(a.ws + "guest/", token=token, conv=conv,
                           origin=f"http://127.0.0.1:{a.port}")  # fmt: skip
        agent = ChatClient(b.ws + "agent/", cookie=cookie, conv=conv,
                           origin=f"http://127.0.0.1:{b.port}")  # fmt: skip
        await guest.start()
        await agent.start()
        out: dict[str, Any] = {}
        # when: they talk across the two processes
        await guest.send("g1", "你好，停电了")
        await agent.send("a1", "您好，请问户号？")
        out["live"] = await guest.wait(lambda: "您好，请问户号？" in guest.bodies("agent"), 10) \
            and await agent.wait(lambda: "你好，停电了" in agent.bodies("guest"), 10)  # fmt: skip
        # and: the customer's process is killed right after a message left the browser
        await guest.send("g2", "户号是 1234")
        await asyncio.sleep(0.05)
        await asyncio.to_thread(a.kill)
        for i in range(3):
            await agent.send(f"a{i + 2}", f"处理中{i}")
        await asyncio.to_thread(a.start)  # the same address, as behind a balancer
        out["after_kill"] = await guest.wait(
            lambda: guest.bodies("agent")[-3:] == ["处理中0", "处理中1", "处理中2"]
            and not guest.pending, 30,
        ) and await agent.wait(lambda: "户号是 1234" in agent.bodies("guest"), 30)  # fmt: skip
        # and: the channel layer's Redis connections are cut on both processes
        out["killed"] = await asyncio.to_thread(_cut_layer_connections, redis_url)
        await agent.send("a5", "恢复了吗")
        await guest.send("g3", "恢复了")
        out["after_cut"] = await guest.wait(lambda: "恢复了吗" in guest.bodies("agent"), 30) \
            and await agent.wait(lambda: "恢复了" in agent.bodies("guest"), 30)  # fmt: skip
        # then, once more after the cut: a live push arrives within a ping or two
        sent = time.monotonic()
        await agent.send("a6", "最后一条")
        await guest.wait(lambda: "最后一条" in guest.bodies("agent"), 30)
        out["resume_s"] = time.monotonic() - sent
        # (the agent's own copy may come a moment after the customer's)
        await agent.wait(lambda: "最后一条" in agent.bodies("agent"), 30)
        out["guest_connects"] = guest.connects
        out["guest_deliveries"] = list(guest.deliveries)
        out["guest_seqs"] = sorted(guest.messages)
        out["agent_seqs"] = sorted(agent.messages)
        await guest.stop()
        await agent.stop()
        return out

    out = run_async(scenario())
    stored = list(
        Message.objects.filter(conversation_id=conv).order_by("seq").values_list("seq", "body")
    )
    # then: everything arrived; each message is stored once; both sides saw every number once
    assert out["live"] and out["after_kill"] and out["after_cut"]
    assert out["killed"] >= 1
    assert out["guest_connects"] >= 2  # the kill made the customer reconnect
    bodies = [body for _seq, body in stored]
    for text in (
        "你好，停电了",
        "户号是 1234",
        "处理中0",
        "处理中1",
        "处理中2",
        "恢复了",
        "恢复了吗",
    ):
        assert bodies.count(text) == 1, text
    assert [seq for seq, _body in stored] == list(range(1, len(stored) + 1))
    whispers = set(
        Message.objects.filter(conversation_id=conv, sender="whisper").values_list("seq", flat=True)
    )
    assert out["agent_seqs"] == [seq for seq, _b in stored]
    assert out["guest_seqs"] == [seq for seq, _b in stored if seq not in whispers]
    assert out["resume_s"] < 10
