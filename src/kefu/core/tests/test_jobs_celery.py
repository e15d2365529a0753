"""In production a web process sends jobs to the broker it is configured with."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

SCRIPT = """
import os, sys
import django
from django.conf import settings
django.setup()
settings.JOBS_BACKEND = "celery"
from celery import shared_task
from kefu.core.jobs import dispatch

@shared_task(name="kefu.test.noop")
def noop(x):
    return x

dispatch(noop, (1,))
from celery import current_app
print(current_app.conf.broker_url)
"""


def test_a_web_process_sends_jobs_to_the_configured_broker(redis_url: str) -> None:
    import redis

    queue = f"kefu-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kefu.config.test_settings",
        "KEFU_REDIS_URL": redis_url,
    }
    script = SCRIPT.replace(
        "settings.JOBS_BACKEND",
        f"settings.CELERY_TASK_DEFAULT_QUEUE = {queue!r}\nsettings.JOBS_BACKEND",
    ).replace("django.setup()\n", f"django.setup()\nsettings.CELERY_BROKER_URL = {redis_url!r}\n")
    client = redis.Redis.from_url(redis_url)
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", script],
            env=env,
            cwd=Path(__file__).resolve().parents[4],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1] == redis_url
        # The job waits in the configured Redis broker's queue (not in a default AMQP broker).
        assert client.llen(queue) == 1
    finally:
        client.delete(queue)
