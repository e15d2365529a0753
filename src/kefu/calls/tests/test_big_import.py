"""A big queue_log import on PostgreSQL stores its events on one connection while a second
builds its calls: the same calls and KPI sums as an import in one transaction, nothing added
the second time, and a failure on either side leaves what a second import repairs. (The size
from which an import counts as big is lowered to the test file's.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

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
    """Imports of 10 lines or more are big; answers the staging tables they made."""
    monkeypatch.setattr(bulk, "BIG", 10)
    made: list[str] = []
    real = bulk.shared_stage

    def shared_stage() -> str:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(bulk, "shared_stage", shared_stage)
    return made


def test_a_big_import_gives_what_one_transaction_gives_and_nothing_twice(
    one_transaction: tuple[list[tuple[object, ...]], ...], big: list[str]
) -> None:
    # when
    run = services.import_queue_log(_lines(), name="big", actor=None, workers=2)
    # then
    assert len(big) == 1
    assert (run.lines, run.added, run.duplicates, run.calls) == (41, 41, 0, 11)
    assert _state() == one_transaction
    assert _stage_tables() == []
    # and again
    again = services.import_queue_log(_lines(), name="again", actor=None)
    assert (again.added, again.duplicates, again.calls) == (0, 41, 0)
    assert _state() == one_transaction
    assert ImportRun.objects.count() == 2


@pytest.mark.parametrize("split", [12, 24])
def test_a_big_file_in_two_parts_rebuilds_the_calls_cut_in_two(
    one_transaction: tuple[list[tuple[object, ...]], ...], big: list[str], split: int
) -> None:
    lines = _lines()
    services.import_queue_log(lines[:split], name="part 1", actor=None)
    services.import_queue_log(lines[split:], name="part 2", actor=None)
    assert len(big) == 2
    assert _state() == one_transaction


def test_events_that_cannot_be_stored_leave_nothing(
    big: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the events' insert fails (the calls are built meanwhile)
    def broken(table: str) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(bulk, "insert_events", broken)
    # when
    with pytest.raises(RuntimeError, match="disk is full"):
        services.import_queue_log(_lines(), name="big", actor=None)
    # then the calls were not committed either
    assert not Call.objects.exists()
    assert not QueueLogEvent.objects.exists()
    assert not IntervalSums.objects.exists()
    assert _stage_tables() == []


def test_calls_that_cannot_be_built_leave_nothing(
    big: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(table: str, skip: list[str]) -> int:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(bulk, "insert_calls", broken)
    with pytest.raises(RuntimeError, match="out of memory"):
        services.import_queue_log(_lines(), name="big", actor=None)
    assert not Call.objects.exists()
    assert not QueueLogEvent.objects.exists()
    assert not ImportRun.objects.exists()


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


def test_a_staging_table_left_by_a_killed_import_is_dropped() -> None:
    with connection.cursor() as cur:
        cur.execute(f"CREATE UNLOGGED TABLE {bulk.SHARED_PREFIX}999999999_0a1b2c3d (ts bigint)")
        cur.execute("SELECT pg_backend_pid()")
        mine = f"{bulk.SHARED_PREFIX}{cur.fetchone()[0]}_00000000"
        cur.execute(f"CREATE UNLOGGED TABLE {mine} (ts bigint)")
    name = bulk.shared_stage()
    # the dead import's table is gone; a live connection's is kept
    assert _stage_tables() == [mine]
    assert name.startswith(mine[:-8]) and name != mine
    bulk.drop_shared(mine)
