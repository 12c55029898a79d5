"""Retention: what the privacy notice promises, done by a beat job every night.

Closed, withdrawn and declined cases are erased ``MEDCHINA_RETENTION_DAYS`` after they
ended (2 years by default); finished data downloads after their 7 days. A refused
upload's files are deleted when it is refused (``cases.records.processing``); the job
erases any still left behind (refused before that rule, or a deletion that failed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import FileField, Max, OuterRef, Q, Subquery
from django.utils import timezone

from cases.audit import audit_log
from cases.domain.workflow import FINAL
from cases.models import AuditEvent, Case, CaseEvent, DataExport, Record
from cases.privacy.erasure import Reason, case_erase
from cases.privacy.export import data_export_expire
from cases.records.files import files_cleared, files_delete_on_commit


@dataclass
class Due:
    cases: list[tuple[str, datetime]] = field(default_factory=list)
    refused_records: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    expired_exports: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{len(self.cases)} case(s) ended more than the retention period ago:"]
        out += [f"  {ref} (ended {ended:%Y-%m-%d})" for ref, ended in self.cases]
        out.append(f"{len(self.refused_records)} refused upload(s) with an original:")
        out += [
            f"  {ref} record {public_id} (refused {at:%Y-%m-%d})" if at else f"  {ref} {public_id}"
            for ref, public_id, at in self.refused_records
        ]
        out.append(f"{len(self.expired_exports)} expired data download(s):")
        out += [f"  {ref} download {public_id}" for ref, public_id in self.expired_exports]
        return out


def _ended_cases(before: datetime):
    ended = (
        CaseEvent.objects.filter(case=OuterRef("pk"), to_status=OuterRef("status"))
        .values("case")
        .annotate(last=Max("at"))
        .values("last")
    )
    return (
        Case.objects.filter(status__in=FINAL)
        .annotate(ended_at=Subquery(ended))
        .filter(ended_at__lt=before)
        .order_by("ended_at")
    )


def _holds_files() -> Q:
    holds = Q(pk__in=[])
    for f in Record._meta.concrete_fields:
        if isinstance(f, FileField):
            holds |= ~Q(**{f.name: ""})
    return holds


def retention_due(*, now: datetime | None = None) -> Due:
    """Everything the retention rules would erase now; erases nothing."""
    now = now or timezone.now()
    due = Due()
    case_cutoff = now - timedelta(days=settings.MEDCHINA_RETENTION_DAYS)
    due.cases = [(c.reference, c.ended_at) for c in _ended_cases(case_cutoff)]
    due.refused_records = [
        (r.case_id, str(r.public_id), r.checked_at)
        for r in Record.objects.filter(_holds_files(), state=Record.State.REJECTED)
    ]
    due.expired_exports = [
        (e.case_id, str(e.public_id))
        for e in DataExport.objects.filter(expires_at__lt=now).exclude(file="")
    ]
    return due


def refused_original_erase(*, record: Record) -> None:
    """Erase the files of a refused upload; the row (and its reason) stays for the audit."""
    with transaction.atomic():
        files, file_fields = files_cleared(record)
        Record.objects.filter(pk=record.pk).update(**dict.fromkeys(file_fields, ""))
        audit_log(
            action=AuditEvent.Action.RECORD_ORIGINAL_ERASED,
            case=record.case,
            target=str(record.public_id),
            reason="retention",
        )
        files_delete_on_commit(files)


def retention_apply(*, now: datetime | None = None) -> Due:
    """Erase what is due. Each case goes in its own transaction, so one failure stops one."""
    due = retention_due(now=now)
    for reference, _ended in due.cases:
        case = Case.objects.filter(pk=reference).first()
        if case is not None:
            case_erase(case=case, by=None, reason=Reason.RETENTION)
    for _reference, public_id, _at in due.refused_records:
        record = Record.objects.filter(public_id=public_id).select_related("case").first()
        if record is not None:
            refused_original_erase(record=record)
    for _reference, public_id in due.expired_exports:
        export = DataExport.objects.filter(public_id=public_id).first()
        if export is not None:
            data_export_expire(export=export)
    return due
