"""Deleting an upload: the row stays for the coordinator, the files go."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone

from cases.audit import audit_log
from cases.models import AuditEvent, PartnerCopy, Record
from cases.records.completeness import case_completeness_refresh
from cases.records.files import files_delete_on_commit, stored_files

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest


def record_delete(
    *, record: Record, by: User | AnonymousUser | None, request: HttpRequest | None = None
) -> Record:
    """Delete an upload (its uploader or the patient, before review; access decides).

    The row stays, marked deleted, so the coordinator sees that something was there and
    when it went; every file of it is erased once this commits. Audited.
    """
    with transaction.atomic():
        record = Record.objects.select_for_update().select_related("case").get(pk=record.pk)
        if record.state == Record.State.DELETED:
            return record
        files = stored_files(record)
        for field in Record._meta.concrete_fields:
            if isinstance(field, models.FileField):
                setattr(record, field.name, "")
        # Its partner copy and page pictures go too (their files after commit, by the
        # rows' delete signal): a deleted upload leaves no picture of itself behind.
        PartnerCopy.objects.filter(record=record).delete()
        record.state = Record.State.DELETED
        record.deleted_at = timezone.now()
        record.deleted_by = by if by is not None and by.is_authenticated else None
        record.save()
        audit_log(
            action=AuditEvent.Action.RECORD_DELETED,
            actor=record.deleted_by,
            case=record.case,
            target=str(record.public_id),
            request=request,
            replaced=record.replacements.exists(),
        )
        case_completeness_refresh(record.case)
        files_delete_on_commit(files)
    return record
