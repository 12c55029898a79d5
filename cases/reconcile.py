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
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
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
BATCH = 200


class BrokerDown(Exception):
    pass


def _enqueue(task: Any, pk: int) -> None:
    try:
        task.delay(pk)
    except Exception as error:
        raise BrokerDown(type(error).__name__) from error


def _stuck(queryset: QuerySet[Any], now: datetime, waiting: Q, working: str) -> QuerySet[Any]:
    expired = Q(state=working) & (
        Q(lease_expires_at__lt=now)
        | Q(lease_expires_at__isnull=True, queued_at__lt=now - STUCK_WAITING)
    )
    return queryset.filter(waiting | expired).order_by("queued_at")[:BATCH]


def reconcile(now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue or give up on every stuck row; returns counts for the log."""
    now = now or timezone.now()
    counts = {"requeued": 0, "gave_up": 0}
    try:
        _records(now, counts)
        _case_files(now, counts)
        _notifications(now, counts)
        _data_exports(now, counts)
        _partner_copies(now, counts)
    except BrokerDown as error:
        logger.warning("reconciler stopped: broker unavailable", extra={"error": str(error)})
    if counts["requeued"] or counts["gave_up"]:
        logger.info("reconciled stuck work", extra=counts)
    return counts


def _records(now: datetime, counts: dict[str, int]) -> None:
    waiting = Q(state=Record.State.RECEIVED, queued_at__lt=now - STUCK_WAITING)
    for pk, attempts in _stuck(
        Record.objects.all(), now, waiting, Record.State.CHECKING
    ).values_list("pk", "attempts"):
        if attempts >= MAX_CHECK_ATTEMPTS:
            if record_give_up(record_id=pk):
                counts["gave_up"] += 1
            continue
        Record.objects.filter(pk=pk).update(queued_at=now)
        _enqueue(record_check, pk)
        counts["requeued"] += 1


def _case_files(now: datetime, counts: dict[str, int]) -> None:
    waiting = Q(state=CaseFile.State.QUEUED, queued_at__lt=now - STUCK_WAITING)
    for pk, attempts in _stuck(
        CaseFile.objects.all(), now, waiting, CaseFile.State.RENDERING
    ).values_list("pk", "attempts"):
        if attempts >= MAX_RENDER_ATTEMPTS:
            case_file_give_up(case_file_id=pk, error="the render kept stopping")
            counts["gave_up"] += 1
            continue
        CaseFile.objects.filter(pk=pk).update(queued_at=now)
        _enqueue(generate_case_file, pk)
        counts["requeued"] += 1


def _notifications(now: datetime, counts: dict[str, int]) -> None:
    waiting = Q(state=Notification.State.QUEUED, queued_at__lt=now - STUCK_WAITING) | Q(
        state=Notification.State.FAILED, queued_at__lt=now - FAILED_MAIL_AFTER
    )
    for pk, attempts in _stuck(
        Notification.objects.all(), now, waiting, Notification.State.SENDING
    ).values_list("pk", "attempts"):
        if attempts >= MAX_SEND_ATTEMPTS:
            Notification.objects.filter(pk=pk).update(
                state=Notification.State.GAVE_UP, lease_expires_at=None
            )
            counts["gave_up"] += 1
            continue
        Notification.objects.filter(pk=pk).update(queued_at=now)
        _enqueue(notification_send, pk)
        counts["requeued"] += 1


def _data_exports(now: datetime, counts: dict[str, int]) -> None:
    waiting = Q(state=DataExport.State.QUEUED, queued_at__lt=now - STUCK_WAITING)
    for pk, attempts in _stuck(
        DataExport.objects.all(), now, waiting, DataExport.State.BUILDING
    ).values_list("pk", "attempts"):
        if attempts >= MAX_EXPORT_ATTEMPTS:
            data_export_give_up(export_id=pk, error="the build kept stopping")
            counts["gave_up"] += 1
            continue
        DataExport.objects.filter(pk=pk).update(queued_at=now)
        _enqueue(build_data_export, pk)
        counts["requeued"] += 1


MAX_REDACT_ATTEMPTS = 5


def _partner_copies(now: datetime, counts: dict[str, int]) -> None:
    waiting = Q(state=PartnerCopy.State.QUEUED, queued_at__lt=now - STUCK_WAITING)
    for pk, attempts, state, done in _stuck(
        PartnerCopy.objects.all(), now, waiting, PartnerCopy.State.WORKING
    ).values_list("pk", "attempts", "state", "pages_done"):
        if attempts >= MAX_REDACT_ATTEMPTS:
            partner_copy_give_up(partner_copy_id=pk)
            counts["gave_up"] += 1
            continue
        PartnerCopy.objects.filter(pk=pk).update(queued_at=now)
        # A working copy goes on from the page after the last one it finished.
        first = done + 1 if state == PartnerCopy.State.WORKING and done else 1
        try:
            redact_record.delay(pk, first)
        except Exception as error:
            raise BrokerDown(type(error).__name__) from error
        counts["requeued"] += 1
