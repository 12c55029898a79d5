"""Celery tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
import smtplib
import socket

from celery import shared_task

from cases import notifications

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, socket.timeout, ConnectionError),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def notification_send(self, notification_id: int) -> None:
    """Send one queued e-mail; a second delivery of the same task sends nothing."""
    notifications.notification_deliver(
        notification_id=notification_id, final_attempt=self.request.retries >= 8
    )
