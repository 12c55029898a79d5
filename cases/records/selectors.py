"""Read paths for records: limits, storage used, and the case's record checklist."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat

from cases.models import Case, MedicalDirection, RecordCategory


@dataclass(frozen=True)
class Limits:
    max_file_size: int
    case_quota: int
    max_files: int

    @property
    def types_label(self) -> str:
        return "PDF, JPEG, PNG, HEIC (iPhone photos), WebP, TIFF and DICOM"

    @property
    def max_file_size_label(self) -> str:
        return filesizeformat(self.max_file_size)

    @property
    def case_quota_label(self) -> str:
        return filesizeformat(self.case_quota)


def record_limits() -> Limits:
    return Limits(
        max_file_size=settings.MEDCHINA_MAX_RECORD_SIZE,
        case_quota=settings.MEDCHINA_CASE_QUOTA,
        max_files=settings.DATA_UPLOAD_MAX_NUMBER_FILES,
    )


def case_storage_used(case: Case) -> int:
    return case.records.kept().aggregate(total=Sum("size"))["total"] or 0


@dataclass(frozen=True)
class ChecklistItem:
    category: str
    label: str
    count: int

    @property
    def present(self) -> bool:
        return self.count > 0


def case_checklist(case: Case) -> list[ChecklistItem]:
    """The essential record categories for the case's medical area, and what is there."""
    wanted: list[str] = []
    for direction in MedicalDirection.objects.filter(
        area=case.medical_area, in_area_checklist=True
    ):
        for category in direction.essential_categories:
            if category not in wanted:
                wanted.append(category)
    counts: dict[str, int] = {}
    for category in case.records.kept().values_list("category", flat=True):
        counts[category] = counts.get(category, 0) + 1
    labels = dict(RecordCategory.choices)
    order = list(labels)
    wanted.sort(key=lambda c: order.index(c) if c in order else len(order))
    return [ChecklistItem(c, labels.get(c, c), counts.get(c, 0)) for c in wanted]
