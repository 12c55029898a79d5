"""Celery tasks: thin wrappers that take ids and call services.

Each task imports its service inside its body. Services enqueue these tasks (with
``transaction.on_commit``), so a service module imports this one; importing the services
back at the top would close a cycle. This module is the only place in ``cases`` allowed
a function-level import, and the import-linter contracts in pyproject.toml say so.
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
from typing import Any

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# Faults of our infrastructure, not of the patient's file: the database, the broker, the
# disk or object store. Retried with backoff like any transient fault.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, BrokerError, ConnectionError, OSError)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Enqueue ``task(*args)`` once the surrounding transaction commits.

    The row is saved by then; if the broker cannot take the message (Redis restarting,
    say) that is logged and left to the reconciler, which re-enqueues rows left waiting.
    The person who saved the work gets their page, never a 500.
    """

    def send() -> None:
        try:
            task.delay(*args)
        except Exception as error:
            logger.error(
                "enqueue failed; the reconciler will retry",
                extra={"task": task.name, "task_args": list(args), "error": type(error).__name__},
            )

    transaction.on_commit(send)


def _backoff(retries: int, base: float = 10, cap: float = 300) -> float:
    return min(cap, base * 2**retries) + random.uniform(0, base / 2)  # noqa: S311


@shared_task(
    bind=True,
    autoretry_for=(
        smtplib.SMTPException,
        socket.timeout,
        ConnectionError,
        OperationalError,
        InterfaceError,
    ),
    retry_backoff=30,
    retry_backoff_max=15 * 60,  # below the broker visibility timeout
    retry_jitter=True,
    max_retries=8,
)
def notification_send(self: Task, notification_id: int) -> None:
    """Send one queued e-mail; a second delivery of the same task sends nothing."""
    from cases.notifications import notification_deliver

    notification_deliver(notification_id=notification_id, final_attempt=self.request.retries >= 8)


@shared_task(
    autoretry_for=(ConnectionError, socket.timeout),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def sign_in_link_request(email: str, ip_address: str | None = None) -> None:
    """Look the address up and queue its link; the sign-in page only enqueues this.

    Doing the lookup here keeps the page's work (and timing) the same for addresses we
    know and addresses we do not. Running it twice sends two links, which is harmless.
    """
    from cases.people import sign_in_link_request as request_link

    request_link(email=email, ip_address=ip_address)


@shared_task(bind=True, max_retries=5)
def record_check(self: Task, record_id: int) -> None:
    """Check one uploaded record; faults on our side retry with backoff and jitter.

    A file the checks refuse is not an error: the record becomes ``rejected``.
    """
    from cases.leases import lease_release
    from cases.models import Record
    from cases.records.processing import CheckFailed, record_process

    final = self.request.retries >= self.max_retries
    try:
        record_process(record_id=record_id, final_attempt=final)
    except CheckFailed as fault:
        raise self.retry(exc=fault, countdown=_backoff(self.request.retries)) from fault
    except INFRASTRUCTURE_ERRORS as fault:
        # The database or broker blinked mid-check: hand the row back and try again. On
        # the last retry the reconciler takes over (it re-enqueues rows left waiting).
        lease_release(
            Record, record_id, working=Record.State.CHECKING, back_to=Record.State.RECEIVED
        )
        if final:
            logger.warning("record check left to the reconciler", extra={"record_id": record_id})
            return
        raise self.retry(exc=fault, countdown=_backoff(self.request.retries)) from fault


@shared_task(bind=True, max_retries=3, acks_late=True)
def generate_case_file(self: Task, case_file_id: int) -> None:
    """Render one queued case file (heavy queue). Only faults on our side are retried."""
    from cases.casefile.build import TransientFailure, case_file_generate
    from cases.casefile.services import case_file_give_up

    try:
        case_file_generate(case_file_id=case_file_id)
    except TransientFailure as fault:
        if self.request.retries >= self.max_retries:
            case_file_give_up(case_file_id=case_file_id, error=str(fault))
            return
        countdown = _backoff(self.request.retries, base=30, cap=600)
        raise self.retry(exc=fault, countdown=countdown) from fault


@shared_task(autoretry_for=INFRASTRUCTURE_ERRORS, retry_backoff=10, max_retries=5)
def direction_checklist_refresh(area: str) -> int:
    """After a direction's checklist changed: recount the open cases of its area."""
    from cases.records.completeness import area_completeness_refresh

    return area_completeness_refresh(area)


@shared_task
def reconcile_stuck_work() -> None:
    """Beat, every 30 s: re-enqueue rows left waiting or holding an expired lease."""
    from cases.reconcile import reconcile

    reconcile()


@shared_task(bind=True, max_retries=3, acks_late=True)
def render_case_file_pages(self: Task, case_file_id: int) -> None:
    """Page images of a ready case file for the in-browser viewer; running twice is harmless."""
    import subprocess

    from cases.casefile.pages import case_file_pages_render

    try:
        case_file_pages_render(case_file_id=case_file_id)
    except (OSError, subprocess.SubprocessError) as fault:
        if self.request.retries >= self.max_retries:
            logger.warning("page images for case file %s failed: %s", case_file_id, fault)
            return
        countdown = _backoff(self.request.retries, base=30, cap=600)
        raise self.retry(exc=fault, countdown=countdown) from fault


@shared_task(bind=True, max_retries=3, acks_late=True)
def build_data_export(self: Task, export_id: int) -> None:
    """Build one patient's data download (heavy queue); a second delivery does nothing."""
    from cases.privacy.build import TransientFailure, data_export_build
    from cases.privacy.export import data_export_give_up

    try:
        data_export_build(export_id=export_id)
    except TransientFailure as fault:
        if self.request.retries >= self.max_retries:
            data_export_give_up(export_id=export_id, error=str(fault))
            return
        countdown = _backoff(self.request.retries, base=30, cap=600)
        raise self.retry(exc=fault, countdown=countdown) from fault


@shared_task
def apply_retention() -> None:
    """Nightly (beat): erase what the retention rules say is due."""
    from cases.privacy.retention import retention_apply

    retention_apply()


@shared_task(
    bind=True,
    max_retries=5,
    acks_late=True,
    autoretry_for=INFRASTRUCTURE_ERRORS,
    retry_backoff=10,
    retry_jitter=True,
)
def redact_record(self: Task, partner_copy_id: int, first_page: int = 1) -> None:
    """Propose identifier boxes for a batch of a record's pages (``redact`` queue).

    A long PDF is done in batches, each its own task, so no task comes near the time
    limit and progress is stored after every page; running a batch twice is harmless.
    """
    from cases.records.redaction.services import RedactionInterrupted, partner_copy_propose

    try:
        following = partner_copy_propose(partner_copy_id=partner_copy_id, first_page=first_page)
    except RedactionInterrupted as fault:
        countdown = min(600, 10 * 2**self.request.retries) + random.uniform(0, 5)  # noqa: S311
        raise self.retry(exc=fault, countdown=countdown) from fault
    if following:
        redact_record.delay(partner_copy_id, following)
