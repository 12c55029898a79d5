"""Read paths for redaction: who the case is about, and which records still await review."""

from __future__ import annotations

from django.db.models import F

from cases.domain.identifiers import Identity
from cases.models import Case, PartnerCopy, Record, RecordCategory


def case_identity(case: Case) -> Identity:
    """Everything the enquiry says about who the patient is, for the detector."""
    names = [case.patient_name, case.contact_name, case.patient_name_zh]
    other = [line.strip() for line in case.other_identifiers.splitlines() if line.strip()]
    address = [line.strip(" ,") for line in case.address.replace(",", "\n").splitlines()]
    return Identity(
        names=tuple(n for n in names if n.strip()),
        date_of_birth=case.patient_date_of_birth,
        nhs_number=case.nhs_number,
        postcodes=(case.postcode,) if case.postcode.strip() else (),
        phones=(case.contact_phone,) if case.contact_phone.strip() else (),
        emails=(case.contact_email,) if case.contact_email.strip() else (),
        address_lines=tuple(line for line in address if len(line) >= 4),
        providers=(case.current_provider,) if case.current_provider.strip() else (),
        clinicians=tuple(other),
    )


def partner_records(case: Case) -> list[Record]:
    """The records a partner file includes: ready, and not the reviewer's own opinion."""
    return list(
        case.records.ready()
        .exclude(category=RecordCategory.REVIEWER_OPINION)
        .select_related("partner_copy")
        .order_by(F("document_date").asc(nulls_last=True), "created_at")
    )


def partner_copy_of(record: Record) -> PartnerCopy | None:
    try:
        return record.partner_copy
    except PartnerCopy.DoesNotExist:
        return None


def records_awaiting_review(case: Case) -> list[Record]:
    """Included records without a current approved partner copy."""
    waiting = []
    for record in partner_records(case):
        copy = partner_copy_of(record)
        if copy is None or not copy.is_current:
            waiting.append(record)
    return waiting
