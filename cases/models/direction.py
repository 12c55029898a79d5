"""China medical directions, the ones confirmed for a case, and the review's outcome."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cases.domain.enquiry import MedicalArea
from cases.models.case import Case

User = settings.AUTH_USER_MODEL


class MedicalDirection(models.Model):
    """A China medical direction a case may be matched to; data, edited in the admin."""

    area = models.CharField(max_length=20, choices=MedicalArea.choices)
    name_en = models.CharField("name (English)", max_length=200)
    name_zh = models.CharField("name (Simplified Chinese)", max_length=200)
    helps_with = models.TextField("what it may help with")
    helps_with_zh = models.TextField("what it may help with (Simplified Chinese)", blank=True)
    cautions = models.TextField(
        blank=True,
        help_text="Required for high-risk directions: eligibility depends on the diagnosis and "
        "indication, clinical assessment, hospital policy, the doctor's decision, institutional "
        "approval and applicable regulations.",
    )
    cautions_zh = models.TextField("cautions (Simplified Chinese)", blank=True)
    keywords = models.CharField(
        max_length=300,
        blank=True,
        help_text="Comma-separated words (e.g. lymphoma, myeloma). When set, the direction is "
        "suggested only for cases whose diagnosis or record descriptions mention one of them.",
    )
    high_risk = models.BooleanField(
        default=False,
        help_text="Eligibility depends on diagnosis, clinical assessment, hospital policy "
        "and regulation (e.g. CAR-T, stem-cell therapy, special-access devices).",
    )
    essential_categories = models.JSONField(
        default=list, help_text="Record categories this direction needs."
    )
    in_area_checklist = models.BooleanField(
        default=True,
        help_text="Its essential records make up the checklist patients in this area see.",
    )

    class Meta:
        ordering = ["area", "name_en"]

    def __str__(self) -> str:
        return self.name_en

    def clean(self) -> None:
        # Eligibility for a high-risk direction is never a given: it always carries a
        # caution, in both languages the case file prints.
        if self.high_risk and not (self.cautions or "").strip():
            raise ValidationError(
                {
                    "cautions": "A high-risk direction needs a caution: say what eligibility "
                    "depends on (diagnosis and indication, clinical assessment, hospital "
                    "policy, the doctor's decision, institutional approval, regulations)."
                }
            )
        if self.high_risk and not (self.cautions_zh or "").strip():
            raise ValidationError(
                {"cautions_zh": "A high-risk direction needs its caution in Chinese too."}
            )

    @property
    def keyword_list(self) -> list[str]:
        return [word.strip().lower() for word in self.keywords.split(",") if word.strip()]


class CaseDirection(models.Model):
    """A medical direction a coordinator confirmed for a case, with the reason."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="directions")
    direction = models.ForeignKey(MedicalDirection, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField()
    rationale_zh = models.TextField("rationale (Simplified Chinese)", blank=True)
    confirmed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "direction"], name="one_match_per_direction")
        ]

    def __str__(self) -> str:
        return f"{self.direction} for {self.case_id}"


class CaseOutcome(models.Model):
    """What came back from the review, explained in plain English, and what comes next."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="outcome")
    opinion_summary = models.TextField("plain-English summary of the opinion")
    next_steps = models.TextField(
        help_text="More records, hospital communication, appointment planning, translation, "
        "travel feasibility, what to share with their UK clinicians."
    )
    written_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Outcome for {self.case_id}"
