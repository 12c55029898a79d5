"""Generated PDF case files, and the identifier decisions a partner file depends on."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.case import Case
from cases.models.summary import SummarySection
from cases.storage import private_storage_for_fields

User = settings.AUTH_USER_MODEL


def _case_file_path(case_file: CaseFile, filename: str) -> str:
    return f"case-files/{case_file.public_id}/{filename}"


class CaseFile(models.Model):
    """A generated PDF case file: one version of one variant of one case."""

    class Variant(models.TextChoices):
        INTERNAL = "internal", "Internal (everything)"
        PARTNER = "partner", "Partner (pseudonymised)"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RENDERING = "rendering", "Rendering"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_files")
    variant = models.CharField(max_length=10, choices=Variant.choices)
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    file = models.FileField(
        upload_to=_case_file_path, storage=private_storage_for_fields, max_length=200, blank=True
    )
    sha256 = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    excluded = models.JSONField(
        default=list, blank=True, help_text="Records that could not be included, with why."
    )
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Task bookkeeping (cases.leases): renders started, when last queued, lease expiry.
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.TextField(
        blank=True, help_text="Why the file was approved without records, when it was."
    )
    # Page images for the in-browser viewer, rendered by the worker after the PDF.
    preview_pages = models.PositiveIntegerField(default=0)
    # The independent check of a rendered partner file: every page's text and an OCR of
    # every page's picture, against the case's identifiers. Any finding blocks approval.
    verification = models.JSONField(default=list, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient may download it (internal only)."
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "variant", "version"], name="one_version_per_variant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.variant} v{self.version}"

    def summary_change_since_made(self) -> SummarySection | None:
        """The first summary section saved after this file was made (so the file no longer
        says what the summary says), or None. Approval and *Ready* both ask it."""
        made = self.started_at or self.requested_at
        if made is None:
            return None
        return self.case.summary_sections.filter(updated_at__gt=made).order_by("updated_at").first()

    @property
    def preview_page_numbers(self) -> range:
        """The pages the case-file page shows as thumbnails (the viewer has them all)."""
        return range(1, min(self.preview_pages, 24) + 1)


class IdentifierResolution(models.Model):
    """A coordinator's decision that a flagged piece of summary text may stay."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="identifier_resolutions")
    text = models.CharField(max_length=200)
    kind = models.CharField(max_length=30)
    reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "text"], name="one_resolution_per_text")
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_id}"
