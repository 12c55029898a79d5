"""The bilingual case summary, one row per section, with its history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from cases.domain.summary import SectionKey, TextState
from cases.models.case import Case

User = settings.AUTH_USER_MODEL


class SummarySection(models.Model):
    """One section of the case summary, in English and Simplified Chinese.

    ``version`` goes up with every save; an edit based on an older version is refused so
    two coordinators cannot overwrite each other (optimistic locking).
    """

    # The section keys live in cases.domain.summary; ``SummarySection.Key`` reads on.
    Key = SectionKey

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="summary_sections")
    key = models.CharField(max_length=20, choices=Key.choices)
    text_en = models.TextField("English", blank=True)
    text_zh = models.TextField("Simplified Chinese", blank=True)
    state_en = models.CharField(
        max_length=12, choices=TextState.choices, default=TextState.NOT_STARTED
    )
    state_zh = models.CharField(
        max_length=12, choices=TextState.choices, default=TextState.NOT_STARTED
    )
    not_needed_reason = models.CharField(
        "not needed because",
        max_length=300,
        blank=True,
        help_text="Leave empty to print the section. With a reason, it is left out of the "
        "partner file and does not need review.",
    )
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="one_section_per_key")]
        permissions = [("translate_summarysection", "Can edit the Chinese side of summaries")]

    def __str__(self) -> str:
        return f"{self.get_key_display()} ({self.case_id})"

    @property
    def order(self) -> int:
        return list(self.Key).index(self.Key(self.key))
