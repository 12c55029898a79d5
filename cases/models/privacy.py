"""The patient's control of their data: downloads of it, and requests to erase it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.case import Case
from cases.storage import private_storage_for_fields

User = settings.AUTH_USER_MODEL


def _export_path(export: DataExport, filename: str) -> str:
    return f"exports/{export.public_id}/{filename}"


class DataExport(models.Model):
    """A patient's "download my data" zip: built by a worker, offered for 7 days."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        BUILDING = "building", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired and erased"

    IN_PROGRESS = [State.QUEUED, State.BUILDING]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="data_exports")
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    file = models.FileField(
        upload_to=_export_path, storage=private_storage_for_fields, max_length=200, blank=True
    )
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Task bookkeeping (cases.leases): builds started, when last queued, lease expiry.
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            # Asking twice makes one job.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state__in=["queued", "building"]),
                name="one_export_in_progress",
            )
        ]

    def __str__(self) -> str:
        return f"Data download for {self.case_id}"


class ErasureRequest(models.Model):
    """The patient asked for the case to be erased; a coordinator confirms."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="erasure_request")
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Erasure request for {self.case_id}"
