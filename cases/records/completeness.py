"""The stored count of a case's missing essential records, kept up to date on every
change so the coordinators' queue can filter on it without scanning records."""

from __future__ import annotations

from cases.domain.workflow import FINAL
from cases.models import Case
from cases.records.selectors import case_checklist


def case_completeness_refresh(case: Case) -> None:
    """Store how many of the area's essential record categories the case still lacks."""
    checklist = case_checklist(case)
    missing = sum(1 for item in checklist if not item.present)
    Case.objects.filter(pk=case.pk).update(
        essentials_total=len(checklist), essentials_missing=missing
    )
    case.essentials_total, case.essentials_missing = len(checklist), missing


def area_completeness_refresh(area: str) -> int:
    """After a direction's checklist changes: refresh the open cases of its area."""
    cases = Case.objects.filter(medical_area=area).exclude(status__in=FINAL)
    for case in cases.iterator():
        case_completeness_refresh(case)
    return cases.count()
