"""Resumable uploads: a file sent in short chunk requests, then checked like any upload.

The protocol is a small cousin of tus (https://tus.io): ``POST`` declares the file (name,
size, category…) and answers with an upload address; each ``PATCH`` to it carries the
next chunk (at most ``CHUNK_MAX`` bytes) with ``Upload-Offset`` saying where it starts;
``GET`` says how much has arrived, so a client that lost its connection — or a laptop
that was closed — carries on from there. When the last byte arrives, the file is hashed
and handed to ``records.record_add`` in the same request: the same size, quota, duplicate
and audit rules, and the same checks in a worker, as a file posted in one piece.

Why not one long request: a 60 MiB file at 1.5 MB/s takes 40 s, longer than a web
worker may spend on a request, and a dropped connection would lose all of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from cases.domain.records import original_name_clean
from cases.models import Case, ResumableUpload
from cases.records.selectors import case_storage_used, record_limits
from cases.records.services import AddResult, record_add

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

# Each chunk is a short request: 8 MiB is 5 s at 1.5 MB/s, well inside the web worker's
# time limit, and small enough that losing one in flight costs little.
CHUNK_MAX = 8 * 1024 * 1024
READ_PIECE = 256 * 1024
# An upload nobody continued for this long is abandoned: its bytes are deleted.
STALE_AFTER = timedelta(days=2)


class Readable(Protocol):
    """A request body: the request itself reads from the socket as it arrives."""

    def read(self, size: int = -1, /) -> bytes: ...


class UploadRefused(Exception):
    """The upload cannot start or continue; the message is for the person uploading."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class OffsetMismatch(UploadRefused):
    """The chunk does not start where the server's copy ends; the client asks again."""


def _folder() -> Path:
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR) / "resumable"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def part_path(upload: ResumableUpload) -> Path:
    return _folder() / f"{upload.public_id}.part"


def _pending_bytes(case: Case) -> int:
    """Space promised to uploads still on their way, so they cannot overrun the quota."""
    pending = ResumableUpload.objects.filter(case=case).aggregate(total=Sum("size"))
    return pending["total"] or 0


def upload_start(
    *,
    case: Case,
    user: User,
    name: str,
    size: int,
    category: str,
    document_date: date | None = None,
    description: str = "",
) -> ResumableUpload:
    """Declare a file that will arrive in chunks; refuse it now if it could never fit.

    The limits are checked again, exactly as for a one-piece upload, when the last chunk
    arrives; checking here too means nobody sends 200 MB only to be told no.
    """
    clean = original_name_clean(name)
    limits = record_limits()
    if size <= 0:
        raise UploadRefused(f"{clean} is empty (0 bytes). Please choose the file again.")
    if size > limits.max_file_size:
        raise UploadRefused(
            f"{clean} is {filesizeformat(size)}, over the limit of "
            f"{limits.max_file_size_label} a file. Split a long PDF, or send a smaller copy.",
            status=413,
        )
    # Part files live on the web tier's disk, so the web tier tidies them (a worker may
    # run on another machine): abandoned uploads go before their space is counted.
    uploads_purge_stale()
    with transaction.atomic():
        # The same lock record_add takes: two starts at once cannot both fit the quota.
        Case.objects.select_for_update().filter(pk=case.pk).first()
        if case_storage_used(case) + _pending_bytes(case) + size > limits.case_quota:
            raise UploadRefused(
                f"{clean} would take this case over its limit of {limits.case_quota_label}. "
                "Please send only the most relevant records, or ask your coordinator.",
                status=413,
            )
        upload = ResumableUpload.objects.create(
            case=case,
            user=user,
            name=clean,
            size=size,
            category=category,
            document_date=document_date,
            description=description.strip(),
        )
    part_path(upload).touch(mode=0o600)
    return upload


@dataclass
class ChunkOutcome:
    offset: int
    complete: bool


def upload_append(
    *, upload: ResumableUpload, offset: int, length: int, stream: Readable
) -> ChunkOutcome:
    """Write one chunk at ``offset``; whatever arrived before a drop is kept.

    Raises ``OffsetMismatch`` when the chunk does not start where the stored bytes end
    (the client then asks for the offset and resends from there), and ``UploadRefused``
    for a chunk that is too big, would pass the declared size, or is already being sent
    by another request.
    """
    if length > CHUNK_MAX:
        raise UploadRefused(f"A chunk may be at most {filesizeformat(CHUNK_MAX)}.", status=413)
    if offset != upload.received:
        raise OffsetMismatch(
            f"This chunk starts at byte {offset}, but we have {upload.received} bytes.",
            status=409,
        )
    if offset + length > upload.size:
        raise UploadRefused(
            f"This chunk would make {upload.name} larger than the {upload.size} bytes "
            "declared when the upload started.",
            status=413,
        )
    path = part_path(upload)
    if not path.exists():
        raise UploadRefused("This upload has expired. Please choose the file again.", status=410)
    with path.open("r+b") as part:
        try:
            # Two requests writing the same file would interleave; the second is told.
            fcntl.flock(part, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadRefused(
                "This file is already being sent from another window.", status=409
            ) from None
        # A crash after writing but before recording the offset leaves extra bytes:
        # the stored offset is the truth, so cut back to it.
        part.seek(offset)
        part.truncate()
        written = 0
        try:
            while written < length:
                piece = stream.read(min(READ_PIECE, length - written))
                if not piece:
                    break
                part.write(piece)
                written += len(piece)
        except OSError:
            # The connection dropped mid-chunk: keep what arrived, the client resumes.
            logger.info("chunk interrupted", extra={"upload": str(upload.public_id)})
        part.flush()
        ResumableUpload.objects.filter(pk=upload.pk).update(
            received=F("received") + written, updated_at=timezone.now()
        )
    upload.received = offset + written
    return ChunkOutcome(offset=upload.received, complete=upload.received == upload.size)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


def upload_finish(*, upload: ResumableUpload, request: HttpRequest | None = None) -> AddResult:
    """Hash the assembled file and add it as a record, exactly as a one-piece upload is.

    The upload row and its bytes are gone afterwards whatever the answer: a refused file
    (quota, duplicate) is reported and nothing is kept.
    """
    path = part_path(upload)
    try:
        size = path.stat().st_size
        if size != upload.size:
            raise UploadRefused(
                f"{upload.name} arrived incomplete ({size} of {upload.size} bytes). "
                "Please send it again.",
                status=409,
            )
        file = _AssembledFile(path, upload.name, _sha256(path))
        result = record_add(
            case=upload.case,
            file=file,
            category=upload.category,
            uploaded_by=upload.user,
            document_date=upload.document_date,
            description=upload.description,
            request=request,
        )
        file.close()
    finally:
        upload_discard(upload)
    return result


class _AssembledFile(File):
    """The assembled part file, hashed already. ``temporary_file_path`` lets the file
    system storage move it into place rather than copy it (as for Django's own
    temporary uploads); other storages read it."""

    def __init__(self, path: Path, name: str, sha256: str) -> None:
        super().__init__(path.open("rb"), name=name)
        self._path = path
        self.sha256 = sha256

    def temporary_file_path(self) -> str:
        return str(self._path)


def upload_discard(upload: ResumableUpload) -> None:
    """Forget an upload and delete whatever of it arrived (cancelled, done or stale)."""
    with transaction.atomic():
        ResumableUpload.objects.filter(pk=upload.pk).delete()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(part_path(upload))


def uploads_purge_stale() -> int:
    """Delete uploads nobody continued for ``STALE_AFTER``, with their bytes."""
    cutoff = timezone.now() - STALE_AFTER
    stale = list(ResumableUpload.objects.filter(updated_at__lt=cutoff))
    for upload in stale:
        upload_discard(upload)
    # Bytes whose row went with its case (erasure deletes the case, not our disk).
    known = {
        f"{public_id}.part"
        for public_id in ResumableUpload.objects.values_list("public_id", flat=True)
    }
    for path in _folder().glob("*.part"):
        if path.name not in known and path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
    return len(stale)
