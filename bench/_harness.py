"""Shared parts of Kefu's benchmarks.

Each benchmark module defines ``main(scale: float, argv: list[str]) -> int``, prints its figures
as it goes and ends with exactly one JSON line. Benchmarks that need PostgreSQL create their own
database (``kefu_bench_<name>``) on the server named by KEFU_BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/postgres) and drop it afterwards unless --keep is given.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("KEFU_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("KEFU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def say(text: str) -> None:
    print(text, flush=True)


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, ensure_ascii=False, sort_keys=False), flush=True)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else 0.0,
    }


# --- PostgreSQL ---------------------------------------------------------------------------------


def pg_url(database: str) -> str:
    parsed = urlparse(PG_ADMIN_URL)
    return urlunparse(parsed._replace(path=f"/{database}"))


def pg_recreate(database: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    return pg_url(database)


def pg_drop(database: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- configuring Django inside the benchmark process ---------------------------------------------


def production_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        "KEFU_ENV": "production",
        "KEFU_DATABASE_URL": database_url,
        "KEFU_REDIS_URL": REDIS_URL,
        "KEFU_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "KEFU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_SECURE_COOKIES": "0",  # plain HTTP on loopback
    }
    env.update(extra)
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.config.settings"
    import django

    django.setup()


def kefu(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    result = subprocess.run(
        [sys.executable, "-m", "kefu", *args], env=full, capture_output=True, text=True, cwd=ROOT
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"kefu {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a server under test, with its memory watched --------------------------------------------------


class Server:
    """`kefu serve` in a subprocess; samples the resident memory of it and its workers."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kefu",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.peak_rss = 0
        self._stop = threading.Event()
        self._wait_ready()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"kefu serve exited: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("kefu serve did not become ready")

    def rss_bytes(self) -> int:
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs if p.is_running())
        except psutil.Error:
            return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.rss_bytes())
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
