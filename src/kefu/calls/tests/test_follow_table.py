"""`kefu calls follow-table`: Asterisk's realtime queue_log in a PostgreSQL table, read by id."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from kefu.calls.cli import main
from kefu.calls.follow import SourceError, TableSource
from kefu.calls.models import Call, FollowedFile, QueueLogEvent
from kefu.calls.services import import_queue_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def pbx_table() -> Iterator[tuple[str, str, Any]]:
    """A realtime queue_log table (the PBX's schema, a naive ``time``) in the test database."""
    s = connection.settings_dict
    url = (
        f"postgresql://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or 'localhost'}:"
        f"{s['PORT'] or 5432}/{s['NAME']}"
    )
    table = f"pbx_queue_log_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as pbx:
        pbx.execute(
            f"CREATE TABLE {table} (id serial PRIMARY KEY, time timestamp, callid varchar(80), "
            "queuename varchar(128), agent varchar(128), event varchar(32), "
            "data1 varchar(100), data2 varchar(100), data3 varchar(100), data4 varchar(100), "
            "data5 varchar(100))"
        )
        try:
            yield url, table, pbx
        finally:
            pbx.execute(f"DROP TABLE {table}")


def _add(pbx: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    with pbx.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (time, callid, queuename, agent, event, data1, data2, data3) "  # noqa: S608 - the test's own table
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


T0 = dt.datetime(2023, 11, 15, 6, 15)  # noqa: DTZ001 - the PBX's naive local time (Shanghai): 1700000100


@pytest.mark.postgres  # the realtime table is read from PostgreSQL
def test_rows_are_read_by_id_once_and_match_the_file(
    pbx_table: tuple[str, str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url, table, pbx = pbx_table
    # given a call's first two rows, the first already imported from the file
    import_queue_log(["1700000100|c1|hotline|NONE|ENTERQUEUE||13800138000|1"], name="f", actor=None)
    _add(pbx, table, [
        (T0, "c1", "hotline", "NONE", "ENTERQUEUE", "", "13800138000", "1"),
        (T0 + dt.timedelta(seconds=10), "c1", "hotline", "SIP/8001", "CONNECT", "10", "x", "3"),
    ])  # fmt: skip
    args = ["follow-table", "--url", url, "--table", table, "--tz", "Asia/Shanghai", "--once"]

    # when the table is followed
    assert main(args) == 0

    # then only the new row is added: a row and its file line are one event
    assert "1 events added, 0 rejected" in capsys.readouterr().out
    assert QueueLogEvent.objects.filter(callid="c1").count() == 2
    call = Call.objects.get(external_id="c1")
    assert (call.outcome, call.wait_s, call.agent) == ("answered", 10, "SIP/8001")

    # given more rows, one with a time that cannot be read
    _add(pbx, table, [
        (T0 + dt.timedelta(seconds=200), "c1", "hotline", "SIP/8001", "COMPLETECALLER", "10",
         "190", "1"),
        (T0 + dt.timedelta(seconds=300), "c2", "hotline", "NONE", "ABANDON", "1", "1", "soon"),
    ])  # fmt: skip
    # when followed again
    assert main(args) == 0
    # then the next rows are read, the bad one named by its id
    out = capsys.readouterr().out
    assert "1 events added, 1 rejected" in out
    assert f"{table} id 4: ABANDON: waittime is not a whole number ('soon')" in out
    assert Call.objects.get(external_id="c1").talk_s == 190
    state = FollowedFile.objects.get(path__endswith=f"#{table}")
    assert state.offset == 4
    assert (
        state.path == f"table:postgresql://{url.split('@', 1)[1]}#{table}"
    )  # no user, no password

    # and a third look finds nothing new
    assert main(args) == 0
    assert "events added" not in capsys.readouterr().out


def test_bad_sources_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SourceError, match="unsupported database URL"):
        TableSource("sqlite:///x.db")
    with pytest.raises(SourceError, match="table"):
        TableSource("postgresql://h/db", "queue_log; DROP TABLE x")
    assert main(["follow-table", "--url", "ftp://x/y", "--once"]) == 2
    assert "unsupported database URL" in capsys.readouterr().err
