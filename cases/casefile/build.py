"""Building a queued case file in the worker and storing the result on its row."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from cases.casefile.render import case_file_build
from cases.models import CaseFile


class TransientFailure(Exception):
    """A fault on our side worth retrying (disk, storage)."""


def case_file_generate(*, case_file_id: int) -> CaseFile | None:
    """Claim a queued case file, render it, and store the result on the row."""
    claimed = CaseFile.objects.filter(pk=case_file_id, state=CaseFile.State.QUEUED).update(
        state=CaseFile.State.RENDERING, started_at=timezone.now()
    )
    if not claimed:
        return None
    case_file = CaseFile.objects.select_related("case").get(pk=case_file_id)
    started = time.monotonic()
    name = (
        f"case-files/{case_file.public_id}/case-file-{case_file.variant}-v{case_file.version}.pdf"
    )
    output = Path(settings.PRIVATE_STORAGE_ROOT) / name
    try:
        built = case_file_build(case_file.case, case_file.variant, output, case_file.version)
    except OSError as error:
        CaseFile.objects.filter(pk=case_file_id).update(
            state=CaseFile.State.QUEUED, last_error=f"{type(error).__name__}: {error}"[:500]
        )
        raise TransientFailure(str(error)) from error
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
    with output.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    case_file.file.name = name
    case_file.sha256 = digest.hexdigest()
    case_file.page_count = built.page_count
    case_file.excluded = built.excluded
    case_file.state = CaseFile.State.READY
    case_file.finished_at = timezone.now()
    case_file.duration_ms = int((time.monotonic() - started) * 1000)
    case_file.last_error = ""
    case_file.save()
    return case_file
