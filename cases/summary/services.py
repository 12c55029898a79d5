"""The case summary: drafting it from the enquiry and records, and saving edits safely.

Every section carries a ``version``; an edit made from an older version is refused
(``StaleEdit``) so two people cannot overwrite each other. The admin's summary page and
the translators' section editor both go through ``section_at_version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cases.access import can_edit_chinese, can_edit_english
from cases.audit import audit_log
from cases.domain import glossary
from cases.domain.validators import age_in_years
from cases.models import AuditEvent, Case, RecordCategory, SummarySection, TextState
from cases.records.selectors import case_checklist

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest


def _timeline(case: Case) -> tuple[str, str]:
    dated = case.records.timeline().order_by("document_date", "created_at")
    en, zh = [], []
    for record in dated:
        label = record.get_category_display()
        label_zh = glossary.RECORD_CATEGORIES.get(record.category, label)
        detail = f": {record.description}" if record.description else ""
        en.append(f"{record.document_date:%Y-%m-%d} — {label}{detail}")
        zh.append(f"{record.document_date:%Y-%m-%d} — {label_zh}{detail}")
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


def summary_section_save(
    *,
    section: SummarySection,
    edit: SectionEdit,
    by: User,
    request: HttpRequest | None = None,
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
    fields: dict[str, str] = {}
    if english_changed:
        fields.update(text_en=edit.text_en, state_en=edit.state_en)
    if chinese_changed:
        fields.update(text_zh=edit.text_zh, state_zh=edit.state_zh)
    if not fields:
        return section
    with transaction.atomic():
        saved = section_at_version(section.pk, edit.base_version, lock=True)
        for name, value in fields.items():
            setattr(saved, name, value)
        saved.version += 1
        saved.updated_by = by
        _history_note(saved, by, "Edited")
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
