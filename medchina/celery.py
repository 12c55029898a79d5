"""The Celery application.

Queues by urgency, each consumed by its own worker process in production, so a patient's
sign-in e-mail never waits behind someone's 240-page scan:

* ``mail``: sign-in links, notifications and short housekeeping (beat jobs, the
  reconciler). Its worker runs at normal priority.
* ``checks``: record checks and combining photos into one PDF.
* ``redact``: OCR and partner copies.
* ``render``: case files.

The three heavy queues share a worker that runs at a lower CPU priority
(``MEDCHINA_WORKER_NICE``, applied in each pool process) with a concurrency that leaves a
core for the web. Tasks are idempotent — each claims its domain row before working — so
they use late acknowledgement and are handed back to the broker when a worker dies.
"""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medchina.settings")

app = Celery("medchina")

# The longest a task may run; the broker's visibility timeout must stay above it, or a
# slow task is handed to a second worker while the first is still rendering.
HARD_TIME_LIMIT = 15 * 60
SOFT_TIME_LIMIT = HARD_TIME_LIMIT - 60
VISIBILITY_TIMEOUT = 2 * HARD_TIME_LIMIT

MAIL_QUEUE = "mail"
HEAVY_QUEUES = ("checks", "redact", "render")
QUEUES = (MAIL_QUEUE, *HEAVY_QUEUES)

# A task nobody routed lands on "checks": a forgotten route then costs heavy-lane latency,
# never sign-in e-mails.
DEFAULT_QUEUE = "checks"
ROUTES = {
    "cases.tasks.notification_send": {"queue": MAIL_QUEUE},
    "cases.tasks.sign_in_link_request": {"queue": MAIL_QUEUE},
    "cases.tasks.reconcile_*": {"queue": MAIL_QUEUE},
    "intake.tasks.*": {"queue": MAIL_QUEUE},
    "cases.tasks.record_check": {"queue": "checks"},
    "cases.tasks.record_combine_photos": {"queue": "checks"},
    "cases.tasks.direction_checklist_refresh": {"queue": "checks"},
    "cases.tasks.redact_*": {"queue": "redact"},
    "cases.tasks.partner_*": {"queue": "redact"},
    "cases.tasks.generate_case_file": {"queue": "render"},
    "cases.tasks.render_case_file_pages": {"queue": "render"},
    "cases.tasks.build_data_export": {"queue": "render"},
    "cases.tasks.apply_retention": {"queue": MAIL_QUEUE},
}

logger = logging.getLogger(__name__)


@worker_process_init.connect
def lower_priority(**_kwargs) -> None:
    """Heavy workers give way to the web and the mail worker on a shared machine.

    Set ``MEDCHINA_WORKER_NICE`` (e.g. 10) on the worker for the heavy queues; each pool
    process (and whatever it starts: qpdf, tesseract) then runs at that niceness.
    """
    increment = int(os.environ.get("MEDCHINA_WORKER_NICE", "0") or 0)
    if increment > 0:
        niceness = os.nice(increment)
        logger.info("worker process niceness set", extra={"niceness": niceness})


def _broker_transport_options(broker_url: str) -> dict:
    options: dict = {"visibility_timeout": VISIBILITY_TIMEOUT}
    if broker_url.startswith("filesystem://"):
        from django.conf import settings

        folder = settings.BROKER_DIR
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        options.update(
            # Without it kombu keeps its exchange tables in ./control, wherever the
            # worker was started (the repository, for `make run`).
            control_folder=str(folder / "control"),
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
        task_default_queue=DEFAULT_QUEUE,
        task_queues=tuple(Queue(name) for name in QUEUES),
        task_routes=ROUTES,
        task_always_eager=settings.CELERY_TASK_ALWAYS_EAGER,
        task_eager_propagates=True,
        worker_hijack_root_logger=False,
        # Let the console e-mail backend print plainly in development.
        worker_redirect_stdouts=False,
        timezone=settings.TIME_ZONE,
        beat_schedule={
            "purge-stale-drafts": {"task": "intake.tasks.purge_stale_drafts", "schedule": 6 * 3600},
            # Work lost with the broker or a dead worker comes back within two minutes.
            "reconcile-stuck-work": {"task": "cases.tasks.reconcile_stuck_work", "schedule": 30},
            # Erasure after the retention period, refused originals, expired downloads.
            "apply-retention": {"task": "cases.tasks.apply_retention", "schedule": 24 * 3600},
        },
    )


configure(app)
app.autodiscover_tasks()
