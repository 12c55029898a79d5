"""Download my data (web side): ask for it, find the one on offer, let it expire.

The zip itself is built by a worker (``cases.privacy.build``): it holds the enquiry and
consents (JSON, and a readable PDF), every record's original as uploaded, the case files
released to the patient, the messages, and the case's audit trail (staff by role). It is
offered for 7 days, then erased.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.audit import audit_log
from cases.models import AuditEvent, Case, DataExport
from cases.records.files import files_delete_on_commit, stored_files
from cases.tasks import build_data_export, enqueue_on_commit

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

OFFERED_FOR = timedelta(days=7)


def data_export_request(*, case: Case, by: User, request: HttpRequest | None = None) -> DataExport:
    """Queue a download of the case's data, or return the one already being made or offered.

    Asking twice (a double click, two tabs) gives one job: a conditional unique constraint
    allows one export in progress per case, and a ready one is offered until it expires.
    """
    current = data_export_current(case)
    if current is not None:
        return current
    try:
        with transaction.atomic():
            export = DataExport.objects.create(case=case, requested_by=by)
            audit_log(
                action=AuditEvent.Action.EXPORT_REQUESTED,
                actor=by,
                case=case,
                target=str(export.public_id),
                request=request,
            )
            enqueue_on_commit(build_data_export, export.pk)
    except IntegrityError:
        # The other click won the race; its export is the one.
        return DataExport.objects.get(case=case, state__in=DataExport.IN_PROGRESS)
    return export


def data_export_current(case: Case) -> DataExport | None:
    """The export in progress, or the ready one still offered."""
    now = timezone.now()
    for export in case.data_exports.order_by("-requested_at"):
        if export.state in DataExport.IN_PROGRESS:
            return export
        if export.state == DataExport.State.READY and export.expires_at and export.expires_at > now:
            return export
    return None


# Builds started before giving up (a build that kills its worker comes back each time).
MAX_EXPORT_ATTEMPTS = 3


def data_export_give_up(*, export_id: int, error: str) -> None:
    """Stop trying, visibly: the portal then offers to prepare the download again."""
    DataExport.objects.filter(pk=export_id, state__in=DataExport.IN_PROGRESS).update(
        state=DataExport.State.FAILED,
        last_error=error[:500],
        finished_at=timezone.now(),
        lease_expires_at=None,
    )


def data_export_expire(*, export: DataExport) -> None:
    """After its 7 days the zip is erased; the row stays as a record that it was made."""
    with transaction.atomic():
        files = stored_files(export)
        DataExport.objects.filter(pk=export.pk).update(file="", state=DataExport.State.EXPIRED)
        files_delete_on_commit(files)
