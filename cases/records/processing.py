"""Checking a received record in the worker, and storing what the checks produce."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from contextlib import suppress
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from cases.audit import audit_log
from cases.leases import lease_claim, lease_kept
from cases.models import AuditEvent, Record, RecordCategory
from cases.records import checks
from cases.records.completeness import case_completeness_refresh
from cases.records.files import COMBINE_PHOTOS, files_cleared, files_delete_on_commit
from cases.records.redaction.services import partner_copy_request
from cases.records.removal import record_delete
from cases.storage import STORAGE_ERRORS, scratch_dir

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
    rejected with a reason that asks the uploader to try again. A refused upload's files
    are deleted at once; its hash and reason stay on the row.
    """
    if not lease_claim(
        Record, record_id, waiting=[Record.State.RECEIVED], working=Record.State.CHECKING
    ):
        # Done already, or another worker holds a live lease on it.
        return None
    record = Record.objects.get(pk=record_id)
    if record.attempts > MAX_CHECK_ATTEMPTS:
        # Claimed again and again: the file keeps stopping the worker. Stop trying.
        return _reject(record, TOO_HARD)
    workdir: Path | None = None
    try:
        # Inside the try: read-only or full scratch storage is a fault on our side too.
        workdir = Path(tempfile.mkdtemp(prefix="record-", dir=scratch_dir()))
        source = workdir / "source"
        with lease_kept(Record, record_id, working=Record.State.CHECKING):
            with record.original.open("rb") as original, source.open("wb") as copy:
                shutil.copyfileobj(original, copy, length=1024 * 1024)
            try:
                if record.metadata.get(COMBINE_PHOTOS):
                    source = _combine_photos(record, source, workdir)
                checked = checks.record_check(source, workdir / "out")
            except checks.RecordRejected as rejected:
                return _reject(record, rejected.reason)
            except SoftTimeLimitExceeded:
                return _reject(record, TOO_HARD)
            _store_outputs(record, checked)
    except STORAGE_ERRORS as error:
        record.last_error = f"{type(error).__name__}: {error}"[:300]
        if not final_attempt:
            record.state = Record.State.RECEIVED
            record.lease_expires_at = None
            record.save(update_fields=["state", "last_error", "lease_expires_at"])
            raise CheckFailed(record.last_error) from error
        return _reject(
            record,
            "We could not check this file because of a problem on our side. Nothing is "
            "wrong with your file as far as we know: please upload it again later.",
        )
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return record


def _combine_photos(record: Record, bundle: Path, workdir: Path) -> Path:
    """Combine the bundled photos (in order) into one PDF, which becomes the original."""
    parts = workdir / "photos"
    parts.mkdir()
    paths: list[Path] = []
    with tarfile.open(bundle, "r") as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is None:
                continue
            # Our own names (photo-000, ...), never the member's path.
            path = parts / f"photo-{len(paths):03d}"
            with extracted, path.open("wb") as out:
                shutil.copyfileobj(extracted, out, length=1024 * 1024)
            paths.append(path)
    combined = workdir / "combined.pdf"
    try:
        checks.images_to_pdf(paths, combined)
    except checks.RecordRejected as rejected:
        raise checks.RecordRejected(
            f"The photos could not be combined. {rejected.reason}"
        ) from rejected
    bundle_name = record.original.name or ""
    with combined.open("rb") as handle:
        record.original.save("original.pdf", File(handle), save=False)
    record.size = combined.stat().st_size
    record.metadata = {k: v for k, v in record.metadata.items() if k != COMBINE_PHOTOS}
    record.save(update_fields=["original", "size", "metadata"])
    if bundle_name:
        record.original.storage.delete(bundle_name)
    return combined


def record_give_up(*, record_id: int) -> Record | None:
    """The reconciler's last word on a record whose checks never finished."""
    changed = Record.objects.filter(
        pk=record_id, state__in=[Record.State.RECEIVED, Record.State.CHECKING]
    ).update(lease_expires_at=None)
    if not changed:
        return None
    return _reject(Record.objects.get(pk=record_id), TOO_HARD)


def _reject(record: Record, reason: str) -> Record:
    # We keep nothing of a file we refused but its hash (so the uploader can be told it
    # is the same file) and the reason: a refused file may be anything, and the
    # uploader still has it.
    with transaction.atomic():
        files, file_fields = files_cleared(record)
        record.state = Record.State.REJECTED
        record.rejection_reason = reason
        record.checked_at = timezone.now()
        record.save(
            update_fields=["state", "rejection_reason", "checked_at", "last_error", *file_fields]
        )
        case_completeness_refresh(record.case)
        audit_log(
            action=AuditEvent.Action.RECORD_CHECKED,
            case=record.case,
            target=str(record.public_id),
            result="rejected",
        )
        if files:
            audit_log(
                action=AuditEvent.Action.RECORD_ORIGINAL_ERASED,
                case=record.case,
                target=str(record.public_id),
                reason="refused",
            )
        files_delete_on_commit(files)
    return record


def _store_outputs(record: Record, checked: checks.CheckedRecord) -> None:
    extension = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "application/pdf": "pdf",
        "application/dicom": "dcm",
    }.get(checked.derivative_type, "bin")
    written: list[str | None] = []
    try:
        with transaction.atomic():
            with checked.derivative.open("rb") as handle:
                record.derivative.save(f"derivative.{extension}", File(handle), save=False)
            written.append(record.derivative.name)
            with checked.thumbnail.open("rb") as handle:
                record.thumbnail.save("thumbnail.jpg", File(handle), save=False)
            written.append(record.thumbnail.name)
            if checked.preview is not None:
                with checked.preview.open("rb") as handle:
                    record.preview.save("preview.jpg", File(handle), save=False)
                written.append(record.preview.name)
            if checked.page_image is not None:
                with checked.page_image.open("rb") as handle:
                    record.page_image.save("page.jpg", File(handle), save=False)
                written.append(record.page_image.name)
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
            if record.replaces_id:
                # The replacement is accepted: only now does the upload it replaces go.
                old = Record.objects.filter(pk=record.replaces_id).select_related("case").first()
                if old is not None and old.state != Record.State.DELETED:
                    record_delete(record=old, by=record.uploaded_by)
            # Partner files include only reviewed partner copies: start the proposals now.
            partner_copy_request(record=record)
    except BaseException:
        # The row's write failed (a database blip): nothing names these files now, and
        # left here they would outlive the record's deletion and the case's erasure.
        for name in filter(None, written):
            with suppress(*STORAGE_ERRORS):
                record.derivative.storage.delete(name)
        raise
