"""Background jobs: Celery in production, a thread pool inside the web process when embedded.

Services never call a task directly. They call :func:`enqueue`, which schedules the job to run
*after the current transaction commits* (so a job never sees data that was rolled back) and
passes only ids, so jobs re-read the state they act on and are safe to run twice.

Periodic jobs are declared once with :func:`periodic`; Celery beat and the embedded scheduler
both read that registry.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction

from kefu.core.context import origin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    seconds: float
    func: Callable[[], Any]


PERIODIC: dict[str, PeriodicJob] = {}


def periodic(seconds: float) -> Callable[[Any], Any]:
    """Register a task (a Celery task or plain function) to run every ``seconds``."""

    def decorate(task: Any) -> Any:
        name = getattr(task, "name", None) or f"{task.__module__}.{task.__name__}"
        PERIODIC[name] = PeriodicJob(name, seconds, task)
        return task

    return decorate


def load_periodic() -> dict[str, PeriodicJob]:
    """Import every app's ``tasks`` module (where periodic jobs are declared) and return them
    all. A ``tasks`` module that fails to import for another reason is an error, not skipped."""
    from django.apps import apps

    for config in apps.get_app_configs():
        try:
            __import__(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tasks":
                raise
    return PERIODIC


def enqueue(task: Any, *args: Any, countdown: float | None = None) -> None:
    """Run ``task(*args)`` in the background once the current transaction commits."""
    transaction.on_commit(partial(dispatch, task, args, countdown), robust=True)


def dispatch(task: Any, args: tuple[Any, ...], countdown: float | None = None) -> None:
    backend = getattr(settings, "JOBS_BACKEND", "inprocess")
    if backend == "celery":
        # Kefu's Celery app must be the current one before a task is sent, or a shared task
        # goes to Celery's default broker (amqp://localhost) instead of the configured one. A
        # web process never imports the app otherwise: only workers and beat are started by it.
        import kefu.config.celery  # noqa: F401

        task.apply_async(args=args, countdown=countdown)
    elif backend == "eager":
        run_job(task, args)
    else:
        runner().submit(task, args, countdown or 0.0)


def run_job(task: Any, args: tuple[Any, ...]) -> None:
    func = getattr(task, "run", task)
    with origin("system"):
        func(*args)


class InProcessRunner:
    """A small scheduler for embedded mode: delayed jobs, periodic jobs, a pool of threads."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kefu-job")
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="kefu-scheduler", daemon=True)
        self._thread.start()

    def submit(self, task: Any, args: tuple[Any, ...], delay: float = 0.0) -> None:
        self._push(time.monotonic() + delay, partial(self._run, task, args))

    def start_periodic(self) -> None:
        for job in PERIODIC.values():
            self._schedule_periodic(job)

    def _schedule_periodic(self, job: PeriodicJob) -> None:
        def fire() -> None:
            self._run(job.func, ())
            self._schedule_periodic(job)

        self._push(time.monotonic() + job.seconds, fire)

    def _push(self, due: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._queue, (due, next(self._seq), fn))
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._queue)
            self._pool.submit(fn)

    @staticmethod
    def _run(task: Any, args: tuple[Any, ...]) -> None:
        close_old_connections()
        try:
            run_job(task, args)
        except Exception:
            log.exception("background job %s failed", getattr(task, "name", task))
        finally:
            close_old_connections()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._pool.shutdown(wait=True, cancel_futures=True)


_runner: InProcessRunner | None = None
_runner_lock = threading.Lock()


def runner() -> InProcessRunner:
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = InProcessRunner()
        return _runner


def stop_runner() -> None:
    global _runner
    with _runner_lock:
        if _runner is not None:
            _runner.stop()
            _runner = None
