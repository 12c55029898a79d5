"""Building a queued case file in the worker and storing the result on its row."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from django.core.files import File
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from cases.casefile.partner import partner_file_verify
from cases.casefile.render import PartnerFileRefused, case_file_build
from cases.leases import lease_claim, lease_kept, lease_release
from cases.models import CaseFile
from cases.storage import STORAGE_ERRORS, scratch_dir
from cases.tasks import enqueue_on_commit, render_case_file_pages

# Renders started before giving up (a render that kills its worker comes back each time).
MAX_RENDER_ATTEMPTS = 3


def case_file_fail(case_file: CaseFile, message: str) -> CaseFile:
    case_file.state = CaseFile.State.FAILED
    case_file.last_error = message
    case_file.finished_at = timezone.now()
    case_file.lease_expires_at = None
    case_file.save(update_fields=["state", "last_error", "finished_at", "lease_expires_at"])
    return case_file


class TransientFailure(Exception):
    """A fault on our side worth retrying (disk, storage)."""


def case_file_generate(*, case_file_id: int) -> CaseFile | None:
    """Claim a queued case file, render it, and store the result on the row."""
    if not lease_claim(
        CaseFile,
        case_file_id,
        waiting=[CaseFile.State.QUEUED],
        working=CaseFile.State.RENDERING,
        started_at=timezone.now(),
    ):
        # Ready or failed already, or another worker holds a live lease on it.
        return None
    case_file = CaseFile.objects.select_related("case").get(pk=case_file_id)
    if case_file.attempts > MAX_RENDER_ATTEMPTS:
        # Claimed again and again: this render keeps killing its worker.
        return case_file_fail(
            case_file,
            "The case file could not be made: the build stopped its worker "
            f"{case_file.attempts - 1} times. The records and summary are unchanged; "
            "look for an unusually large record, then regenerate.",
        )
    started = time.monotonic()
    filename = f"case-file-{case_file.variant}-v{case_file.version}.pdf"
    # Rendered to a local file, then stored: the worker shares no disk with the web.
    handle, local_name = tempfile.mkstemp(prefix="case-file-", suffix=".pdf", dir=scratch_dir())
    os.close(handle)
    output = Path(local_name)
    try:
        try:
            with lease_kept(CaseFile, case_file_id, working=CaseFile.State.RENDERING):
                built = case_file_build(
                    case_file.case, case_file.variant, output, case_file.version
                )
                if case_file.variant == CaseFile.Variant.PARTNER:
                    # The second, independent look: the whole PDF, its text and an OCR of
                    # every page's picture. Under the lease: it takes a second or two a page.
                    case_file.verification = partner_file_verify(case_file, output)
                    case_file.verified_at = timezone.now()
        except PartnerFileRefused as refused:
            return case_file_fail(case_file, f"The partner file was not made: {refused}")
        except STORAGE_ERRORS as error:
            _back_to_queue(case_file_id, error)
            raise TransientFailure(str(error)) from error
        except (OperationalError, InterfaceError) as error:
            # The database blinked: not the case's fault. Hand the row back (if we can) and
            # let the task retry; if we cannot, the lease runs out and the reconciler acts.
            lease_release(
                CaseFile,
                case_file_id,
                working=CaseFile.State.RENDERING,
                back_to=CaseFile.State.QUEUED,
            )
            raise TransientFailure(f"{type(error).__name__}: {error}") from error
        except Exception as error:  # a bad input must not kill the worker: record it, readably
            case_file.state = CaseFile.State.FAILED
            case_file.last_error = (
                "The case file could not be made: "
                f"{type(error).__name__}: {str(error)[:300]}. The records and summary are "
                "unchanged; fix the cause and regenerate."
            )
            case_file.finished_at = timezone.now()
            case_file.save(update_fields=["state", "last_error", "finished_at"])
            return case_file
        digest = hashlib.sha256()
        with output.open("rb") as rendered:
            for chunk in iter(lambda: rendered.read(1024 * 1024), b""):
                digest.update(chunk)
            rendered.seek(0)
            try:
                case_file.file.save(filename, File(rendered), save=False)
            except STORAGE_ERRORS as error:
                _back_to_queue(case_file_id, error)
                raise TransientFailure(str(error)) from error
    finally:
        output.unlink(missing_ok=True)
    case_file.sha256 = digest.hexdigest()
    case_file.page_count = built.page_count
    case_file.excluded = built.excluded
    case_file.state = CaseFile.State.READY
    case_file.finished_at = timezone.now()
    case_file.duration_ms = int((time.monotonic() - started) * 1000)
    case_file.last_error = ""
    try:
        case_file.save()
    except BaseException:
        # The row's write failed (a database blip): nothing names the new PDF, and left
        # here it would outlive the case's erasure. The lease brings the render back.
        if case_file.file.name:
            with suppress(*STORAGE_ERRORS):
                case_file.file.storage.delete(case_file.file.name)
        raise
    # The page images follow as their own task: a slow preview never delays the file.
    enqueue_on_commit(render_case_file_pages, case_file.pk)
    return case_file


def _back_to_queue(case_file_id: int, error: BaseException) -> None:
    """A fault on our side (disk, storage): queue it again for the task's retry."""
    CaseFile.objects.filter(pk=case_file_id).update(
        state=CaseFile.State.QUEUED,
        lease_expires_at=None,
        last_error=f"{type(error).__name__}: {error}"[:500],
    )
