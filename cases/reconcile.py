"""The reconciler: nothing task-backed stays waiting for ever.

Beat runs ``cases.tasks.reconcile_stuck_work`` every 30 seconds. It finds rows whose task
was lost — never delivered (the broker restarted without its data, or refused the enqueue
after the row was saved), or whose worker died (the lease ran out) — and enqueues their
task again. A row that has used up its attempts is given up on, visibly: a record is
``rejected`` with a reason the uploader can read, a case file or data download ``failed``
with the cause, an e-mail ``gave_up``. With a 60 s lease, a worker host that dies is noticed within
90 s, not when Redis's 30-minute visibility timeout hands its messages back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from cases.casefile.build import MAX_RENDER_ATTEMPTS
from cases.casefile.services import case_file_give_up
from cases.models import CaseFile, DataExport, Notification, PartnerCopy, Record
from cases.privacy.export import MAX_EXPORT_ATTEMPTS, data_export_give_up
from cases.records.processing import MAX_CHECK_ATTEMPTS, record_give_up
from cases.records.redaction.services import partner_copy_give_up
from cases.tasks import (
    build_data_export,
    generate_case_file,
    notification_send,
    record_check,
    redact_record,
)

logger = logging.getLogger(__name__)

# A waiting row older than this has probably lost its message (a busy queue only causes a
# harmless duplicate: the second task finds the row claimed or done).
STUCK_WAITING = timedelta(seconds=90)
# A failed e-mail waits for its own retry; only one untouched this long is re-enqueued.
FAILED_MAIL_AFTER = timedelta(minutes=20)
MAX_SEND_ATTEMPTS = 9  # the task's first try and its 8 retries
MAX_REDACT_ATTEMPTS = 5
BATCH = 200


class BrokerDown(Exception):
    pass


@dataclass(frozen=True)
class TaskBacked:
    """One kind of row whose work a Celery task does, and how to recover it.

    ``waiting`` picks rows whose message may be lost (queued too long); a row in the
    ``working`` state whose lease ran out lost its worker. Either is enqueued again with
    ``task_args(row)``, or given up on once it has used ``max_attempts``.
    """

    name: str
    model: type[Model]
    waiting: Callable[[datetime], Q]
    working: str
    max_attempts: int
    give_up: Callable[[int], object]
    task: Any
    task_args: Callable[[dict[str, Any]], tuple[Any, ...]] = lambda row: (row["pk"],)
    fields: tuple[str, ...] = ()


def _queued(state: str) -> Callable[[datetime], Q]:
    return lambda now: Q(state=state, queued_at__lt=now - STUCK_WAITING)


def _record_give_up(pk: int) -> object:
    return record_give_up(record_id=pk)


def _case_file_give_up(pk: int) -> bool:
    case_file_give_up(case_file_id=pk, error="the render kept stopping")
    return True


def _data_export_give_up(pk: int) -> bool:
    data_export_give_up(export_id=pk, error="the build kept stopping")
    return True


def _partner_copy_give_up(pk: int) -> bool:
    partner_copy_give_up(partner_copy_id=pk)
    return True


def _notification_give_up(pk: int) -> object:
    return Notification.objects.filter(pk=pk).update(
        state=Notification.State.GAVE_UP, lease_expires_at=None
    )


def _resume_redaction(row: dict[str, Any]) -> tuple[Any, ...]:
    # A working copy goes on from the page after the last one it finished.
    working = row["state"] == PartnerCopy.State.WORKING and row["pages_done"]
    return (row["pk"], row["pages_done"] + 1 if working else 1)


WORK: tuple[TaskBacked, ...] = (
    TaskBacked(
        "record checks",
        Record,
        _queued(Record.State.RECEIVED),
        Record.State.CHECKING,
        MAX_CHECK_ATTEMPTS,
        _record_give_up,
        record_check,
    ),
    TaskBacked(
        "case files",
        CaseFile,
        _queued(CaseFile.State.QUEUED),
        CaseFile.State.RENDERING,
        MAX_RENDER_ATTEMPTS,
        _case_file_give_up,
        generate_case_file,
    ),
    TaskBacked(
        "e-mails",
        Notification,
        # A failed e-mail waits for its own retry; only one left this long comes back here.
        lambda now: (
            _queued(Notification.State.QUEUED)(now)
            | Q(state=Notification.State.FAILED, queued_at__lt=now - FAILED_MAIL_AFTER)
        ),
        Notification.State.SENDING,
        MAX_SEND_ATTEMPTS,
        _notification_give_up,
        notification_send,
    ),
    TaskBacked(
        "data downloads",
        DataExport,
        _queued(DataExport.State.QUEUED),
        DataExport.State.BUILDING,
        MAX_EXPORT_ATTEMPTS,
        _data_export_give_up,
        build_data_export,
    ),
    TaskBacked(
        "redaction proposals",
        PartnerCopy,
        _queued(PartnerCopy.State.QUEUED),
        PartnerCopy.State.WORKING,
        MAX_REDACT_ATTEMPTS,
        _partner_copy_give_up,
        redact_record,
        task_args=_resume_redaction,
        fields=("state", "pages_done"),
    ),
)


def _stuck(work: TaskBacked, now: datetime) -> QuerySet[Any]:
    expired = Q(state=work.working) & (
        Q(lease_expires_at__lt=now)
        | Q(lease_expires_at__isnull=True, queued_at__lt=now - STUCK_WAITING)
    )
    rows = work.model._default_manager.filter(work.waiting(now) | expired)
    return rows.order_by("queued_at")[:BATCH]


def _recover(work: TaskBacked, now: datetime, counts: dict[str, int]) -> None:
    for row in _stuck(work, now).values("pk", "attempts", *work.fields):
        if row["attempts"] >= work.max_attempts:
            if work.give_up(row["pk"]):
                counts["gave_up"] += 1
            continue
        work.model._default_manager.filter(pk=row["pk"]).update(queued_at=now)
        try:
            work.task.delay(*work.task_args(row))
        except Exception as error:
            raise BrokerDown(type(error).__name__) from error
        counts["requeued"] += 1


def reconcile(now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue or give up on every stuck row; returns counts for the log."""
    now = now or timezone.now()
    counts = {"requeued": 0, "gave_up": 0}
    try:
        for work in WORK:
            _recover(work, now, counts)
    except BrokerDown as error:
        logger.warning("reconciler stopped: broker unavailable", extra={"error": str(error)})
    if counts["requeued"] or counts["gave_up"]:
        logger.info("reconciled stuck work", extra=counts)
    return counts
