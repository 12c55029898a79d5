"""Read paths for the summary: a section's history as line diffs."""

from __future__ import annotations

import difflib
from typing import Any

from cases.models import SummarySection

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
