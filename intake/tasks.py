"""Periodic jobs of the public site, run by Celery beat."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from intake.models import EnquiryDraft

logger = logging.getLogger(__name__)

DRAFT_RETENTION_DAYS = 30


@shared_task
def purge_stale_drafts() -> int:
    """Delete unfinished enquiries older than the privacy notice promises (30 days)."""
    cutoff = timezone.now() - timedelta(days=DRAFT_RETENTION_DAYS)
    deleted, _ = EnquiryDraft.objects.filter(case__isnull=True, updated_at__lt=cutoff).delete()
    logger.info("stale drafts purged", extra={"count": deleted})
    return deleted
