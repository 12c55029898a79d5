"""Partner copies of records: proposed identifier boxes per page, reviewed by a coordinator."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.record import Record
from cases.storage import private_storage_for_fields

User = settings.AUTH_USER_MODEL


def _partner_copy_path(instance: models.Model, filename: str) -> str:
    copy = instance if isinstance(instance, PartnerCopy) else getattr(instance, "partner_copy")  # noqa: B009
    return f"partner-copies/{copy.public_id}/{filename}"


class PartnerCopy(models.Model):
    """The redacted, image-only version of one record that a partner file may include.

    Approval records who looked, when, and the record's content hash at that moment:
    a record whose content changed afterwards needs review again.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        WORKING = "working", "Finding identifiers"
        REVIEW = "review", "Awaiting review"
        APPROVED = "approved", "Approved"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="partner_copy")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    source_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="The record's content hash the proposals were made from.",
    )
    page_count = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    unreadable_pages = models.PositiveIntegerField(default=0)
    file = models.FileField(
        upload_to=_partner_copy_path, storage=private_storage_for_fields, max_length=200, blank=True
    )
    approved_sha256 = models.CharField(max_length=64, blank=True)
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Leases, as on records and case files (cases.leases): the reconciler brings back a
    # batch whose worker died.
    queued_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "partner copies"

    def __str__(self) -> str:
        return f"Partner copy of {self.record}"

    @property
    def is_current(self) -> bool:
        """Approved, and for the record's content as it is now."""
        return (
            self.state == self.State.APPROVED
            and bool(self.file)
            and self.approved_sha256 == self.record.sha256
        )


class RedactionPage(models.Model):
    """One page of a partner copy: its picture, the words on it and the boxes to burn in."""

    partner_copy = models.ForeignKey(PartnerCopy, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    dpi = models.PositiveIntegerField(default=200)
    source = models.CharField(max_length=10, help_text="Where the words came from.")
    unreadable = models.BooleanField(
        default=False, help_text="OCR found writing it could not read: review by eye."
    )
    picture = models.FileField(
        upload_to=_partner_copy_path, storage=private_storage_for_fields, max_length=200
    )
    # [{"text": "Hope", "box": [l, t, r, b]}, ...] in picture pixels.
    words = models.JSONField(default=list, blank=True)
    # [{"box": [l, t, r, b], "kind": "name", "text": "Mr Hope", "identity": true,
    #   "source": "detector" | "coordinator"}, ...]
    boxes = models.JSONField(default=list, blank=True)
    reviewed = models.BooleanField(default=False)
    no_identifiers = models.BooleanField(
        default=False, help_text="The coordinator found no identifiers on this page."
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["partner_copy", "number"], name="one_row_per_page")
        ]

    def __str__(self) -> str:
        return f"Page {self.number}"
