"""The coordinator's write paths: record requests, directions, outcomes, assignment.

The summary has its own package (``cases.summary``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases.access import case_manager_emails, may_assign
from cases.audit import audit_log
from cases.domain.workflow import Status, WithdrawalChannel, can_transition
from cases.models import (
    AuditEvent,
    Case,
    CaseDirection,
    CaseOutcome,
    InternalNote,
    MedicalDirection,
    Notification,
    Record,
    RecordCategory,
    RecordRequest,
)
from cases.notifications import notification_queue
from cases.records.selectors import case_checklist
from cases.records.services import record_add
from cases.transitions import StaleTransition, case_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest


# --- Record requests -------------------------------------------------------------------


def record_request_prefill(case: Case) -> tuple[list[str], str]:
    """The missing essential categories and a plain-English message naming them."""
    missing = [item for item in case_checklist(case) if not item.present]
    if not missing:
        return [], (
            "Thank you for the records you have sent. To prepare your case we would also "
            "like:\n\n- \n\nYou can upload them from your case page."
        )
    lines = "\n".join(f"- {item.label}" for item in missing)
    return [item.category for item in missing], (
        "Thank you for your enquiry. To prepare your case summary we need a few more "
        f"records:\n\n{lines}\n\nYour hospital's medical records department or your GP "
        "surgery can give you copies. You can upload photos or scans from your case page."
    )


def record_request_send(
    *,
    case: Case,
    categories: list[str],
    message: str,
    by: User,
    request: HttpRequest | None = None,
) -> RecordRequest:
    """Ask the patient for records: portal message, e-mail with a link, awaiting_records."""
    message = message.strip()
    if not message:
        raise ValidationError("Write the message the patient will read.")
    with transaction.atomic():
        record_request = RecordRequest.objects.create(
            case=case, requested_by=by, categories=categories, message=message
        )
        if case.status != Status.AWAITING_RECORDS:
            if not can_transition(case.status, Status.AWAITING_RECORDS):
                raise ValidationError(
                    f"A case that is {case.get_status_display().lower()} cannot wait for records."
                )
            case_transition(
                case=case,
                to=Status.AWAITING_RECORDS,
                actor=by,
                note="Records requested.",
                request=request,
                notify=False,
            )
        for email in case_manager_emails(case):
            notification_queue(
                kind=Notification.Kind.RECORDS_REQUESTED,
                to_email=email,
                case=case,
                next_path=f"/my/cases/{case.reference}/records/",
            )
        audit_log(
            action=AuditEvent.Action.RECORDS_REQUESTED,
            actor=by,
            case=case,
            request=request,
            categories=categories,
        )
    return record_request


# --- Directions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    direction: MedicalDirection
    covered: int
    needed: int
    confirmed: CaseDirection | None

    @property
    def reason(self) -> str:
        return f"{self.covered} of {self.needed} essential record kinds are on the case"


def _case_words(case: Case) -> str:
    """The diagnosis and what the records say they are, lowercased, for keyword matching."""
    descriptions = case.records.kept().values_list("description", flat=True)
    return " ".join([case.diagnosis, case.treatment_so_far, *descriptions]).lower()


def direction_fits(direction: MedicalDirection, words: str) -> bool:
    """A direction with keywords (CAR-T: lymphoma, myeloma…) fits only a case naming one."""
    keywords = direction.keyword_list
    return not keywords or any(
        re.search(rf"(?<!\w){re.escape(word)}(?!\w)", words) for word in keywords
    )


def directions_suggest(case: Case) -> list[Suggestion]:
    """Directions of the case's area that fit its diagnosis and records, best covered first.

    A HER2 breast-cancer case is not offered CAR-T: a direction with keywords is suggested
    only when the diagnosis or a record description names one of them.
    """
    present = set(case.records.kept().values_list("category", flat=True))
    confirmed = {c.direction_id: c for c in case.directions.all()}
    words = _case_words(case)
    suggestions = [
        Suggestion(
            direction=direction,
            covered=len(present & set(direction.essential_categories)),
            needed=len(direction.essential_categories),
            confirmed=confirmed.get(direction.pk),
        )
        for direction in MedicalDirection.objects.filter(area=case.medical_area)
        if direction.pk in confirmed or direction_fits(direction, words)
    ]
    return sorted(
        suggestions, key=lambda s: (s.direction.high_risk, -s.covered, s.direction.name_en)
    )


def direction_confirm(
    *,
    case: Case,
    direction: MedicalDirection,
    rationale: str,
    by: User,
    rationale_zh: str = "",
    request: HttpRequest | None = None,
) -> CaseDirection:
    rationale = rationale.strip()
    if not rationale:
        raise ValidationError("Give the reason this direction fits the case.")
    match, _ = CaseDirection.objects.update_or_create(
        case=case,
        direction=direction,
        defaults={
            "rationale": rationale,
            "rationale_zh": rationale_zh.strip(),
            "confirmed_by": by,
            "confirmed_at": timezone.now(),
        },
    )
    audit_log(
        action=AuditEvent.Action.DIRECTION_CONFIRMED,
        actor=by,
        case=case,
        target=str(direction.pk),
        request=request,
    )
    return match


# --- Outcome -----------------------------------------------------------------------------


def outcome_release(
    *,
    case: Case,
    opinion_summary: str,
    next_steps: str,
    confirmed: bool,
    by: User,
    request: HttpRequest | None = None,
    seen_release: str | None = None,
) -> CaseOutcome:
    """Show the review's outcome and next steps to the patient and tell them by e-mail.

    Only once the reviewers' opinion is on the case (``opinion_received``): an outcome
    released earlier would sit under "We have received your enquiry". ``seen_release`` is
    the release the writer's page showed ("" for none): a page opened before someone else
    released is refused rather than silently replacing what the patient already read.
    ``confirmed`` is the writer's tick: the patient reads it at once and is e-mailed, so
    it is never released by a stray click.
    """
    errors: dict[str, str] = {}
    if not opinion_summary.strip():
        errors["opinion_summary"] = "Write the summary of the opinion."
    if not next_steps.strip():
        errors["next_steps"] = "Write the next steps."
    if not confirmed:
        errors["confirmed"] = "Tick the box to confirm the patient may read this now."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk).status
        if current != Status.OPINION_RECEIVED:
            raise ValidationError(
                "An outcome is written only after the reviewers' opinion has arrived (status "
                f"“opinion received”); this case is {Status(current).label.lower()}."
            )
        released = (
            CaseOutcome.objects.filter(case=case, released_at__isnull=False)
            .select_related("written_by")
            .first()
        )
        if seen_release is not None and seen_release != release_marker(released):
            who = f" by {released.written_by}" if released and released.written_by else ""
            raise ValidationError(
                f"An outcome was released{who} while your page was open. Nothing was "
                "changed; read the released outcome and try again."
            )
        outcome, _ = CaseOutcome.objects.update_or_create(
            case=case,
            defaults={
                "opinion_summary": opinion_summary.strip(),
                "next_steps": next_steps.strip(),
                "written_by": by,
                "released_at": timezone.now(),
            },
        )
        for email in case_manager_emails(case):
            notification_queue(
                kind=Notification.Kind.OUTCOME_AVAILABLE,
                to_email=email,
                case=case,
                next_path=f"/my/cases/{case.reference}/",
            )
        audit_log(action=AuditEvent.Action.OUTCOME_RELEASED, actor=by, case=case, request=request)
    return outcome


def release_marker(outcome: CaseOutcome | None) -> str:
    """What an outcome page carries to show which release it was written against."""
    return outcome.released_at.isoformat() if outcome and outcome.released_at else ""


def case_assign(
    *,
    case: Case,
    coordinator: User | None,
    by: User,
    request: HttpRequest | None = None,
) -> None:
    """A coordinator may take an unassigned case; anything else is a manager's decision."""
    current = Case.objects.filter(pk=case.pk).values_list("assigned_coordinator", flat=True)
    if not may_assign(by, coordinator, current.first()):
        raise PermissionDenied("Only a manager can assign or reassign a case to someone.")
    case.assigned_coordinator = coordinator
    case.save(update_fields=["assigned_coordinator", "updated_at"])
    audit_log(
        action=AuditEvent.Action.CASE_ASSIGNED,
        actor=by,
        case=case,
        request=request,
        coordinator=coordinator.username if coordinator else "",
    )


def internal_note_add(
    *, note: InternalNote, by: User, request: HttpRequest | None = None
) -> InternalNote:
    """Save a coordinator's note on a case (never shown to the patient) and audit it."""
    note.author = by
    note.save()
    audit_log(action=AuditEvent.Action.NOTE_ADDED, actor=by, case=note.case, request=request)
    return note


# --- The opinion and withdrawal on request --------------------------------------------------


def opinion_receive(
    *, case: Case, file: UploadedFile, expected: str, by: User, request: HttpRequest | None = None
) -> Record:
    """Keep the reviewers' opinion as a record of its own and move the case on."""
    with transaction.atomic():
        if Case.objects.select_for_update().get(pk=case.pk).status != expected:
            raise StaleTransition(
                "This case changed while your page was open. Nothing was changed; check it "
                "and try again."
            )
        added = record_add(
            case=case,
            file=file,
            category=RecordCategory.REVIEWER_OPINION,
            uploaded_by=by,
            request=request,
        )
        # The same file sent twice is the same opinion: the existing record stands.
        record = added.record or added.duplicate_of
        if added.error or record is None:
            raise ValidationError(added.error or "The opinion could not be stored.")
        case_transition(
            case=case,
            to=Status.OPINION_RECEIVED,
            actor=by,
            note="The reviewers' opinion arrived.",
            request=request,
            expected=expected,
        )
    return record


def case_withdraw_on_request(
    *,
    case: Case,
    channel: str,
    note: str,
    confirmed: bool,
    expected: str,
    by: User,
    request: HttpRequest | None = None,
) -> Case:
    """Withdraw a case because the patient asked a coordinator to: how, why, confirmed.

    The patient's portal then says a coordinator withdrew it at their request, and how
    they asked; it is final, like the patient's own withdrawal.
    """
    errors: dict[str, str] = {}
    if channel not in {c.value for c in WithdrawalChannel}:
        errors["channel"] = "Say how the patient asked to withdraw."
    if not note.strip():
        errors["note"] = "Write a note: what the patient asked, in their words if you can."
    if not confirmed:
        errors["confirmed"] = "Tick the box to confirm the patient asked for this."
    if errors:
        raise ValidationError(errors)
    return case_transition(
        case=case,
        to=Status.WITHDRAWN,
        actor=by,
        note=note,
        request=request,
        expected=expected,
        channel=channel,
    )


# --- Key facts --------------------------------------------------------------------------------

# Printed at the top of the case file; the coordinator fills in what the enquiry lacked.
KEY_FACTS = ("sex", "current_medicines", "allergies", "other_conditions")


def case_key_facts_update(
    *, case: Case, facts: dict[str, str], by: User, request: HttpRequest | None = None
) -> None:
    """Save the coordinator's key facts (sex, medicines, allergies, other conditions)."""
    unknown = set(facts) - set(KEY_FACTS)
    if unknown:
        raise ValueError(f"not key facts: {sorted(unknown)}")
    Case.objects.filter(pk=case.pk).update(**facts, updated_at=timezone.now())
    audit_log(
        action=AuditEvent.Action.KEY_FACTS_UPDATED,
        actor=by,
        case=case,
        request=request,
        fields=sorted(facts),
    )
