"""A big queue_log import on PostgreSQL stores its events on one connection while a second
builds its calls: the same calls and KPI sums as an import in one transaction, nothing added
the second time, and a failure on either side leaves what a second import repairs. (The size
from which an import counts as big is lowered to the test file's.)"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from psycopg import sql

from kefu.calls import bulk, services
from kefu.calls.models import AgentDaySums, Call, ImportRun, IntervalSums, QueueLogEvent

DATA = Path(__file__).parent / "data"
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
FIELDS = ("external_id", "state", "outcome", "started_at", "offered_at", "answered_at",
          "ended_at", "caller", "queue", "agent", "wait_s", "ring_s", "talk_s", "transferred")  # fmt: skip
SUMS = ("queue", "offered", "answered", "abandoned", "wait_answered_s", "talk_s", "longest_wait_s")


def _lines() -> list[str]:
    return (DATA / "queue_log").read_text().splitlines(keepends=True)


def _state() -> tuple[list[tuple[object, ...]], ...]:
    return (
        list(Call.objects.order_by("external_id").values_list(*FIELDS)),
        list(IntervalSums.objects.order_by("bucket", "queue").values_list("bucket", *SUMS)),
        list(AgentDaySums.objects.order_by("day", "agent", "queue").values_list("agent", *SUMS)),
        sorted(QueueLogEvent.objects.values_list("ts", "h")),
    )


def _clear() -> None:
    for model in (Call, QueueLogEvent, IntervalSums, AgentDaySums, ImportRun):
        model.objects.all().delete()


def _stage_tables() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT relname FROM pg_class WHERE relname LIKE 'calls\\_qlog\\_stage\\_%%'")
        return [row[0] for row in cur.fetchall()]


@pytest.fixture
def one_transaction() -> tuple[list[tuple[object, ...]], ...]:
    """What the file gives when imported in one transaction (it is smaller than bulk.BIG)."""
    assert len(_lines()) < bulk.BIG
    run = services.import_queue_log(_lines(), name="small", actor=None)
    assert run.added == len(_lines())
    state = _state()
    assert state[0] and state[1] and state[2]
    _clear()
    return state


@pytest.fixture
def big(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Imports of 10 lines or more are big; answers how each stored its lines: "both" (two
    connections) or "one" (one transaction)."""
    monkeypatch.setattr(bulk, "BIG", 10)
    ways: list[str] = []
    for way, name in (("both", "_store_both"), ("one", "_store_staged")):
        real = getattr(services, name)

        def spy(*args: Any, _real: Any = real, _way: str = way, **kwargs: Any) -> Any:
            ways.append(_way)
            return _real(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)
    return ways


def test_a_big_import_gives_what_one_transaction_gives_and_nothing_twice(
    one_transaction: tuple[list[tuple[object, ...]], ...], big: list[str]
) -> None:
    # when
    run = services.import_queue_log(_lines(), name="big", actor=None, workers=2)
    # then
    assert big == ["both"]
    assert (run.lines, run.added, run.duplicates, run.calls) == (41, 41, 0, 11)
    assert _state() == one_transaction
    assert _stage_tables() == []
    # and again (the file overlaps what is stored: one transaction)
    again = services.import_queue_log(_lines(), name="again", actor=None)
    assert big == ["both", "one"]
    assert (again.added, again.duplicates, again.calls) == (0, 41, 0)
    assert _state() == one_transaction
    assert ImportRun.objects.count() == 2


@pytest.mark.parametrize("split", [12, 26])
def test_a_big_file_in_two_parts_rebuilds_the_calls_cut_in_two(
    one_transaction: tuple[list[tuple[object, ...]], ...], big: list[str], split: int
) -> None:
    # given the first part of the file, which ends in the middle of a call
    lines = _lines()
    services.import_queue_log(lines[:split], name="part 1", actor=None)
    # when the rest comes (later times: on two connections, the cut call rebuilt)
    services.import_queue_log(lines[split:], name="part 2", actor=None)
    # then
    assert big == ["both", "both"]
    assert _state() == one_transaction


def test_a_big_file_overlapping_stored_events_is_stored_in_one_transaction(
    one_transaction: tuple[list[tuple[object, ...]], ...], big: list[str]
) -> None:
    lines = _lines()
    services.import_queue_log(lines[:30], name="first", actor=None)
    run = services.import_queue_log(lines, name="all", actor=None)
    assert big == ["both", "one"]
    assert (run.added, run.duplicates) == (11, 30)
    assert _state() == one_transaction


@pytest.mark.parametrize(
    ("step", "error"),
    [("insert_events", "the disk is full"), ("insert_calls", "out of memory")],
    ids=["events", "calls"],
)
def test_a_side_that_fails_leaves_nothing(
    big: list[str], monkeypatch: pytest.MonkeyPatch, step: str, error: str
) -> None:
    # given the events' insert (with the calls built meanwhile) or the calls' build fails
    def broken(*args: object) -> int:
        raise RuntimeError(error)

    monkeypatch.setattr(bulk, step, broken)
    # when
    with pytest.raises(RuntimeError, match=error):
        services.import_queue_log(_lines(), name="big", actor=None)
    # then neither side was committed
    assert not Call.objects.exists()
    assert not QueueLogEvent.objects.exists()
    assert not IntervalSums.objects.exists()
    assert not ImportRun.objects.exists()
    assert _stage_tables() == []


def test_a_failure_after_the_calls_committed_is_repaired_by_importing_again(
    one_transaction: tuple[list[tuple[object, ...]], ...],
    big: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an import that fails once its calls are committed, before its events are
    real = services._record_run

    def broken(*args: object, **kwargs: object) -> ImportRun:
        raise RuntimeError("the server went away")

    monkeypatch.setattr(services, "_record_run", broken)
    with pytest.raises(RuntimeError, match="went away"):
        services.import_queue_log(_lines(), name="big", actor=None)
    assert Call.objects.count() == len(one_transaction[0])
    assert not QueueLogEvent.objects.exists()
    # when the file is imported again
    monkeypatch.setattr(services, "_record_run", real)
    run = services.import_queue_log(_lines(), name="again", actor=None)
    # then everything is there once, as from one transaction
    assert run.added == 41
    assert _state() == one_transaction


def test_a_staging_table_left_by_a_killed_import_is_dropped_once_old() -> None:
    now = int(time.time())
    dead, old = 999_999_999, now - bulk.ORPHAN_AFTER_S - 1
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        mine = cur.fetchone()[0]
    tables = {
        "dead and old": f"{bulk.SHARED_PREFIX}{dead}_{old}_0a1b2c3d",
        "dead but recent": f"{bulk.SHARED_PREFIX}{dead}_{now}_0a1b2c3e",
        "alive and old": f"{bulk.SHARED_PREFIX}{mine}_{old}_0a1b2c3f",
        "not ours": f'{bulk.SHARED_PREFIX}x";CREATE TABLE calls_qlog_pwned();--',
    }
    with connection.cursor() as cur:
        for name in tables.values():
            cur.execute(
                sql.SQL("CREATE UNLOGGED TABLE {} (ts bigint)").format(sql.Identifier(name))
            )
    # when the next big import names its table
    name = bulk.shared_stage()
    # then only the table of the dead connection that is old enough is gone, and a strange
    # name is neither dropped nor run
    assert sorted(_stage_tables()) == sorted(v for k, v in tables.items() if k != "dead and old")
    assert name.startswith(f"{bulk.SHARED_PREFIX}{mine}_") and name not in tables.values()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_class WHERE relname = 'calls_qlog_pwned'")
        assert cur.fetchone()[0] == 0
        for name in tables.values():
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


def test_two_big_imports_of_the_same_lines_take_turns(
    one_transaction: tuple[list[tuple[object, ...]], ...],
    big: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A big import's calls wait for its events, which PostgreSQL cannot see. Were a second
    import of the same lines to build its calls meanwhile, each would wait on the other for
    ever; it waits for its turn instead."""
    # given a big import whose calls are held back
    building, release = threading.Event(), threading.Event()
    real = bulk.insert_calls

    def first_held(table: str, skip: list[str]) -> int:
        if not building.is_set():
            building.set()
            assert release.wait(30)
        return real(table, skip)

    monkeypatch.setattr(bulk, "insert_calls", first_held)
    results: dict[str, Any] = {}

    def run(key: str) -> None:
        try:
            results[key] = services.import_queue_log(_lines(), name=key, actor=None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[key] = exc
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert building.wait(30)
    # when a second import of the same file starts while the first builds its calls
    second = threading.Thread(target=run, args=("second",))
    second.start()
    second.join(1.5)
    assert second.is_alive()  # it waits for its turn
    release.set()
    first.join(30)
    second.join(30)
    # then both finish, the second adding nothing
    assert not first.is_alive() and not second.is_alive()
    assert (results["first"].added, results["second"].added) == (41, 0)
    assert big == ["both", "one"]
    assert _state() == one_transaction


def _url() -> str:
    s = connection.settings_dict
    return (
        f"postgresql://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or 'localhost'}:"
        f"{s['PORT'] or 5432}/{s['NAME']}"
    )


def test_a_session_queued_between_the_two_connections_makes_the_import_fail_not_hang(
    big: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third session asking for a table lock queues behind the events' connection, and the
    calls' connection queues behind it, while the first waits for the second where PostgreSQL
    cannot see: the calls give up after bulk.WAIT_S, the import fails, the third goes on."""
    import psycopg

    monkeypatch.setattr(bulk, "WAIT_S", 2)
    building, release = threading.Event(), threading.Event()
    real = bulk.insert_calls

    def held(table: str, skip: list[str]) -> int:
        building.set()
        assert release.wait(30)
        return real(table, skip)

    monkeypatch.setattr(bulk, "insert_calls", held)
    results: dict[str, Any] = {}

    def run() -> None:
        try:
            results["import"] = services.import_queue_log(_lines(), name="big", actor=None)
        except BaseException as exc:  # noqa: BLE001 - checked below
            results["import"] = exc
        finally:
            connection.close()

    def lock_calls() -> None:
        with psycopg.connect(_url()) as other:
            other.execute("SET lock_timeout = '20s'")
            other.execute("LOCK TABLE calls_call IN ACCESS EXCLUSIVE MODE")
            results["locked"] = True
            other.rollback()

    importing = threading.Thread(target=run)
    importing.start()
    assert building.wait(30)
    locker = threading.Thread(target=lock_calls)
    locker.start()
    locker.join(1.0)
    assert locker.is_alive()  # queued behind the import's first connection
    release.set()  # the calls' insert now queues behind the locker
    importing.join(30)
    locker.join(30)
    assert not importing.is_alive() and not locker.is_alive()
    assert isinstance(results["import"], Exception)
    assert "lock timeout" in str(results["import"])
    assert results["locked"] is True
    assert not Call.objects.exists() and not QueueLogEvent.objects.exists()


def test_a_staging_table_still_in_use_is_not_dropped_or_waited_for() -> None:
    import psycopg

    old = int(time.time()) - bulk.ORPHAN_AFTER_S - 1
    name = f"{bulk.SHARED_PREFIX}999999999_{old}_0a1b2c3d"
    with connection.cursor() as cur:
        cur.execute(sql.SQL("CREATE UNLOGGED TABLE {} (ts bigint)").format(sql.Identifier(name)))
    with psycopg.connect(_url()) as other:
        other.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name)))  # holds a lock
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = '3s'")  # (were it to wait, fail instead of hanging)
        started = time.monotonic()
        bulk.shared_stage()
        assert time.monotonic() - started < 3
        with connection.cursor() as cur:
            cur.execute("RESET lock_timeout")
        assert name in _stage_tables()
        other.rollback()
    bulk.shared_stage()
    assert name not in _stage_tables()


def test_two_rebuilds_of_the_same_day_at_once_do_not_collide() -> None:
    from kefu.calls import rollup

    services.import_queue_log(_lines(), name="small", actor=None)
    sums = list(IntervalSums.objects.order_by("bucket", "queue").values_list("bucket", *SUMS))
    day = sums[0][0] * rollup.STEP // rollup.DAY
    # given another session rebuilding the day (its new rows not committed yet)
    first = threading.Event()
    done: dict[str, Any] = {}

    def rebuild_in_another_session() -> None:
        try:
            with transaction.atomic():
                rollup.refresh_days([day])
                first.set()
                time.sleep(1.5)
            done["other"] = True
        except BaseException as exc:  # noqa: BLE001 - checked below
            done["other"] = exc
        finally:
            connection.close()

    other = threading.Thread(target=rebuild_in_another_session)
    other.start()
    assert first.wait(30)
    # when this session rebuilds the same day meanwhile, then both commit
    with transaction.atomic():
        rollup.refresh_days([day])
    other.join(30)
    # then neither failed and the sums are as before
    assert done["other"] is True
    assert (
        list(IntervalSums.objects.order_by("bucket", "queue").values_list("bucket", *SUMS)) == sums
    )
