"""The exact wording of each consent, versioned.

A consent row stores the version and the SHA-256 of the text the person saw. To change
the wording, add a new version here; old rows keep pointing at the text they agreed to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cases.domain.choices import LabelledChoice


class ConsentKind(LabelledChoice):
    PROCESSING = "processing", "Processing of health data for case preparation"
    BOUNDARIES = "boundaries", "Acknowledgement of the service's boundaries"
    SHARING = "sharing", "Sharing a pseudonymised case file with China-side reviewers"
    FAMILY_ACCESS = "family_access", "Family member access"


@dataclass(frozen=True)
class ConsentText:
    kind: str
    version: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


CURRENT: dict[str, ConsentText] = {
    ConsentKind.PROCESSING: ConsentText(
        ConsentKind.PROCESSING,
        "2026-11-v1",
        "I agree that medChina Intake may collect, store and use the health information "
        "in this enquiry and in any records uploaded to this case — the diagnosis, "
        "treatment history, medical records, test results and images, together with the "
        "patient's name, date of birth, NHS number and contact details — so that a "
        "coordinator can prepare a case summary and case file. It will not be shared "
        "with anyone outside medChina Intake without a separate consent. I can withdraw "
        "this consent at any time.",
    ),
    ConsentKind.BOUNDARIES: ConsentText(
        ConsentKind.BOUNDARIES,
        "2026-11-v1",
        "I understand that medChina Intake is not a hospital and not an emergency "
        "service. It does not diagnose, prescribe or treat, and it cannot guarantee "
        "eligibility, access to any doctor, hospital, medicine, device or treatment, or "
        "any outcome. Decisions about treatment stay with the patient's own clinicians.",
    ),
    ConsentKind.SHARING: ConsentText(
        ConsentKind.SHARING,
        "2026-11-v1",
        "I agree that a pseudonymised case file — without the patient's name, address, "
        "contact details, NHS number or exact date of birth — may be shared with a "
        "China-side medical team for a second-opinion review. I can withdraw this "
        "consent at any time before the file is shared.",
    ),
}


class Authority(LabelledChoice):
    """What lets a family member or carer act for the patient."""

    PERMISSION = "permission", "The patient's permission"
    LPA_HEALTH = "lpa_health", "Lasting power of attorney for health and welfare"
    PARENTAL = "parental", "Parental responsibility for a child"


# A stated legal authority lets the representative give the consent to share with China
# on the patient's behalf; the patient's permission alone does not: then the patient
# gives it themselves.
LEGAL_AUTHORITIES = frozenset({Authority.LPA_HEALTH, Authority.PARENTAL})

# The same consents, worded for the family member or carer who fills in the enquiry for
# the patient. Separate versions, so each row says which words were agreed to.
ON_BEHALF: dict[str, ConsentText] = {
    ConsentKind.PROCESSING: ConsentText(
        ConsentKind.PROCESSING,
        "2026-11-rep-v1",
        "On the patient's behalf, and under the authority I have stated, I agree that "
        "medChina Intake may collect, store and use the patient's health information in "
        "this enquiry and in any records uploaded to this case — their diagnosis, "
        "treatment history, medical records, test results and images, together with their "
        "name, date of birth, NHS number and contact details — so that a coordinator can "
        "prepare a case summary and case file. It will not be shared with anyone outside "
        "medChina Intake without a separate consent. The patient, or I on their behalf, "
        "can withdraw this consent at any time.",
    ),
    ConsentKind.BOUNDARIES: ConsentText(
        ConsentKind.BOUNDARIES,
        "2026-11-rep-v1",
        "I understand, and will make sure the patient understands, that medChina Intake "
        "is not a hospital and not an emergency service. It does not diagnose, prescribe "
        "or treat, and it cannot guarantee eligibility, access to any doctor, hospital, "
        "medicine, device or treatment, or any outcome. Decisions about the patient's "
        "treatment stay with their own clinicians.",
    ),
    ConsentKind.SHARING: ConsentText(
        ConsentKind.SHARING,
        "2026-11-rep-v1",
        "On the patient's behalf, under the legal authority I have stated, I agree that a "
        "pseudonymised case file — without the patient's name, address, contact details, "
        "NHS number or exact date of birth — may be shared with a China-side medical team "
        "for a second-opinion review. The patient, or I on their behalf, can withdraw "
        "this consent at any time before the file is shared.",
    ),
}


def consent_text(kind: str, *, on_behalf: bool = False) -> ConsentText:
    """The words a person agrees to: their own, or on the patient's behalf."""
    return ON_BEHALF[kind] if on_behalf else CURRENT[kind]
