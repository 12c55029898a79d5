"""A case with everything a patient's data can be spread over, and ways to count it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.files.base import ContentFile

from cases import services
from cases.models import Case
from cases.records import processing
from cases.records import services as records
from tests.factories import MembershipFactory, UserFactory, patient_case
from tests.records_support import jpeg_bytes, pdf_bytes

IDENTIFIERS = {
    "name": "Philippa Quennell-Marsh",
    "email": "philippa.qm@example.org",
    "phone": "+447700900456",
    "nhs_number": "4857773456",
    "diagnosis": "Zanderfield lymphoma, stage IIb",
}


def full_case(**fields) -> tuple[Case, object]:
    """A case with checked records (original, clean copy, thumbnail), a family member and
    a consent; files exist in private storage."""
    case, membership = patient_case(
        **{
            "patient_name": IDENTIFIERS["name"],
            "contact_name": IDENTIFIERS["name"],
            "contact_email": IDENTIFIERS["email"],
            "contact_phone": IDENTIFIERS["phone"],
            "nhs_number": IDENTIFIERS["nhs_number"],
            "diagnosis": IDENTIFIERS["diagnosis"],
            "patient_date_of_birth": date(1958, 2, 14),
            **fields,
        }
    )
    services.consent_give(case=case, kind="processing", user=membership.user)
    helper = UserFactory(email=f"helper.{case.contact_email}")
    MembershipFactory(case=case, user=helper, role="contributor", can_view_all_records=True)
    for marker, content in (("letter.pdf", pdf_bytes(2, marker="a")), ("scan.jpg", jpeg_bytes())):
        result = records.record_add(
            case=case,
            file=ContentFile(content, name=marker),
            category="diagnosis_letter",
            uploaded_by=membership.user,
            run_checks=False,
        )
        processing.record_process(record_id=result.record.pk)
    return case, membership


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and ".scratch" not in p.parts)
