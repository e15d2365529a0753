"""The Celery application (production). Workers: `kefu worker`; scheduler: `kefu beat`."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")

app = Celery("kefu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic(sender: Celery, **kwargs: Any) -> None:
    from kefu.core.jobs import load_periodic

    for job in load_periodic().values():
        sender.add_periodic_task(job.seconds, sender.tasks[job.name].s(), name=job.name)
