"""Read paths for the summary: a section's history as line diffs, the translation queue."""

from __future__ import annotations

import difflib
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from cases.models import Case, SummarySection, TextState

HISTORY_SHOWN = 20


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    """Line diff as (kind, text) pairs: kind is '+', '-' or ' '."""
    lines = difflib.ndiff(before.splitlines(), after.splitlines())
    return [(line[0], line[2:]) for line in lines if line[:1] in {"+", "-", " "}]


def section_changes(section: SummarySection) -> list[dict[str, Any]]:
    """The latest saved versions of a section, newest first, each with what it changed."""
    versions = list(
        section.history.select_related("history_user").order_by("-history_date")[:HISTORY_SHOWN]
    )
    changes = []
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        changes.append(
            {
                "version": newer,
                "diff_en": _diff(older.text_en if older else "", newer.text_en),
                "diff_zh": _diff(older.text_zh if older else "", newer.text_zh),
            }
        )
    return changes


def translation_queue(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with their Chinese sections counted, the most urgent first.

    "Needs update": the English changed after the Chinese was reviewed. "Not started":
    English is written but no Chinese yet (a section marked not needed is not counted).
    """
    sections = "summary_sections"
    printed = Q(**{f"{sections}__not_needed_reason": ""})
    return cases.annotate(
        needs_update=Count(
            sections, filter=printed & Q(**{f"{sections}__state_zh": TextState.NEEDS_UPDATE})
        ),
        not_started=Count(
            sections,
            filter=printed
            & Q(**{f"{sections}__state_zh": TextState.NOT_STARTED})
            & ~Q(**{f"{sections}__text_en": ""}),
        ),
        zh_draft=Count(sections, filter=printed & Q(**{f"{sections}__state_zh": TextState.DRAFT})),
        zh_reviewed=Count(
            sections, filter=printed & Q(**{f"{sections}__state_zh": TextState.REVIEWED})
        ),
        printed_sections=Count(sections, filter=printed),
        last_change=Max(f"{sections}__updated_at"),
    ).order_by("-needs_update", "-not_started", "submitted_at")
