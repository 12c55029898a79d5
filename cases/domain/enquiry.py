"""What an enquiry is made of: its vocabulary and its fields, declared once.

The wizard fills an ``Enquiry``, ``case_submit`` turns it into a ``Case`` and the
coordinator's case page shows the same fields: all three read ``ENQUIRY_FIELDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from cases.domain.choices import LabelledChoice


class MedicalArea(LabelledChoice):
    CANCER = "cancer", "Cancer and oncology"
    RARE_DISEASE = "rare_disease", "Rare disease and complex diagnosis"
    FERTILITY = "fertility", "Fertility and reproductive medicine"
    EYE_CARE = "eye_care", "Eye care"
    REHABILITATION = "rehabilitation", "Rehabilitation and chronic conditions"
    OTHER = "other", "Other"


class Sex(LabelledChoice):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other or prefers not to say"


class Goal(LabelledChoice):
    INFORMATION = "information", "Information: understand the options"
    TREATMENT = "treatment", "Treatment exploration: could treatment in China be possible?"
    TRAVEL = "travel", "Travel planning: what a visit would involve"


class ContactMethod(LabelledChoice):
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"


@dataclass(frozen=True)
class Enquiry:
    """A complete, validated enquiry as the wizard collected it."""

    submitted_by_family: bool
    relationship: str
    representative_authority: str
    patient_email: str
    contact_name: str
    contact_email: str
    contact_phone: str
    preferred_contact: str
    contact_times: str
    patient_name: str
    patient_date_of_birth: date
    nhs_number: str
    current_provider: str
    medical_area: str
    diagnosis: str
    treatment_so_far: str
    treatment_plan: str
    worries: str
    questions: list[str]
    goal: str
    decision_deadline: date | None
    language: str
    interpretation_needs: str
    consents: list[str]


# Every field an enquiry stores on the case, in the order the wizard asks for them.
ENQUIRY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Enquiry) if f.name != "consents")
