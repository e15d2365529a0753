"""`kefu check`: is this installation configured and can it reach what it needs?"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

Report = Callable[[str], None]


def run_checks(report: Report) -> int:
    """Print one line per check; return the number of problems."""
    problems = 0

    def ok(label: str, detail: str = "") -> None:
        report(f"  ok    {label}{': ' + detail if detail else ''}")

    def bad(label: str, detail: str) -> None:
        nonlocal problems
        problems += 1
        report(f"  FAIL  {label}: {detail}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")
    from kefu.config.env import SettingError

    try:
        import django

        django.setup()
    except SettingError as exc:
        bad("settings", str(exc))
        return problems
    from django.conf import settings

    ok("settings", "production" if settings.PRODUCTION else "embedded")

    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
        ok("database", f"{connection.vendor} {connection.settings_dict.get('NAME')}")
    except OperationalError as exc:
        bad("database", str(exc).strip().splitlines()[0])
        return problems

    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        bad("migrations", f"{len(pending)} not applied; run `kefu migrate`")
    else:
        ok("migrations", "all applied")
        from kefu.sla.checks import holiday_data

        for warning in holiday_data():
            report(f"  warn  holiday data: {warning.msg} {warning.hint}")

    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
            ok("redis", str(settings.REDIS_URL).split("@")[-1])
        except redis.RedisError as exc:
            bad("redis", str(exc))
    elif settings.PRODUCTION:
        bad("redis", "KEFU_REDIS_URL is required in production")

    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        try:
            with socket.create_connection((settings.EMAIL_HOST, settings.EMAIL_PORT), timeout=5):
                ok("mail server", f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}")
        except OSError as exc:
            bad("mail server", f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {exc}")
    else:
        ok(
            "mail",
            f"written to files in {getattr(settings, 'EMAIL_FILE_PATH', '')} (set KEFU_EMAIL_URL to send)",
        )

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        ok("static files", settings.STATIC_ROOT)
    else:
        report(
            f"  note  static files: not collected yet in {settings.STATIC_ROOT}; `kefu serve` collects them"
        )

    media = Path(settings.MEDIA_ROOT)
    try:
        media.mkdir(parents=True, exist_ok=True)
        probe = media / ".kefu-write-test"
        probe.write_text("ok")
        probe.unlink()
        ok("attachment folder", str(media))
    except OSError as exc:
        bad("attachment folder", f"{media}: {exc}")

    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=settings.PRODUCTION, fail_level="ERROR", verbosity=0)
        ok("django checks")
    except SystemCheckError as exc:
        bad("django checks", str(exc))
    if settings.PRODUCTION and settings.DEBUG:
        bad("debug", "KEFU_DEBUG must be 0 in production")
    return problems
