"""Status changes: the one function that moves a case, checks the workflow table and
records the event, the audit row and the e-mail in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from cases.access import case_manager_emails, sharing_consent_active
from cases.audit import audit_log
from cases.domain.workflow import NOTE_REQUIRED, PATIENT_TRANSITIONS, Status, can_transition
from cases.models import AuditEvent, Case, CaseEvent, Notification, RecordCategory
from cases.models.case import status_change_allowed
from cases.notifications import notification_queue

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest


class TransitionNotAllowed(ValidationError):
    pass


class StaleTransition(TransitionNotAllowed):
    """The case moved on while the person's page was open; nothing was changed."""


def case_transition(
    *,
    case: Case,
    to: str,
    actor: User | None,
    note: str = "",
    request: HttpRequest | None = None,
    by_patient: bool = False,
    notify: bool = True,
    expected: str | None = None,
    channel: str = "",
) -> Case:
    """Move a case to another status, if the workflow allows it, and record why.

    Re-reads the case under a row lock. ``expected`` is the status the person saw when
    they clicked: if the case has moved since, they are told and nothing is applied, so
    two coordinators on the same stale page cannot both move it. ``channel`` is how a
    patient asked a coordinator to withdraw for them (``case_withdraw_on_request``).
    """
    target = Status(to)
    note = note.strip()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        current = locked.status
        if expected is not None and current != expected:
            last = locked.events.select_related("actor").order_by("-at", "-pk").first()
            who = f" (changed by {last.actor})" if last and last.actor else ""
            raise StaleTransition(
                f"This case is now in “{Status(current).label}”{who}: it changed while "
                "your page was open. Nothing was changed; check the case and try again."
            )
        if target == Status.WITHDRAWN and not by_patient and not channel:
            raise TransitionNotAllowed(
                "A coordinator withdraws a case only at the patient's request, saying how they "
                "asked: use “Withdraw on the patient's request”."
            )
        if not can_transition(current, target):
            raise TransitionNotAllowed(
                f"A case that is {Status(current).label.lower()} cannot move to "
                f"{target.label.lower()}."
            )
        if by_patient and target not in PATIENT_TRANSITIONS:
            raise TransitionNotAllowed("Only a coordinator can make this change.")
        if target in NOTE_REQUIRED and not note:
            raise TransitionNotAllowed(f"Moving a case to {target.label.lower()} needs a reason.")
        blocker = transition_blocker(case=locked, target=target)
        if blocker:
            raise TransitionNotAllowed(blocker)
        locked.status = target
        with status_change_allowed():
            locked.save(update_fields=["status", "updated_at"])
        CaseEvent.objects.create(
            case=locked,
            from_status=current,
            to_status=target,
            actor=actor,
            note=note,
            channel=channel,
        )
        audit_log(
            action=AuditEvent.Action.CASE_STATUS_CHANGED,
            actor=actor,
            case=locked,
            request=request,
            from_status=current,
            to_status=str(target),
        )
        if notify and not by_patient:
            # Nobody is told about their own action: a patient whose upload answers a
            # request for records does not get "there is an update on your case".
            actor_email = (actor.email or "").lower() if actor is not None else ""
            for email in case_manager_emails(locked):
                if actor_email and email.lower() == actor_email:
                    continue
                notification_queue(
                    kind=Notification.Kind.STATUS_CHANGED,
                    to_email=email,
                    case=locked,
                    next_path=f"/my/cases/{locked.reference}/",
                )
    case.status = locked.status
    return locked


def transition_blocker(*, case: Case, target: Status) -> str:
    """What must happen before this move, beyond the workflow table; "" when nothing."""
    if target == Status.READY:
        newest = case.case_files.filter(variant="partner").order_by("-version").first()
        if newest is None or newest.state != "ready" or newest.approved_at is None:
            return (
                "A case is ready only when the newest partner case file is ready and approved "
                "by a second coordinator. Generate it and ask a colleague to approve it."
            )
        if newest.summary_change_since_made():
            # What the reviewers would read is not what was approved.
            return (
                f"The summary changed after partner file v{newest.version} was made. "
                "Generate it again and ask a colleague to approve the new version."
            )
    if target == Status.SHARED and not sharing_consent_active(case):
        return "A case file is shared only with the patient's consent to sharing."
    if (
        target == Status.OPINION_RECEIVED
        and not case.records.filter(category=RecordCategory.REVIEWER_OPINION)
        .exclude(state="rejected")
        .exists()
    ):
        return (
            "Add the reviewer's opinion as a record first (on the Outcome page): the opinion "
            "is kept as a record of its own."
        )
    return ""


def case_withdraw(*, case: Case, user: User, request: HttpRequest | None = None) -> Case:
    """The patient withdraws their enquiry from the portal."""
    return case_transition(
        case=case,
        to=Status.WITHDRAWN,
        actor=user,
        note="Withdrawn by the patient from the portal.",
        request=request,
        by_patient=True,
    )
