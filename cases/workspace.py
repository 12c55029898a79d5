"""The coordinator's write paths: record requests, summaries, directions, outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases import glossary
from cases.models import (
    AuditEvent,
    Case,
    CaseDirection,
    CaseOutcome,
    MedicalDirection,
    Notification,
    Record,
    RecordCategory,
    RecordRequest,
    SummarySection,
    TextState,
)
from cases.records import case_checklist
from cases.services import audit_log, case_manager_emails, case_transition, notification_queue
from cases.workflow import Status, can_transition

if TYPE_CHECKING:
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
    *, case: Case, categories: list[str], message: str, by, request: HttpRequest | None = None
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
        for email in case_manager_emails(case=case):
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


# --- Case summary ----------------------------------------------------------------------


def _timeline(case: Case) -> tuple[str, str]:
    dated = (
        case.records.filter(document_date__isnull=False)
        .exclude(state=Record.State.REJECTED)
        .exclude(category=RecordCategory.REVIEWER_OPINION)
        .order_by("document_date", "created_at")
    )
    en, zh = [], []
    for record in dated:
        label = record.get_category_display()
        label_zh = glossary.RECORD_CATEGORIES.get(record.category, label)
        detail = f": {record.description}" if record.description else ""
        en.append(f"{record.document_date:%Y-%m-%d} — {label}{detail}")
        zh.append(f"{record.document_date:%Y-%m-%d} — {label_zh}{detail}")
    return "\n".join(en), "\n".join(zh)


def _records_lists(case: Case) -> tuple[tuple[str, str], tuple[str, str]]:
    provided = (
        case.records.exclude(state=Record.State.REJECTED)
        .exclude(category=RecordCategory.REVIEWER_OPINION)
        .values_list("category", flat=True)
    )
    counts: dict[str, int] = {}
    for category in provided:
        counts[category] = counts.get(category, 0) + 1
    labels = dict(RecordCategory.choices)
    provided_en = "\n".join(f"- {labels[c]} ({n})" for c, n in counts.items())
    provided_zh = "\n".join(f"- {glossary.RECORD_CATEGORIES[c]}（{n}）" for c, n in counts.items())
    missing = [item for item in case_checklist(case) if not item.present]
    missing_en = "\n".join(f"- {item.label}" for item in missing)
    missing_zh = "\n".join(f"- {glossary.RECORD_CATEGORIES[item.category]}" for item in missing)
    return (provided_en, provided_zh), (missing_en, missing_zh)


def summary_draft(*, case: Case, by, request: HttpRequest | None = None) -> list[SummarySection]:
    """Fill every section not yet started from the enquiry and the records.

    Sections a coordinator has already written are left alone; the text made from fixed
    terms (timeline categories, record lists, goal) gets its Chinese from the glossary.
    """
    timeline = _timeline(case)
    provided, missing = _records_lists(case)
    questions = "\n".join(f"{n}. {q}" for n, q in enumerate(case.questions, 1))
    drafts: dict[str, tuple[str, str]] = {
        SummarySection.Key.BACKGROUND: (
            f"Medical area: {case.get_medical_area_display()}. "
            f"Age: {_age(case)} years.\n\nDiagnosis as described by the patient: "
            f"{case.diagnosis}\n\nTreatment so far: {case.treatment_so_far or 'not stated'}"
            f"\n\nCurrent treatment plan: {case.treatment_plan or 'not stated'}",
            "",
        ),
        SummarySection.Key.TIMELINE: timeline,
        SummarySection.Key.CURRENT_CONCERN: (case.worries or "", ""),
        SummarySection.Key.GOAL: (
            case.get_goal_display(),
            glossary.GOALS.get(case.goal, ""),
        ),
        SummarySection.Key.QUESTIONS: (questions, ""),
        SummarySection.Key.RECORDS_PROVIDED: provided,
        SummarySection.Key.RECORDS_MISSING: missing,
    }
    sections = []
    with transaction.atomic():
        for key, (text_en, text_zh) in drafts.items():
            section, _ = SummarySection.objects.get_or_create(case=case, key=key)
            changed = False
            if section.state_en == TextState.NOT_STARTED and not section.text_en:
                section.text_en, section.state_en, changed = text_en, TextState.DRAFT, True
            if section.state_zh == TextState.NOT_STARTED and not section.text_zh and text_zh:
                section.text_zh, section.state_zh, changed = text_zh, TextState.DRAFT, True
            if changed:
                section.updated_by = by
                section.version += 1
                section._change_reason = "Drafted from the enquiry and records"
                section._history_user = by
                section.save()
            sections.append(section)
        audit_log(action=AuditEvent.Action.SUMMARY_DRAFTED, actor=by, case=case, request=request)
    return sorted(sections, key=lambda s: s.order)


def _age(case: Case) -> int:
    from cases.validators import age_in_years

    return age_in_years(case.patient_date_of_birth)


class StaleEdit(Exception):
    """Someone saved the section after this editor opened it."""

    def __init__(self, current: SummarySection) -> None:
        super().__init__("This section was changed by someone else while you were editing.")
        self.current = current


@dataclass(frozen=True)
class SectionEdit:
    text_en: str
    state_en: str
    text_zh: str
    state_zh: str
    base_version: int


def can_edit_english(user) -> bool:
    return user.has_perm("cases.change_summarysection")


def can_edit_chinese(user) -> bool:
    return user.has_perm("cases.translate_summarysection")


def summary_section_save(
    *, section: SummarySection, edit: SectionEdit, by, request: HttpRequest | None = None
) -> SummarySection:
    """Save one section if nobody else saved it first (optimistic locking).

    A translator may change only the Chinese side; an attempt to change the English is
    refused, not silently dropped.
    """
    english_changed = (edit.text_en, edit.state_en) != (section.text_en, section.state_en)
    chinese_changed = (edit.text_zh, edit.state_zh) != (section.text_zh, section.state_zh)
    if english_changed and not can_edit_english(by):
        raise PermissionDenied("You can edit only the Chinese text of a summary.")
    if chinese_changed and not can_edit_chinese(by):
        raise PermissionDenied("You cannot edit the Chinese text of a summary.")
    fields = {}
    if english_changed:
        fields.update(text_en=edit.text_en, state_en=edit.state_en)
    if chinese_changed:
        fields.update(text_zh=edit.text_zh, state_zh=edit.state_zh)
    if not fields:
        return section
    with transaction.atomic():
        saved = SummarySection.objects.select_for_update().get(pk=section.pk)
        if saved.version != edit.base_version:
            raise StaleEdit(saved)
        for name, value in fields.items():
            setattr(saved, name, value)
        saved.version += 1
        saved.updated_by = by
        saved._history_user = by
        saved._change_reason = "Edited"
        saved.save()
        sides = [side for side, on in (("en", english_changed), ("zh", chinese_changed)) if on]
        audit_log(
            action=AuditEvent.Action.SUMMARY_EDITED,
            actor=by,
            case=saved.case,
            target=saved.key,
            request=request,
            sides=sides,
        )
    return saved


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


def directions_suggest(case: Case) -> list[Suggestion]:
    """Directions for the case's medical area, best covered by its records first."""
    present = set(
        case.records.exclude(state=Record.State.REJECTED).values_list("category", flat=True)
    )
    confirmed = {c.direction_id: c for c in case.directions.all()}
    suggestions = [
        Suggestion(
            direction=direction,
            covered=len(present & set(direction.essential_categories)),
            needed=len(direction.essential_categories),
            confirmed=confirmed.get(direction.pk),
        )
        for direction in MedicalDirection.objects.filter(area=case.medical_area)
    ]
    return sorted(
        suggestions, key=lambda s: (s.direction.high_risk, -s.covered, s.direction.name_en)
    )


def direction_confirm(
    *,
    case: Case,
    direction: MedicalDirection,
    rationale: str,
    by,
    request: HttpRequest | None = None,
) -> CaseDirection:
    rationale = rationale.strip()
    if not rationale:
        raise ValidationError("Give the reason this direction fits the case.")
    match, _ = CaseDirection.objects.update_or_create(
        case=case,
        direction=direction,
        defaults={"rationale": rationale, "confirmed_by": by, "confirmed_at": timezone.now()},
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
    by,
    request: HttpRequest | None = None,
) -> CaseOutcome:
    """Show the review's outcome and next steps to the patient and tell them by e-mail."""
    if not opinion_summary.strip() or not next_steps.strip():
        raise ValidationError("Write both the summary of the opinion and the next steps.")
    with transaction.atomic():
        outcome, _ = CaseOutcome.objects.update_or_create(
            case=case,
            defaults={
                "opinion_summary": opinion_summary.strip(),
                "next_steps": next_steps.strip(),
                "written_by": by,
                "released_at": timezone.now(),
            },
        )
        if case.status == Status.SHARED:
            case_transition(
                case=case,
                to=Status.OPINION_RECEIVED,
                actor=by,
                note="Outcome released.",
                request=request,
                notify=False,
            )
        for email in case_manager_emails(case=case):
            notification_queue(
                kind=Notification.Kind.OUTCOME_AVAILABLE,
                to_email=email,
                case=case,
                next_path=f"/my/cases/{case.reference}/",
            )
        audit_log(action=AuditEvent.Action.OUTCOME_RELEASED, actor=by, case=case, request=request)
    return outcome


def case_assign(*, case: Case, coordinator, by, request: HttpRequest | None = None) -> None:
    """A coordinator may take an unassigned case; anything else is a manager's decision."""
    if not by.has_perm("cases.reassign_case"):
        current = Case.objects.filter(pk=case.pk).values_list("assigned_coordinator", flat=True)
        if coordinator != by or current.first() not in (None, by.pk):
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
