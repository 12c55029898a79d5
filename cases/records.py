"""Records: adding uploads to a case, checking them, and what a case still lacks."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from cases.models import (
    AuditEvent,
    Case,
    CaseEvent,
    MedicalDirection,
    Membership,
    Record,
    RecordCategory,
)
from cases.services import audit_log, case_transition
from cases.workflow import Status

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

# Characters that can make a file name lie about itself (right-to-left overrides,
# invisible marks) or break a header.
_HIDDEN = {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"} | {
    chr(c) for c in range(0x2066, 0x206A)
}
MAX_NAME = 255


def original_name_clean(name: str) -> str:
    """The uploader's file name made safe to show: no folders, controls or overrides."""
    name = PureWindowsPath(PurePosixPath(name or "").name).name
    name = "".join(
        ch
        for ch in unicodedata.normalize("NFC", name)
        if ch not in _HIDDEN and unicodedata.category(ch)[0] != "C"
    ).strip(" .")
    if not name:
        return "upload"
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME - len(extension) - 2] + "…." + extension
        else:
            name = name[: MAX_NAME - 1] + "…"
    return name


@dataclass(frozen=True)
class Limits:
    max_file_size: int
    case_quota: int
    max_files: int

    @property
    def types_label(self) -> str:
        return "PDF, JPEG, PNG, HEIC (iPhone photos), WebP, TIFF and DICOM"

    @property
    def max_file_size_label(self) -> str:
        return filesizeformat(self.max_file_size)

    @property
    def case_quota_label(self) -> str:
        return filesizeformat(self.case_quota)


def record_limits() -> Limits:
    return Limits(
        max_file_size=settings.MEDCHINA_MAX_RECORD_SIZE,
        case_quota=settings.MEDCHINA_CASE_QUOTA,
        max_files=settings.DATA_UPLOAD_MAX_NUMBER_FILES,
    )


def case_storage_used(case: Case) -> int:
    kept = case.records.exclude(state=Record.State.REJECTED)
    return kept.aggregate(total=Sum("size"))["total"] or 0


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
) -> AddResult:
    """Store one upload as a received record and queue its checks.

    Refuses (with a message, storing nothing) a file over the size limit, one that
    would pass the case's quota, or content already on the case. ``run_checks=False``
    leaves the checks to the caller (the import command runs them synchronously).
    """
    name = original_name_clean(getattr(file, "name", "") or "")
    limits = record_limits()
    if file.size == 0:
        return AddResult(name, error=f"{name} is empty (0 bytes). Please choose the file again.")
    if file.size > limits.max_file_size:
        return AddResult(
            name,
            error=f"{name} is {filesizeformat(file.size)}, over the limit of "
            f"{limits.max_file_size_label} a file. Split a long PDF, or send a "
            "smaller copy.",
        )
    sha256 = _sha256(file)
    with transaction.atomic():
        # Lock the case row so two uploads at once cannot both slip under the quota.
        Case.objects.select_for_update().filter(pk=case.pk).first()
        existing = Record.objects.filter(case=case, sha256=sha256).first()
        if existing is not None and existing.state == Record.State.REJECTED:
            # Sending a refused file again is a new attempt (the refusal may have been a
            # fault on our side); the old attempt stays in the audit trail.
            for stored in (existing.original, existing.derivative, existing.thumbnail):
                if stored:
                    stored.delete(save=False)
            existing.delete()
            existing = None
        if existing is not None:
            return AddResult(name, duplicate_of=existing)
        if case_storage_used(case) + file.size > limits.case_quota:
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
            size=file.size,
            sha256=sha256,
        )
        try:
            with transaction.atomic():
                record.original.save("original", file, save=False)
                record.save()
        except IntegrityError:
            record.original.delete(save=False)
            existing = Record.objects.get(case=case, sha256=sha256)
            return AddResult(name, duplicate_of=existing)
        audit_log(
            action=AuditEvent.Action.RECORD_UPLOADED,
            actor=record.uploaded_by,
            case=case,
            target=str(record.public_id),
            request=request,
            category=category,
            size=file.size,
        )
        if record.uploaded_by and not record.uploaded_by.is_staff:
            Case.objects.filter(pk=case.pk).update(last_patient_activity_at=timezone.now())
            case.record_requests.filter(answered_at__isnull=True).update(answered_at=timezone.now())
            _leave_awaiting_records(case=case, actor=record.uploaded_by)
        case_completeness_refresh(case)
        if run_checks:
            from cases.tasks import record_check

            transaction.on_commit(lambda: record_check.delay(record.pk))
    return AddResult(name, record=record)


def _leave_awaiting_records(*, case: Case, actor) -> None:
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


MAX_CHECK_ATTEMPTS = 5
TOO_HARD = (
    "We could not finish checking this file: it took too long or stopped our checker. "
    'Please try a smaller copy — for example a PDF saved again with "Print to PDF", '
    "or a photo instead of a scan."
)


class CheckFailed(Exception):
    """A fault on our side (disk, storage) worth trying again; the file is not to blame."""


def record_process(*, record_id: int, final_attempt: bool = True) -> Record | None:
    """Run the content checks on one received record and store what they produce.

    Claims the row first (received → checking) so a redelivered task does nothing.
    A file the checks refuse becomes ``rejected`` with the reason; a fault on our side
    raises ``CheckFailed`` so the task can retry, and on the final attempt the record is
    rejected with a reason that asks the uploader to try again — the original is kept.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    from cases import record_checks

    claimed = Record.objects.filter(
        pk=record_id, state__in=[Record.State.RECEIVED, Record.State.CHECKING]
    ).update(state=Record.State.CHECKING, attempts=F("attempts") + 1)
    if not claimed:
        return None
    record = Record.objects.get(pk=record_id)
    if record.attempts > MAX_CHECK_ATTEMPTS:
        # Redelivered again and again: the file keeps stopping the worker. Stop trying.
        return _reject(record, TOO_HARD)
    workdir = Path(tempfile.mkdtemp(prefix="record-", dir=_scratch_dir()))
    try:
        source = workdir / "source"
        with record.original.open("rb") as original, source.open("wb") as copy:
            shutil.copyfileobj(original, copy, length=1024 * 1024)
        try:
            checked = record_checks.record_check(source, workdir / "out")
        except record_checks.RecordRejected as rejected:
            return _reject(record, rejected.reason)
        except SoftTimeLimitExceeded:
            return _reject(record, TOO_HARD)
        _store_outputs(record, checked)
    except OSError as error:
        record.last_error = f"{type(error).__name__}: {error}"[:300]
        if not final_attempt:
            record.state = Record.State.RECEIVED
            record.save(update_fields=["state", "last_error"])
            raise CheckFailed(record.last_error) from error
        return _reject(
            record,
            "We could not check this file because of a problem on our side. Nothing is "
            "wrong with your file as far as we know: please upload it again later.",
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return record


def _scratch_dir() -> str:
    folder = Path(settings.PRIVATE_STORAGE_ROOT) / ".scratch"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def _reject(record: Record, reason: str) -> Record:
    record.state = Record.State.REJECTED
    record.rejection_reason = reason
    record.checked_at = timezone.now()
    record.save(update_fields=["state", "rejection_reason", "checked_at", "last_error"])
    case_completeness_refresh(record.case)
    audit_log(
        action=AuditEvent.Action.RECORD_CHECKED,
        case=record.case,
        target=str(record.public_id),
        result="rejected",
    )
    return record


def _store_outputs(record: Record, checked) -> None:
    extension = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "application/pdf": "pdf",
        "application/dicom": "dcm",
    }.get(checked.derivative_type, "bin")
    with transaction.atomic():
        with checked.derivative.open("rb") as handle:
            record.derivative.save(f"derivative.{extension}", File(handle), save=False)
        with checked.thumbnail.open("rb") as handle:
            record.thumbnail.save("thumbnail.jpg", File(handle), save=False)
        if checked.preview is not None:
            with checked.preview.open("rb") as handle:
                record.preview.save("preview.jpg", File(handle), save=False)
        record.sniffed_type = checked.sniffed_type
        record.derivative_type = checked.derivative_type
        record.page_count = checked.page_count
        record.metadata = checked.metadata
        record.state = Record.State.READY
        record.rejection_reason = ""
        record.last_error = ""
        record.checked_at = timezone.now()
        if checked.kind == "dicom" and record.category == RecordCategory.OTHER:
            record.category = RecordCategory.IMAGING_STUDY
        record.save()
        audit_log(
            action=AuditEvent.Action.RECORD_CHECKED,
            case=record.case,
            target=str(record.public_id),
            result="ready",
        )


def records_visible_to(membership: Membership) -> QuerySet[Record]:
    """The patient (and whoever they allow) sees every record; others only their own."""
    records = Record.objects.filter(case=membership.case).select_related("uploaded_by")
    if membership.sees_whole_case:
        return records
    return records.filter(uploaded_by=membership.user)


@dataclass(frozen=True)
class ChecklistItem:
    category: str
    label: str
    count: int

    @property
    def present(self) -> bool:
        return self.count > 0


def case_checklist(case: Case) -> list[ChecklistItem]:
    """The essential record categories for the case's medical area, and what is there."""
    wanted: list[str] = []
    for direction in MedicalDirection.objects.filter(
        area=case.medical_area, in_area_checklist=True
    ):
        for category in direction.essential_categories:
            if category not in wanted:
                wanted.append(category)
    counts: dict[str, int] = {}
    for category in case.records.exclude(state=Record.State.REJECTED).values_list(
        "category", flat=True
    ):
        counts[category] = counts.get(category, 0) + 1
    labels = dict(RecordCategory.choices)
    order = list(labels)
    wanted.sort(key=lambda c: order.index(c) if c in order else len(order))
    return [ChecklistItem(c, labels.get(c, c), counts.get(c, 0)) for c in wanted]


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
    """Photos of the pages of one letter, combined (in order) into one PDF record."""
    from cases import record_checks

    first = original_name_clean(getattr(files[0], "name", "") or "photos")
    name = f"{first.rsplit('.', 1)[0]} and {len(files) - 1} more (combined).pdf"
    with tempfile.TemporaryDirectory(dir=_scratch_dir()) as folder:
        paths = []
        for number, upload in enumerate(files):
            path = Path(folder) / f"photo-{number}"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            paths.append(path)
        combined = Path(folder) / "combined.pdf"
        try:
            record_checks.images_to_pdf(paths, combined)
        except record_checks.RecordRejected as rejected:
            return AddResult(name, error=f"The photos could not be combined. {rejected.reason}")
        with combined.open("rb") as handle:
            return record_add(
                case=case,
                file=File(handle, name=name),
                category=category,
                uploaded_by=uploaded_by,
                document_date=document_date,
                description=description,
                request=request,
            )


def case_completeness_refresh(case: Case) -> None:
    """Store how many of the area's essential record categories the case still lacks."""
    checklist = case_checklist(case)
    missing = sum(1 for item in checklist if not item.present)
    Case.objects.filter(pk=case.pk).update(
        essentials_total=len(checklist), essentials_missing=missing
    )
    case.essentials_total, case.essentials_missing = len(checklist), missing


def area_completeness_refresh(area: str) -> int:
    """After a direction's checklist changes: refresh the open cases of its area."""
    from cases.workflow import FINAL

    cases = Case.objects.filter(medical_area=area).exclude(status__in=FINAL)
    for case in cases.iterator():
        case_completeness_refresh(case)
    return cases.count()
