"""The ``cases`` app's models, one module per area; ``from cases.models import X`` works
for every model and for the domain vocabulary fields use."""

from cases.domain.enquiry import ContactMethod, Goal, MedicalArea
from cases.domain.records import UPLOADER_CATEGORIES, RecordCategory
from cases.domain.summary import TextState
from cases.models.audit import AppendOnlyQuerySet, AuditEvent, Notification
from cases.models.case import (
    Case,
    CaseEvent,
    CaseQuerySet,
    Consent,
    InternalNote,
    Invitation,
    Membership,
    RecordRequest,
    StatusChangeRefused,
)
from cases.models.casefile import CaseFile, IdentifierResolution, _case_file_path
from cases.models.direction import CaseDirection, CaseOutcome, MedicalDirection
from cases.models.message import Message, MessageRead
from cases.models.privacy import DataExport, ErasureRequest, _export_path
from cases.models.record import Record, RecordQuerySet, ResumableUpload, _record_path
from cases.models.redaction import PartnerCopy, RedactionPage
from cases.models.summary import SummarySection
from cases.models.translation import MedicalTerm, TranslationUnit

# Migrations 0001 and 0004 name the upload_to functions as cases.models.<name>.
__migration_names__ = (_case_file_path, _export_path, _record_path)

__all__ = [
    "UPLOADER_CATEGORIES",
    "AppendOnlyQuerySet",
    "AuditEvent",
    "Case",
    "CaseDirection",
    "CaseEvent",
    "CaseFile",
    "CaseOutcome",
    "CaseQuerySet",
    "Consent",
    "ContactMethod",
    "DataExport",
    "ErasureRequest",
    "Goal",
    "IdentifierResolution",
    "InternalNote",
    "Invitation",
    "MedicalArea",
    "MedicalDirection",
    "MedicalTerm",
    "Membership",
    "Message",
    "MessageRead",
    "Notification",
    "PartnerCopy",
    "Record",
    "RecordCategory",
    "RecordQuerySet",
    "RecordRequest",
    "RedactionPage",
    "ResumableUpload",
    "StatusChangeRefused",
    "SummarySection",
    "TextState",
    "TranslationUnit",
]
