"""The case summary: drafting it from the enquiry and records, and saving edits safely.

Every section carries a ``version``; an edit made from an older version is refused
(``StaleEdit``) so two people cannot overwrite each other. The admin's summary page and
the translators' section editor both go through ``section_at_version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from cases.access import can_edit_chinese, can_edit_english
from cases.audit import audit_log
from cases.domain import glossary
from cases.domain.validators import age_in_years
from cases.models import AuditEvent, Case, RecordCategory, SummarySection, TextState
from cases.records.selectors import case_checklist
from cases.summary.translation import memory_learn

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest


def _timeline(case: Case) -> tuple[str, str]:
    """One line per record in document-date order; undated records last, said so."""
    provided = case.records.provided().order_by(
        F("document_date").asc(nulls_last=True), "created_at"
    )
    en, zh = [], []
    for record in provided:
        label = record.get_category_display()
        label_zh = glossary.RECORD_CATEGORIES.get(record.category, label)
        detail = f": {record.description}" if record.description else ""
        day_en = f"{record.document_date:%Y-%m-%d}" if record.document_date else "Undated"
        day_zh = f"{record.document_date:%Y-%m-%d}" if record.document_date else "无日期"
        en.append(f"{day_en} — {label}{detail}")
        zh.append(f"{day_zh} — {label_zh}{detail}")
    return "\n".join(en), "\n".join(zh)


def _records_lists(case: Case) -> tuple[tuple[str, str], tuple[str, str]]:
    provided = case.records.provided().values_list("category", flat=True)
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


def summary_draft(
    *, case: Case, by: User, request: HttpRequest | None = None
) -> list[SummarySection]:
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
                _history_note(section, by, "Drafted from the enquiry and records")
                section.save()
            sections.append(section)
        audit_log(action=AuditEvent.Action.SUMMARY_DRAFTED, actor=by, case=case, request=request)
    return sorted(sections, key=lambda s: s.order)


def _history_note(section: SummarySection, by: User, reason: str) -> None:
    """Who made this version and why, as django-simple-history reads them on save."""
    # simple-history's documented hook: attributes it looks for on the instance.
    section._history_user = by  # type: ignore[attr-defined]
    section._change_reason = reason  # type: ignore[attr-defined]


def _age(case: Case) -> int:
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
    # None leaves the reason as it is (translators' forms do not carry it).
    not_needed_reason: str | None = None


def section_at_version(section_id: int, base_version: int, *, lock: bool = False) -> SummarySection:
    """The section as saved now, if nobody saved it since ``base_version``; else StaleEdit.

    ``lock`` takes the row lock for a save (inside a transaction); without it this is the
    early check a form makes so the editor hears about a conflict before saving.
    """
    sections = SummarySection.objects.select_for_update() if lock else SummarySection.objects
    current = sections.get(pk=section_id)
    if current.version != base_version:
        raise StaleEdit(current)
    return current


def _section_changes(section: SummarySection, edit: SectionEdit, by: User) -> dict[str, str]:
    """The fields an edit changes, once it is clear the editor may change them.

    A translator may change only the Chinese side; an attempt to change the English is
    refused, not silently dropped.
    """
    english_changed = (edit.text_en, edit.state_en) != (section.text_en, section.state_en)
    chinese_changed = (edit.text_zh, edit.state_zh) != (section.text_zh, section.state_zh)
    reason = None if edit.not_needed_reason is None else edit.not_needed_reason.strip()
    reason_changed = reason is not None and reason != section.not_needed_reason
    if (english_changed or reason_changed) and not can_edit_english(by):
        raise PermissionDenied("You can edit only the Chinese text of a summary.")
    if chinese_changed and not can_edit_chinese(by):
        raise PermissionDenied("You cannot edit the Chinese text of a summary.")
    if edit.state_en == TextState.NEEDS_UPDATE or (
        edit.state_zh == TextState.NEEDS_UPDATE and section.state_zh != TextState.NEEDS_UPDATE
    ):
        raise ValidationError("“Needs update” is set by the service when the English changes.")
    changes: dict[str, str] = {}
    if english_changed:
        changes.update(text_en=edit.text_en, state_en=edit.state_en)
        # Chinese reviewed against older English no longer says the same thing (the
        # English went from "12 of 14 cycles" to "13 of 14"): ask the translator to look
        # again, unless this same edit reviews the Chinese too.
        if (
            edit.text_en != section.text_en
            and section.state_zh == TextState.REVIEWED
            and edit.state_zh == TextState.REVIEWED
            and edit.text_zh == section.text_zh
        ):
            changes.update(state_zh=TextState.NEEDS_UPDATE)
    if chinese_changed:
        changes.update(text_zh=edit.text_zh, state_zh=edit.state_zh)
    if reason is not None and reason_changed:
        changes.update(not_needed_reason=reason)
    return changes


def _section_write(
    *, section: SummarySection, edit: SectionEdit, by: User, request: HttpRequest | None
) -> SummarySection:
    """Inside a transaction: check, lock, compare versions, write, audit, learn."""
    changes = _section_changes(section, edit, by)
    if not changes:
        return section
    saved = section_at_version(section.pk, edit.base_version, lock=True)
    for name, value in changes.items():
        setattr(saved, name, value)
    saved.version += 1
    saved.updated_by = by
    _history_note(saved, by, "Edited")
    saved.save()
    sides = [
        side
        for side, names in (("en", {"text_en", "state_en"}), ("zh", {"text_zh", "state_zh"}))
        if names & changes.keys()
    ]
    audit_log(
        action=AuditEvent.Action.SUMMARY_EDITED,
        actor=by,
        case=saved.case,
        target=saved.key,
        request=request,
        sides=sides,
    )
    if changes.get("state_zh") == TextState.REVIEWED and saved.text_zh:
        memory_learn(case=saved.case, text_en=saved.text_en, text_zh=saved.text_zh, by=by)
    return saved


def summary_section_save(
    *,
    section: SummarySection,
    edit: SectionEdit,
    by: User,
    request: HttpRequest | None = None,
) -> SummarySection:
    """Save one section if nobody else saved it first (optimistic locking)."""
    with transaction.atomic():
        return _section_write(section=section, edit=edit, by=by, request=request)


def summary_section_text_replace(
    *,
    section: SummarySection,
    field: str,
    text: str,
    by: User,
    request: HttpRequest | None = None,
) -> SummarySection:
    """Replace one side's text of a section, as the summary editor would save it.

    Used where a flagged identifier is fixed outside the editor (the case-files page): the
    edit still bumps the version, names the editor, leaves a history row, and sends
    reviewed Chinese back to "needs update" when the English under it changed.
    """
    if field not in {"text_en", "text_zh"}:
        raise ValidationError("That text cannot be edited here.")
    with transaction.atomic():
        # The row as saved now, locked: the edit applies to what is there, not a stale copy.
        current = SummarySection.objects.select_for_update().get(pk=section.pk)
        edit = SectionEdit(
            text_en=text if field == "text_en" else current.text_en,
            state_en=current.state_en,
            text_zh=text if field == "text_zh" else current.text_zh,
            state_zh=current.state_zh,
            base_version=current.version,
        )
        return _section_write(section=current, edit=edit, by=by, request=request)


class StaleEdits(Exception):
    """Some of several sections were saved by someone else; nothing was saved."""

    def __init__(self, current: dict[str, SummarySection]) -> None:
        super().__init__("Some sections were changed by someone else while you were editing.")
        self.current = current


def summary_sections_save(
    *,
    edits: dict[SummarySection, SectionEdit],
    by: User,
    request: HttpRequest | None = None,
) -> list[SummarySection]:
    """Save several sections together: all of them, or none if any was changed meanwhile."""
    stale: dict[str, SummarySection] = {}
    saved: list[SummarySection] = []
    with transaction.atomic():
        for section, edit in edits.items():
            try:
                saved.append(_section_write(section=section, edit=edit, by=by, request=request))
            except StaleEdit as conflict:
                stale[section.key] = conflict.current
        if stale:
            transaction.set_rollback(True)
    if stale:
        raise StaleEdits(stale)
    return saved
