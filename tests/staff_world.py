"""One case with something in every admin area, and the four staff roles that look at it.

Shared by the staff-scope regression tests and the generated permission matrix, so both
ask the same questions of the same data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile

from cases.casefile.pages import page_name
from cases.domain.workflow import Status
from cases.models import (
    AuditEvent,
    Case,
    CaseFile,
    InternalNote,
    MedicalDirection,
    Notification,
    PartnerCopy,
    Record,
    RecordCategory,
    RedactionPage,
    SummarySection,
)
from cases.models.case import status_change_allowed
from cases.services import audit_log
from tests.factories import CaseFactory, patient_case, staff_in
from tests.records_support import jpeg_bytes, pdf_bytes

# Text that only the case's own pages may ever show: if it appears in a page answered to
# someone without access, the page leaked the case.
SECRET = "SECRET-DIAGNOSIS-7Q"
NHS_NUMBER = "9434765919"
PATIENT_EMAIL = "margaret.secret@example.org"


@dataclass
class World:
    case: Case
    mine: object  # coordinator assigned to the case
    other: object  # coordinator of another case: no access to this one
    translator: object
    manager: object
    section: SummarySection
    history_id: int
    record: Record
    case_file: CaseFile
    notification: Notification
    sign_in_notification: Notification
    audit: AuditEvent
    direction: MedicalDirection

    def user(self, role: str):
        return {
            "coordinator-with-access": self.mine,
            "coordinator-without-access": self.other,
            "translator": self.translator,
            "manager": self.manager,
        }[role]

    def leaked_in(self, body: str) -> list[str]:
        """What of the case a page shows: empty for someone who may not see it."""
        texts = (SECRET, NHS_NUMBER, PATIENT_EMAIL, self.case.reference)
        return [text for text in texts if text in body]


ROLES = ["coordinator-with-access", "coordinator-without-access", "translator", "manager"]


def build_world(status: str = Status.DRAFTING) -> World:
    """The case is being drafted unless told otherwise: the state of the original finding
    (another coordinator's case in drafting, its summary history readable and writable),
    and one in which translators work on it."""
    mine = staff_in("coordinator", username="coord-mine")
    other = staff_in("coordinator", username="coord-other")
    translator = staff_in("translator", username="translator")
    manager = staff_in("manager", username="manager")
    case, patient = patient_case(
        assigned_coordinator=mine,
        contact_email=PATIENT_EMAIL,
        diagnosis=f"{SECRET} metastatic melanoma",
        nhs_number=NHS_NUMBER,
    )
    case.status = status
    with status_change_allowed():  # test set-up: the case as the workflow left it
        case.save(update_fields=["status"])
    # The other coordinator has work of their own, so "no access" is about this case only.
    CaseFactory(assigned_coordinator=other)
    section = SummarySection.objects.create(
        case=case, key="background", text_en=f"NHS {NHS_NUMBER}: {SECRET}", text_zh=""
    )
    section.text_en += " (checked)"
    section.save()
    history_id = section.history.order_by("history_date").first().history_id
    pdf = pdf_bytes(marker="record")
    record = Record.objects.create(
        case=case,
        category=RecordCategory.PATHOLOGY,
        original_name="pathology.pdf",
        original=ContentFile(pdf, name="original.pdf"),
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        sniffed_type="application/pdf",
        derivative=ContentFile(pdf, name="clean.pdf"),
        derivative_type="application/pdf",
        thumbnail=ContentFile(jpeg_bytes(), name="thumb.jpg"),
        state=Record.State.READY,
        uploaded_by=patient.user,
    )
    # Its redaction proposed, one page waiting for review, so the review pages answer.
    copy = PartnerCopy.objects.create(
        record=record, state=PartnerCopy.State.REVIEW, source_sha256=record.sha256, page_count=1
    )
    RedactionPage.objects.create(
        partner_copy=copy,
        number=1,
        width=120,
        height=90,
        source="text",
        picture=ContentFile(jpeg_bytes(), name="page-1.jpg"),
    )
    case_file = CaseFile.objects.create(
        case=case,
        variant=CaseFile.Variant.INTERNAL,
        version=1,
        state=CaseFile.State.READY,
        file=ContentFile(pdf_bytes(marker="case file"), name="case-file.pdf"),
        preview_pages=1,
    )
    # Its page viewer's first page, so the page image URL has something to answer with.
    case_file.file.storage.save(page_name(case_file, 1), ContentFile(jpeg_bytes()))
    InternalNote.objects.create(case=case, author=mine, text=f"Note: {SECRET}")
    notification = Notification.objects.create(
        case=case, kind=Notification.Kind.STATUS_CHANGED, to_email=PATIENT_EMAIL
    )
    sign_in_notification = Notification.objects.create(
        kind=Notification.Kind.SIGN_IN_LINK, to_email=PATIENT_EMAIL, sign_in_user=patient.user
    )
    audit = audit_log(action=AuditEvent.Action.CASE_SUBMITTED, case=case, target=PATIENT_EMAIL)
    return World(
        case=case,
        mine=mine,
        other=other,
        translator=translator,
        manager=manager,
        section=section,
        history_id=history_id,
        record=record,
        case_file=case_file,
        notification=notification,
        sign_in_notification=sign_in_notification,
        audit=audit,
        direction=MedicalDirection.objects.order_by("pk").first(),
    )
