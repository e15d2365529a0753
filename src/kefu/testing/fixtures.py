"""Shared pytest fixtures: real services (Redis, SMTP, Chromium), no outbound network."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

hypothesis_settings.register_profile("kefu", database=None, deadline=None, print_blob=True)
hypothesis_settings.load_profile("kefu")

REQUIRE_SERVICES = os.environ.get("KEFU_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"
PAGE_TIMEOUT_MS = 20_000
"""How long a browser test waits for a page, an element or a navigation: with the whole suite on
two processes of a two-core machine, a page and the panels it loads after it can take more than
10 s."""


def require(condition: bool, message: str) -> None:
    """Skip when a service is missing, or fail when KEFU_REQUIRE_SERVICES=1 (CI)."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {message}")
    pytest.skip(message)


# --- no outbound network --------------------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # unix sockets
    host = address[0]
    if host in ("localhost", "testserver"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach the network ({address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach the network ({address!r})")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_outbound_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts without cached values: shared cache and the per-process option lists."""
    from django.core.cache import cache

    from kefu.sla import calendars, policies
    from kefu.tickets.selectors import forget_options
    from kefu.tickets.services import webhooks

    def forget() -> None:
        cache.clear()
        forget_options()
        webhooks._LOCAL.clear()
        calendars.forget()
        policies.forget()

    forget()
    yield
    forget()


@pytest.fixture
def at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run what a service schedules for after commit at once (tests in a transaction never
    commit)."""
    from django.db import transaction

    def run(func: Any, using: Any = None, robust: bool = False) -> None:
        func()

    monkeypatch.setattr(transaction, "on_commit", run)


@pytest.fixture
def clock_at() -> Iterator[Any]:
    """Move time: ``clock_at(when)``; later calls move it again. Time stands still between."""
    import time_machine

    travellers: list[Any] = []

    def move(when: Any) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield move
    for traveller in travellers:
        traveller.stop()


def pytest_addoption(parser: Any) -> None:
    parser.addoption(
        "--clock",
        metavar="WHEN",
        help="start every test's clock at WHEN (ISO 8601, e.g. 2026-12-03T23:58+08:00), ticking "
        "from there: a run at a day's or a week's edge shows tests that hold only in office hours",
    )


@pytest.fixture(autouse=True)
def _suite_clock(request: Any) -> Iterator[None]:
    when = request.config.getoption("--clock")
    if not when:
        yield
        return
    import time_machine

    with time_machine.travel(when, tick=True):
        yield


# --- databases ------------------------------------------------------------------------------------


def on_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


# --- Redis ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = os.environ.get("KEFU_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        require(False, f"Redis is not reachable at {url}")
    return url


# --- a real SMTP server ---------------------------------------------------------------------------


class SmtpSink:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                from email import message_from_bytes, policy

                sink.messages.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "message": message_from_bytes(envelope.content, policy=policy.default),
                    }
                )
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=_free_port())
        self.controller.start()
        self.host = self.controller.hostname
        self.port = self.controller.port

    def stop(self) -> None:
        self.controller.stop()

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on localhost; Django sends to it over SMTP."""
    sink = SmtpSink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()


# --- browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(
        Path(CHROMIUM).exists() or bool(shutil.which("chromium")),
        "Chromium is not installed (apt-get install chromium)",
    )
    # Playwright's sync API keeps an event loop in this thread; the ORM calls in test code are
    # still synchronous, so tell Django not to refuse them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


class PageErrors(list[str]):
    pass


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page (1366×768). Any JavaScript error or CSP violation fails the test."""
    if "asgi_server" in request.fixturenames:
        # start the server first, so it stops only after this page has closed: a poll or a
        # socket still open when the test ends must not hit a server that has gone away
        request.getfixturevalue("asgi_server")
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors = PageErrors()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.kefu_errors = errors
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()
    assert not errors, f"browser reported errors: {errors}"


def sign_in(page: Any, base_url: str, login: str, password: str, *, portal: bool = False) -> None:
    if portal:
        page.goto(f"{base_url}/portal/login/")
        page.fill("#id_login", login)
        page.fill("#id_password", password)
        page.click("[data-testid=portal-login-submit]")
    else:
        page.goto(f"{base_url}/login/")
        page.fill("#id_login", login)
        page.fill("#id_password", password)
        page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")


# --- an ASGI server (HTTP + WebSockets) in a thread -----------------------------------------------


class AsgiServer:
    def __init__(self) -> None:
        import uvicorn

        from kefu.config.asgi import KefuApplication

        self.port = _free_port()
        from kefu.cli import uvicorn_options

        config = uvicorn.Config(
            KefuApplication(run_jobs=False),
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            **uvicorn_options(),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


_static_collected = False


def _collect_static_once() -> None:
    global _static_collected
    if not _static_collected:
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
        _static_collected = True


@pytest.fixture
def asgi_server(
    transactional_db: Any, django_db_serialized_rollback: Any, settings: Any
) -> Iterator[AsgiServer]:
    """Kefu served by uvicorn (with WebSockets) against the test database. Like every test
    that commits, it restores the migrations' rows afterwards (serialized rollback): a flush
    without it lets Django re-create the content types under new ids, and the next test that
    restores the serialized rows then fails on their unique names."""
    _collect_static_once()
    server = AsgiServer()
    yield server
    server.stop()


def run_async(coroutine: Any) -> Any:
    """Run a coroutine to completion on a fresh event loop in its own thread: the browser
    tests' Playwright keeps an event loop running in the main thread of the same worker."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def wait_for_live(page: Any, group: str, timeout: int = PAGE_TIMEOUT_MS) -> None:
    """Wait until the page's WebSocket has joined a live group ("user", "ticket-42"). (Up to
    20 s: with the suite on two processes, the server can take several seconds to answer.)"""
    page.wait_for_function(
        "group => (document.body.dataset.liveGroups || '').split(' ').includes(group)",
        arg=group,
        timeout=timeout,
    )


@pytest.fixture
def centre(db: Any) -> dict[str, Any]:
    """A small centre (see kefu.testing.factories.frontline_setup)."""
    from kefu.testing.factories import frontline_setup

    return frontline_setup()


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked ``postgres`` are about PostgreSQL itself (a second server process on the
    same database, a query plan, a PBX table): the SQLite run leaves them out rather than
    skipping them, and the PostgreSQL run of the suite runs them."""
    if os.environ.get("KEFU_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    kept = [item for item in items if item.get_closest_marker("postgres") is None]
    left_out = [item for item in items if item.get_closest_marker("postgres") is not None]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
