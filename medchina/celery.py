"""The Celery application.

Two queues: ``quick`` (e-mail, record checks: seconds) and ``heavy`` (PDF rendering:
minutes). Tasks are idempotent — each claims its domain row before working — so they use
late acknowledgement and are handed back to the broker when a worker dies mid-task.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medchina.settings")

app = Celery("medchina")

# The longest a task may run; the broker's visibility timeout must stay above it, or a
# slow task is handed to a second worker while the first is still rendering.
HARD_TIME_LIMIT = 15 * 60
SOFT_TIME_LIMIT = HARD_TIME_LIMIT - 60
VISIBILITY_TIMEOUT = 2 * HARD_TIME_LIMIT


def _broker_transport_options(broker_url: str) -> dict:
    options: dict = {"visibility_timeout": VISIBILITY_TIMEOUT}
    if broker_url.startswith("filesystem://"):
        from django.conf import settings

        folder = settings.BROKER_DIR
        for sub in ("queue", "processed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        options.update(
            data_folder_in=str(folder / "queue"),
            data_folder_out=str(folder / "queue"),
            processed_folder=str(folder / "processed"),
            store_processed=False,
        )
    return options


def configure(app: Celery) -> None:
    from django.conf import settings

    broker_url = settings.CELERY_BROKER_URL
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options=_broker_transport_options(broker_url),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # State lives on our own rows (Notification, Record, CaseFile), not in results.
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=HARD_TIME_LIMIT,
        task_soft_time_limit=SOFT_TIME_LIMIT,
        task_default_queue="quick",
        task_queues=(Queue("quick"), Queue("heavy")),
        task_routes={
            "cases.tasks.generate_case_file": {"queue": "heavy"},
        },
        task_always_eager=settings.CELERY_TASK_ALWAYS_EAGER,
        task_eager_propagates=True,
        worker_hijack_root_logger=False,
        # Let the console e-mail backend print plainly in development.
        worker_redirect_stdouts=False,
        timezone=settings.TIME_ZONE,
        beat_schedule={
            "purge-stale-drafts": {"task": "intake.tasks.purge_stale_drafts", "schedule": 6 * 3600},
        },
    )


configure(app)
app.autodiscover_tasks()
