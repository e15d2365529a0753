"""Following Asterisk's realtime ``queue_log`` table (MySQL or PostgreSQL) as it grows.

Asterisk can write its queue log to a database table instead of (or as well as) the file:
``id, time, callid, queuename, agent, event`` and either ``data`` (fields joined with ``|``)
or ``data1`` … ``data5``. Each look reads the rows after the last id read, turns every row into
the line the file would hold and imports those lines through the file's path — so a row and
its file line are one event, and reading a row twice adds nothing. The last id read is kept
(``FollowedFile``), so a restart continues where it stopped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from kefu.calls.models import FollowedFile, ImportRun
from kefu.calls.parsers import LineError
from kefu.calls.parsers.queue_log import realtime_line

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
SCHEMES = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql"}


class SourceError(ValueError):
    """The table cannot be read as asked; the message says why."""


@dataclass(frozen=True)
class TableSource:
    url: str
    table: str = "queue_log"
    id_column: str = "id"

    def __post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme
        if scheme not in SCHEMES:
            raise SourceError(
                f"unsupported database URL {scheme or self.url!r}: use postgresql:// or mysql://"
            )
        for what, name in (("table", self.table), ("id column", self.id_column)):
            if not NAME.match(name):
                raise SourceError(f"{what} {name!r}: use letters, digits and _ (schema.table)")

    @property
    def kind(self) -> str:
        return SCHEMES[urlsplit(self.url).scheme]

    @property
    def key(self) -> str:
        """Where the position is kept: the server, database and table, never the password."""
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        return f"table:{self.kind}://{parts.hostname or ''}{port}{parts.path}#{self.table}"[:500]

    def quoted(self, name: str) -> str:
        quote = "`" if self.kind == "mysql" else '"'
        return ".".join(f"{quote}{part}{quote}" for part in name.split("."))


def connect(source: TableSource) -> Any:
    """A DB-API connection to the PBX's database (autocommit: every look sees new rows)."""
    if source.kind == "postgresql":
        import psycopg

        return psycopg.connect(source.url, autocommit=True, connect_timeout=10)
    try:
        import pymysql
    except ImportError as exc:
        raise SourceError("reading a MySQL table needs PyMySQL: pip install pymysql") from exc
    parts = urlsplit(source.url)
    return pymysql.connect(
        host=parts.hostname or "localhost",
        port=parts.port or 3306,
        user=parts.username or "",
        password=parts.password or "",
        database=parts.path.lstrip("/"),
        autocommit=True,
        connect_timeout=10,
    )


def read_rows(conn: Any, source: TableSource, after: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` rows with an id above ``after``, in id order, as dicts (lower-case keys)."""
    sql = (
        f"SELECT * FROM {source.quoted(source.table)} "  # noqa: S608 - names checked and quoted
        f"WHERE {source.quoted(source.id_column)} > %s "
        f"ORDER BY {source.quoted(source.id_column)} LIMIT %s"
    )
    with conn.cursor() as cur:
        cur.execute(sql, (after, limit))
        names = [d[0].lower() for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def follow_queue_table(
    conn: Any, source: TableSource, *, tz: dt.tzinfo, batch: int = 10_000, actor: Any = None
) -> ImportRun | None:
    """Import the rows added since the last look (at most ``batch``); None when there were
    none. Rows whose time has no zone are in ``tz``. Refused rows are named by their id."""
    from kefu.calls.services import import_queue_log

    state, _created = FollowedFile.objects.get_or_create(path=source.key)
    rows = read_rows(conn, source, state.offset, batch)
    if not rows:
        return None
    id_column = source.id_column.rsplit(".", 1)[-1].lower()
    ids: list[int] = []
    lines: list[str] = []
    refused: list[tuple[int, str]] = []
    for row in rows:
        row_id = int(row[id_column])
        try:
            lines.append(realtime_line(row, tz))
            ids.append(row_id)
        except LineError as exc:
            refused.append((row_id, str(exc)))
    last = int(rows[-1][id_column])
    with transaction.atomic():
        run = import_queue_log(lines, name=f"{source.key}@{state.offset}", actor=actor, states=True)
        if refused or run.rejects:
            named = [(ids[number - 1], reason) for number, reason in run.rejects]
            run.rejects = [list(r) for r in sorted([*named, *refused])]
            run.rejected += len(refused)
        run.lines = len(rows)
        run.save(update_fields=["rejects", "rejected", "lines"])
        FollowedFile.objects.filter(pk=state.pk).update(offset=last, updated_at=timezone.now())
    return run
