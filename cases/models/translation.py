"""The translators' shared help: the medical term list and the translation memory."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

User = settings.AUTH_USER_MODEL


class MedicalTerm(models.Model):
    """One entry of the medical term list translators keep: English and Simplified Chinese."""

    en = models.CharField("English", max_length=200, unique=True)
    zh = models.CharField("Simplified Chinese", max_length=200)
    note = models.CharField(max_length=300, blank=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["en"]

    def __str__(self) -> str:
        return f"{self.en} → {self.zh}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.en = " ".join(self.en.split())
        super().save(*args, **kwargs)


class TranslationUnit(models.Model):
    """A reviewed English sentence and its Chinese, offered again as a suggestion.

    Shared by every case, so it keeps no link to the case it came from, and sentences that
    could identify a patient are never stored (``cases.summary.translation.memory_learn``).
    """

    source = models.TextField()
    source_key = models.CharField(max_length=64, unique=True)
    target = models.TextField()
    uses = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uses", "-pk"]

    def __str__(self) -> str:
        return self.source[:60]
