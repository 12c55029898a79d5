"""Celery tasks: thin wrappers that take ids and call services.

Each task imports its service inside its body. Services enqueue these tasks (with
``transaction.on_commit``), so a service module imports this one; importing the services
back at the top would close a cycle. This module is the only place in ``cases`` allowed
a function-level import, and the import-linter contracts in pyproject.toml say so.
"""

from __future__ import annotations

import random
import smtplib
import socket

from celery import Task, shared_task


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, socket.timeout, ConnectionError),
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
    from cases.records.processing import CheckFailed, record_process

    final = self.request.retries >= self.max_retries
    try:
        record_process(record_id=record_id, final_attempt=final)
    except CheckFailed as fault:
        countdown = min(600, 10 * 2**self.request.retries) + random.uniform(0, 5)  # noqa: S311
        raise self.retry(exc=fault, countdown=countdown) from fault


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
        countdown = min(600, 30 * 2**self.request.retries) + random.uniform(0, 10)  # noqa: S311
        raise self.retry(exc=fault, countdown=countdown) from fault
