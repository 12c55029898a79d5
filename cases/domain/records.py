"""Record vocabulary and the one rule for the names uploaders give their files."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from cases.domain.choices import LabelledChoice


class RecordCategory(LabelledChoice):
    DIAGNOSIS_LETTER = "diagnosis_letter", "Diagnosis or clinic letter"
    REFERRAL = "referral", "Referral letter"
    DISCHARGE = "discharge", "Discharge summary"
    LAB = "lab", "Blood test or lab report"
    IMAGING_REPORT = "imaging_report", "Imaging report"
    IMAGING_STUDY = "imaging_study", "Imaging study (DICOM)"
    PATHOLOGY = "pathology", "Pathology or biopsy report"
    GENETIC = "genetic", "Genetic or molecular test"
    MEDICATIONS = "medications", "Medications and allergies"
    TREATMENT_HISTORY = "treatment_history", "Treatment history"
    IVF_CYCLE = "ivf_cycle", "IVF cycle record"
    REVIEWER_OPINION = "reviewer_opinion", "Reviewer's opinion"
    OTHER = "other", "Other"


# Categories a patient or family member may choose; the reviewer's opinion is uploaded
# by a coordinator.
UPLOADER_CATEGORIES: list[tuple[str, str]] = [
    (value, label)
    for value, label in RecordCategory.choices
    if value != RecordCategory.REVIEWER_OPINION
]

# Characters that can make a file name lie about itself (right-to-left overrides,
# invisible marks) or break a header.
_HIDDEN = {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"} | {
    chr(c) for c in range(0x2066, 0x206A)
}
MAX_NAME = 255


def original_name_clean(name: str) -> str:
    """The uploader's file name made safe to show: no folders, controls or overrides."""
    name = PureWindowsPath(PurePosixPath(name or "").name).name
    name = "".join(
        ch
        for ch in unicodedata.normalize("NFC", name)
        if ch not in _HIDDEN and unicodedata.category(ch)[0] != "C"
    ).strip(" .")
    if not name:
        return "upload"
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME - len(extension) - 2] + "…." + extension
        else:
            name = name[: MAX_NAME - 1] + "…"
    return name


# A photo or scan preview as a case file prints it: the long side in pixels (A4 at about
# 190 dpi) and its JPEG quality. The record checks make it once; case files reuse it.
PAGE_IMAGE_SIDE = 1600
PAGE_IMAGE_QUALITY = 82
