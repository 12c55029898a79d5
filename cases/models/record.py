"""Uploaded records: one row per document, files in private storage."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.domain.records import RecordCategory
from cases.models.case import Case
from cases.storage import private_storage_for_fields

User = settings.AUTH_USER_MODEL


def _record_path(record: Record, filename: str) -> str:
    # Server-chosen names only: the uploader's file name never reaches the file system.
    return f"records/{record.public_id}/{filename}"


class RecordQuerySet(models.QuerySet["Record"]):
    """The filters that say which records count, written once."""

    def kept(self) -> RecordQuerySet:
        """Everything except refused and deleted files: what the case has, or will have."""
        return self.exclude(state__in=[Record.State.REJECTED, Record.State.DELETED])

    def present(self) -> RecordQuerySet:
        """Everything but what its uploader deleted (refused files still show, with why)."""
        return self.exclude(state=Record.State.DELETED)

    def provided(self) -> RecordQuerySet:
        """Kept records the patient's side provided (not the reviewer's opinion)."""
        return self.kept().exclude(category=RecordCategory.REVIEWER_OPINION)

    def timeline(self) -> RecordQuerySet:
        """Provided records with a document date, oldest first: the case's timeline."""
        return self.provided().filter(document_date__isnull=False)

    def pending(self) -> RecordQuerySet:
        """Received and not yet through the checks."""
        return self.filter(state__in=[Record.State.RECEIVED, Record.State.CHECKING])

    def ready(self) -> RecordQuerySet:
        return self.filter(state=Record.State.READY)


class Record(models.Model):
    """One uploaded document. Files live in private storage under server-made names."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received — being checked"
        CHECKING = "checking", "Being checked"
        READY = "ready", "Ready"
        REJECTED = "rejected", "Not accepted"
        DELETED = "deleted", "Deleted by the uploader"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="records")
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploaded_records"
    )
    category = models.CharField(max_length=30, choices=RecordCategory.choices)
    document_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True)
    # Shown to people (escaped by templates), never used as a path.
    original_name = models.CharField(max_length=255)
    original = models.FileField(
        upload_to=_record_path, storage=private_storage_for_fields, max_length=200
    )
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    sniffed_type = models.CharField(max_length=100, blank=True)
    derivative = models.FileField(
        upload_to=_record_path, storage=private_storage_for_fields, max_length=200, blank=True
    )
    derivative_type = models.CharField(max_length=100, blank=True)
    thumbnail = models.FileField(
        upload_to=_record_path, storage=private_storage_for_fields, max_length=200, blank=True
    )
    preview = models.FileField(
        upload_to=_record_path, storage=private_storage_for_fields, max_length=200, blank=True
    )
    # Photos and DICOM: the page-sized JPEG case files print (made by the checks).
    page_image = models.FileField(
        upload_to=_record_path, storage=private_storage_for_fields, max_length=200, blank=True
    )
    page_count = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.RECEIVED, db_index=True
    )
    rejection_reason = models.TextField(blank=True)
    # Letters and scans carry names and numbers; only a coordinator who has checked (or
    # redacted) a record lets its pages into the partner case file.
    cleared_for_partner = models.BooleanField(
        "checked: no identifiers",
        default=False,
        help_text="The content has no patient identifiers and may go into the partner file.",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # Task bookkeeping (cases.leases): when its check was last put on the queue, and until
    # when the worker checking it holds it (renewed while it works).
    queued_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    # Deleted by its uploader before review: the row stays so the coordinator sees that it
    # was there; its files are erased.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An upload meant to replace another: the other is deleted once this one is accepted.
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replacements"
    )
    # Sent with a message (an attachment is a record like any other upload).
    message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A deleted upload may be sent again.
            models.UniqueConstraint(
                fields=["case", "sha256"],
                condition=~models.Q(state="deleted"),
                name="one_copy_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.case_id})"

    @property
    def is_pending(self) -> bool:
        return self.state in {self.State.RECEIVED, self.State.CHECKING}


class ResumableUpload(models.Model):
    """One file on its way up in chunks; it becomes a record when the last byte arrives.

    The bytes so far live in a private temporary file on the web tier's disk (next to
    Django's own temporary uploads), so a dropped connection or a closed laptop loses
    only the chunk that was in flight. Only the person who started it may continue it.
    """

    public_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    category = models.CharField(max_length=30, choices=RecordCategory.choices)
    document_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at"], name="resumable_updated_idx")]

    def __str__(self) -> str:
        return f"Upload {self.public_id} ({self.received}/{self.size} bytes)"
