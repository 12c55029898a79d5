"""Records: adding uploads to a case (one by one, or photos combined into one PDF)."""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from cases.audit import audit_log
from cases.domain.records import original_name_clean
from cases.domain.workflow import Status
from cases.models import AuditEvent, Case, CaseEvent, Record
from cases.records.completeness import case_completeness_refresh
from cases.records.files import COMBINE_PHOTOS
from cases.records.selectors import case_storage_used, record_limits
from cases.storage import scratch_dir
from cases.tasks import enqueue_on_commit, record_check
from cases.transitions import case_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest


@dataclass
class AddResult:
    name: str
    record: Record | None = None
    duplicate_of: Record | None = None
    error: str = ""
    # False for a helper who may see only their own uploads: a duplicate of someone
    # else's record must not tell them what is on the case, or when it came.
    reveal_duplicates: bool = True

    @property
    def message(self) -> str:
        if self.error:
            return self.error
        if self.duplicate_of is not None and not self.reveal_duplicates:
            return f"{self.name} is already on this case, so we did not store it twice."
        if self.duplicate_of is not None:
            return (
                f"{self.name} was already uploaded on "
                f"{self.duplicate_of.created_at:%-d %B %Y}, so we did not store it twice."
            )
        return f"{self.name} was received. We are checking it now."


def _sha256(file: UploadedFile | File) -> str:
    known = getattr(file, "sha256", None)
    if known:
        return known
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def record_add(
    *,
    case: Case,
    file: UploadedFile | File,
    category: str,
    uploaded_by=None,
    document_date: date | None = None,
    description: str = "",
    request: HttpRequest | None = None,
    run_checks: bool = True,
    combine_photos: bool = False,
    replaces: Record | None = None,
) -> AddResult:
    """Store one upload as a received record and queue its checks.

    Refuses (with a message, storing nothing) a file over the size limit, one that
    would pass the case's quota, or content already on the case. ``run_checks=False``
    leaves the checks to the caller (the import command runs them synchronously).
    """
    name = original_name_clean(getattr(file, "name", "") or "")
    size = file.size or 0
    limits = record_limits()
    if size == 0:
        return AddResult(name, error=f"{name} is empty (0 bytes). Please choose the file again.")
    if size > limits.max_file_size:
        return AddResult(
            name,
            error=f"{name} is {filesizeformat(size)}, over the limit of "
            f"{limits.max_file_size_label} a file. Split a long PDF, or send a "
            "smaller copy.",
        )
    sha256 = _sha256(file)
    with transaction.atomic():
        # Lock the case row so two uploads at once cannot both slip under the quota.
        Case.objects.select_for_update().filter(pk=case.pk).first()
        existing = Record.objects.present().filter(case=case, sha256=sha256).first()
        if existing is not None and existing.state == Record.State.REJECTED:
            # Sending a refused file again is a new attempt (the refusal may have been a
            # fault on our side); the old attempt stays in the audit trail. Its files went
            # when it was refused (any left behind go with the row, after commit).
            existing.delete()
            existing = None
        if existing is not None:
            return AddResult(name, duplicate_of=existing)
        if case_storage_used(case) + size > limits.case_quota:
            return AddResult(
                name,
                error=f"{name} would take this case over its limit of "
                f"{limits.case_quota_label}. Please send only the most relevant records, "
                "or ask your coordinator.",
            )
        record = Record(
            case=case,
            uploaded_by=uploaded_by if uploaded_by and uploaded_by.is_authenticated else None,
            category=category,
            document_date=document_date,
            description=description.strip(),
            original_name=name,
            size=size,
            sha256=sha256,
            # The worker combines the bundled photos into the PDF before checking it.
            metadata={COMBINE_PHOTOS: True} if combine_photos else {},
            replaces=replaces,
        )
        try:
            with transaction.atomic():
                record.original.save("original", file, save=False)
                record.save()
        except IntegrityError:
            record.original.delete(save=False)
            existing = Record.objects.present().get(case=case, sha256=sha256)
            return AddResult(name, duplicate_of=existing)
        audit_log(
            action=AuditEvent.Action.RECORD_UPLOADED,
            actor=record.uploaded_by,
            case=case,
            target=str(record.public_id),
            request=request,
            category=category,
            size=size,
        )
        if record.uploaded_by and not record.uploaded_by.is_staff:
            Case.objects.filter(pk=case.pk).update(last_patient_activity_at=timezone.now())
            case.record_requests.filter(answered_at__isnull=True).update(answered_at=timezone.now())
            _leave_awaiting_records(case=case, actor=record.uploaded_by)
        case_completeness_refresh(case)
        if run_checks:
            enqueue_on_commit(record_check, record.pk)
    return AddResult(name, record=record)


def _leave_awaiting_records(*, case: Case, actor: User) -> None:
    """New records answer a request for records: the case goes back where it was."""
    case.refresh_from_db(fields=["status"])
    if case.status != Status.AWAITING_RECORDS:
        return
    last = (
        CaseEvent.objects.filter(case=case, to_status=Status.AWAITING_RECORDS)
        .order_by("-at", "-pk")
        .first()
    )
    back_to = last.from_status if last and last.from_status else Status.TRIAGE
    case_transition(
        case=case, to=back_to, actor=actor, note="New records uploaded.", by_patient=False
    )


def record_add_photos_as_one(
    *,
    case: Case,
    files: list[UploadedFile],
    category: str,
    uploaded_by=None,
    document_date: date | None = None,
    description: str = "",
    request: HttpRequest | None = None,
) -> AddResult:
    """Photos of the pages of one letter, combined (in order) into one PDF record.

    Decoding two 49-megapixel photos takes seconds, so the request only packs them (as
    they arrived, in order) into one bundle stored as the record's original; the record
    check in the worker combines them into the PDF and then checks that as usual.
    """
    first = original_name_clean(getattr(files[0], "name", "") or "photos")
    name = f"{first.rsplit('.', 1)[0]} and {len(files) - 1} more (combined).pdf"
    with tempfile.TemporaryDirectory(dir=scratch_dir()) as folder:
        bundle = Path(folder) / "photos.tar"
        with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as tar:
            for number, upload in enumerate(files):
                # Fixed names and times: the same photos make the same bundle, so sending
                # them twice is recognised as a duplicate.
                info = tarfile.TarInfo(f"photo-{number:03d}")
                info.size = upload.size or 0
                upload.seek(0)
                tar.addfile(info, upload)
        with bundle.open("rb") as handle:
            return record_add(
                case=case,
                file=File(handle, name=name),
                category=category,
                uploaded_by=uploaded_by,
                document_date=document_date,
                description=description,
                request=request,
                combine_photos=True,
            )


def record_clear_for_partner(
    *, record: Record, by: User, request: HttpRequest | None = None
) -> None:
    """Store a coordinator's "checked: no identifiers" decision on a record, audited."""
    record.save(update_fields=["cleared_for_partner"])
    audit_log(
        action=AuditEvent.Action.RECORD_CLEARED,
        actor=by,
        case=record.case,
        target=str(record.public_id),
        request=request,
        cleared=record.cleared_for_partner,
    )


def record_replace(
    *, record: Record, file: UploadedFile | File, by: User, request: HttpRequest | None = None
) -> AddResult:
    """Upload a file in place of another; the old one goes once the new one passes its checks.

    A replacement the checks refuse leaves the old upload as it was: nothing is lost.
    """
    return record_add(
        case=record.case,
        file=file,
        category=record.category,
        document_date=record.document_date,
        description=record.description,
        uploaded_by=by,
        request=request,
        replaces=record,
    )
