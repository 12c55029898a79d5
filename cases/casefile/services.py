"""Case files: asking for one, giving up on a stalled one, approving and releasing.

Two variants: ``internal`` (everything) and ``partner`` (pseudonymised for the China-side
review). The rendering itself runs in the worker (``cases.casefile.build``).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cases.audit import audit_log
from cases.casefile.partner import partner_file_problems
from cases.leases import LEASE
from cases.models import AuditEvent, Case, CaseFile
from cases.tasks import enqueue_on_commit, generate_case_file


class CaseFileRefused(ValidationError):
    """The case file cannot be made yet; the message says what to do first."""


def case_file_request(*, case: Case, variant: str, by: User, regenerate: bool = False) -> CaseFile:
    """Queue a case file. Asking again while one is queued or ready returns that one.

    ``regenerate`` makes a new version even when a ready one exists.
    """
    if variant == CaseFile.Variant.PARTNER:
        problems = partner_file_problems(case)
        if problems:
            raise CaseFileRefused(" ".join(problems))
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        latest = case.case_files.filter(variant=variant).order_by("-version").first()
        if latest and _stalled(latest):
            # Its lease ran out: the worker died or lost the database. Start afresh.
            case_file_give_up(case_file_id=latest.pk, error="the render was interrupted")
            latest.refresh_from_db()
        if latest and (
            latest.state in {CaseFile.State.QUEUED, CaseFile.State.RENDERING}
            or (latest.state == CaseFile.State.READY and not regenerate)
        ):
            return latest
        version = (
            case.case_files.filter(variant=variant).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        case_file = CaseFile.objects.create(
            case=case, variant=variant, version=version, requested_by=by
        )
        audit_log(
            action=AuditEvent.Action.CASE_FILE_REQUESTED,
            actor=by,
            case=case,
            target=str(case_file.public_id),
            variant=variant,
            version=version,
        )
        enqueue_on_commit(generate_case_file, case_file.pk)
    return case_file


def _stalled(case_file: CaseFile) -> bool:
    """Rendering, but nobody is: its worker stopped renewing the lease (died, lost the
    database). Asking again then starts a new version instead of returning this one."""
    if case_file.state != CaseFile.State.RENDERING:
        return False
    now = timezone.now()
    if case_file.lease_expires_at is not None:
        return case_file.lease_expires_at < now
    return case_file.started_at is None or now - case_file.started_at > LEASE


def case_file_give_up(*, case_file_id: int, error: str) -> None:
    """After the last retry of a fault on our side, say so on the row."""
    CaseFile.objects.filter(
        pk=case_file_id, state__in=[CaseFile.State.QUEUED, CaseFile.State.RENDERING]
    ).update(
        state=CaseFile.State.FAILED,
        finished_at=timezone.now(),
        last_error=(
            "The case file could not be written because of a problem on our side "
            f"({error[:200]}). Nothing else is affected; try Regenerate later."
        ),
    )


def case_file_release(*, case_file: CaseFile, by: User) -> None:
    if case_file.variant != CaseFile.Variant.INTERNAL or case_file.state != CaseFile.State.READY:
        raise ValidationError("Only a ready internal case file can be released to the patient.")
    case_file.released_at = timezone.now()
    case_file.save(update_fields=["released_at"])
    audit_log(
        action=AuditEvent.Action.CASE_FILE_RELEASED,
        actor=by,
        case=case_file.case,
        target=str(case_file.public_id),
    )
