"""What a partner file may contain, and the checks it must pass at request, render and approval.

The partner template never sees the case itself: it gets a ``PartnerView`` made here, which
has no name, address, contact details, NHS number or date of birth to print by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cases.access import sharing_consent_active
from cases.casefile.identifiers import identifier_scan
from cases.domain.validators import age_in_years
from cases.models import Case, CaseFile
from cases.records.redaction.selectors import case_identity, records_awaiting_review


@dataclass(frozen=True)
class PartnerView:
    """The pseudonymised case: reference, age, area, goal, sex and key facts. Nothing that
    names anyone."""

    reference: str
    age: int
    medical_area: str
    medical_area_label: str
    goal: str
    goal_label: str
    # Key facts: clinical, scanned for identifiers like every other printed text.
    sex: str
    sex_label: str
    current_medicines: str
    allergies: str
    other_conditions: str

    def get_medical_area_display(self) -> str:
        return self.medical_area_label

    def get_goal_display(self) -> str:
        return self.goal_label

    def get_sex_display(self) -> str:
        return self.sex_label


def partner_view(case: Case) -> PartnerView:
    return PartnerView(
        reference=case.reference,
        age=age_in_years(case.patient_date_of_birth),
        medical_area=case.medical_area,
        medical_area_label=case.get_medical_area_display(),
        goal=case.goal,
        goal_label=case.get_goal_display(),
        sex=case.sex,
        sex_label=case.get_sex_display(),
        current_medicines=case.current_medicines,
        allergies=case.allergies,
        other_conditions=case.other_conditions,
    )


def partner_file_problems(case: Case) -> list[str]:
    """Why a partner file cannot be made or approved now; empty when it can."""
    problems: list[str] = []
    if not sharing_consent_active(case):
        problems.append(
            "The patient has not given consent to share a case file with China-side "
            "reviewers (or has withdrawn it). Ask them to give it on their case page first."
        )
    hits = identifier_scan(case)
    if hits:
        problems.append(
            f"The text still has {len(hits)} possible identifier(s) (for example a "
            f"{hits[0].kind} in {hits[0].section}). Edit them or mark them as acceptable first."
        )
    waiting = records_awaiting_review(case)
    if waiting:
        labels = ", ".join(
            r.get_category_display()
            + (f" of {r.document_date:%-d %b %Y}" if r.document_date else "")
            for r in waiting[:3]
        )
        more = f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""
        problems.append(
            f"{len(waiting)} record(s) still need their redaction reviewed and approved: "
            f"{labels}{more}."
        )
    return problems


def partner_file_verify(case_file: CaseFile, path: Path) -> list[dict]:
    """Read every page of a rendered partner file (text and OCR) for the case's identifiers."""
    from cases.casefile.verification import verify_pdf  # OCR: only the worker needs it

    identity = case_identity(case_file.case)
    return [
        {"page": f.page, "kind": f.kind, "text": f.text, "seen_in": f.seen_in}
        for f in verify_pdf(path, identity)
    ]
