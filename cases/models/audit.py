"""The append-only audit trail and the e-mails we owe people."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.case import Case

User = settings.AUTH_USER_MODEL


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("audit events are append-only")

    def delete(self):
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """Append-only: who did what to which case, record or file, when and from where.

    Holds identifiers and action names only — never health data.
    """

    class Action(models.TextChoices):
        CASE_SUBMITTED = "case.submitted", "Case submitted"
        CASE_VIEWED = "case.viewed", "Case viewed"
        CASE_STATUS_CHANGED = "case.status_changed", "Status changed"
        CONSENT_GIVEN = "consent.given", "Consent given"
        CONSENT_WITHDRAWN = "consent.withdrawn", "Consent withdrawn"
        SIGN_IN_LINK_SENT = "sign_in.link_sent", "Sign-in link sent"
        SIGNED_IN = "sign_in.signed_in", "Signed in"
        PREPARATION_UPDATED = "case.preparation_updated", "Preparation checklist updated"
        RECORD_UPLOADED = "record.uploaded", "Record uploaded"
        RECORD_CHECKED = "record.checked", "Record checked"
        RECORD_VIEWED = "record.viewed", "Record viewed"
        RECORD_DOWNLOADED = "record.downloaded", "Record downloaded"
        INVITATION_SENT = "invitation.sent", "Family invitation sent"
        INVITATION_ACCEPTED = "invitation.accepted", "Family invitation accepted"
        INVITATION_REVOKED = "invitation.revoked", "Family invitation cancelled"
        ACCESS_GRANTED = "access.granted", "Family access changed"
        ACCESS_REVOKED = "access.revoked", "Family access removed"
        RECORDS_REQUESTED = "records.requested", "Records requested"
        SUMMARY_DRAFTED = "summary.drafted", "Summary drafted"
        SUMMARY_EDITED = "summary.edited", "Summary section edited"
        DIRECTION_CONFIRMED = "direction.confirmed", "Direction confirmed"
        OUTCOME_RELEASED = "outcome.released", "Outcome released"
        CASE_ASSIGNED = "case.assigned", "Case assigned"
        CASE_FILE_REQUESTED = "case_file.requested", "Case file requested"
        CASE_FILE_DOWNLOADED = "case_file.downloaded", "Case file downloaded"
        CASE_FILE_APPROVED = "case_file.approved", "Partner case file approved"
        CASE_FILE_RELEASED = "case_file.released", "Case file released to the patient"
        IDENTIFIER_RESOLVED = "identifier.resolved", "Possible identifier accepted"
        RECORD_CLEARED = "record.cleared", "Record checked for identifiers"
        NOTE_ADDED = "note.added", "Internal note added"
        PATIENT_CONFIRMATION_SENT = (
            "patient.confirmation_sent",
            "Patient asked to confirm a representative's enquiry",
        )
        PATIENT_CONFIRMED = "patient.confirmed", "Patient confirmed a representative's enquiry"
        PATIENT_DISOWNED = "patient.disowned", "Patient said they did not agree to the enquiry"
        CASES_EXPORTED = "cases.exported", "Case list exported"
        KEY_FACTS_UPDATED = "case.key_facts_updated", "Key facts updated"
        MESSAGE_SENT = "message.sent", "Message sent"
        RECORD_DELETED = "record.deleted", "Record deleted by the uploader"
        RECORD_ORIGINAL_ERASED = "record.original_erased", "Refused upload's file erased"
        EXPORT_REQUESTED = "export.requested", "Data download requested"
        EXPORT_DOWNLOADED = "export.downloaded", "Data download downloaded"
        ERASURE_REQUESTED = "erasure.requested", "Erasure requested"
        ERASURE_CANCELLED = "erasure.cancelled", "Erasure request cancelled"
        CASE_ERASED = "case.erased", "Case erased"
        REDACTION_REVIEWED = "redaction.reviewed", "Redaction boxes changed"
        REDACTION_APPROVED = "redaction.approved", "Partner copy of a record approved"
        CASE_FILE_VERIFIED = "case_file.verified", "Partner case file verified"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # The trail outlives what it names: deleting a user or a case leaves their id (the
    # case's reference) here as it was. No database constraint and no cascade, since a
    # cascade's SET NULL is an UPDATE, which the PostgreSQL trigger refuses (migration
    # 0011); Django does nothing to these rows when a case or user goes.
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    # No database constraint and no cascade: an audit row is never updated, and it keeps
    # naming its case by reference after the case is erased (the erasure's tombstone is one
    # more row with the same reference).
    case = models.ForeignKey(
        Case,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="audit_events",
    )
    target = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")


class Notification(models.Model):
    """An e-mail we owe someone. Carries a reference and a link, never health data."""

    class Kind(models.TextChoices):
        CASE_RECEIVED = "case_received", "Case received"
        SIGN_IN_LINK = "sign_in_link", "Sign-in link"
        STATUS_CHANGED = "status_changed", "Status changed"
        INVITATION = "invitation", "Family invitation"
        RECORDS_REQUESTED = "records_requested", "Records requested"
        OUTCOME_AVAILABLE = "outcome_available", "Outcome available"
        PATIENT_CONFIRMATION = "patient_confirmation", "Patient asked to confirm"
        NEW_MESSAGE = "new_message", "New message"
        EXPORT_READY = "export_ready", "Data download ready"
        ERASURE_REQUESTED = "erasure_requested", "Erasure requested (to coordinators)"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed — will try again"
        GAVE_UP = "gave_up", "Gave up"

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    to_email = models.EmailField()
    # When set, the e-mail carries a fresh single-use sign-in link for this person, made
    # at send time so no token is ever stored.
    sign_in_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    # Where the link lands; a path on our own site, never anything about the case.
    next_path = models.CharField(max_length=200, blank=True)
    # A scoped sign-in token (e.g. one invitation) instead of a general one.
    token_scope = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # Task bookkeeping (cases.leases): when last queued, and the sending worker's lease.
    queued_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.state}"
