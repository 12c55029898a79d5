"""Translation help: a memory of reviewed sentence pairs and an editable medical term list.

The memory learns when a section's Chinese is marked Reviewed: English and Chinese are
split into sentences and paired when the counts agree. Pairs are shared across cases, so
a sentence that could identify someone (a name, a date of birth, an NHS number, a phone
number, a postcode or an e-mail address of the case it came from) is never stored, and no
pair remembers which case it came from.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F

from cases.domain.identifiers import find
from cases.models import Case, MedicalTerm, TranslationUnit
from cases.records.redaction.selectors import case_identity

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_SENTENCE_EN = re.compile(r"(?<=[.!?;])\s+|\n+")
_SENTENCE_ZH = re.compile(r"(?<=[。！？；])|\n+")
FUZZY_AT_LEAST = 0.75
FUZZY_CANDIDATES = 2000
MAX_SUGGESTIONS = 12


def sentences_en(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_EN.split(text or "") if s and s.strip()]


def sentences_zh(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_ZH.split(text or "") if s and s.strip()]


def source_key(sentence: str) -> str:
    normalised = " ".join(sentence.lower().split())
    return hashlib.sha256(normalised.encode()).hexdigest()


@dataclass(frozen=True)
class Suggestion:
    source: str
    target: str
    origin: str


def _identifying(case: Case, sentence: str) -> bool:
    # The same detector as the partner file: a sentence naming anyone is never remembered.
    return bool(find(sentence, case_identity(case)))


def memory_learn(*, case: Case, text_en: str, text_zh: str, by: User) -> int:
    """Remember the reviewed pairs of one section; returns how many were stored."""
    english, chinese = sentences_en(text_en), sentences_zh(text_zh)
    if not english or len(english) != len(chinese):
        return 0
    stored = 0
    with transaction.atomic():
        for en, zh in zip(english, chinese, strict=True):
            if len(en) < 12 or _identifying(case, en) or _identifying(case, zh):
                continue
            unit, created = TranslationUnit.objects.get_or_create(
                source_key=source_key(en),
                defaults={"source": en, "target": zh, "created_by": by},
            )
            if not created and unit.target != zh:
                # The newest reviewed wording wins: translators correct each other.
                TranslationUnit.objects.filter(pk=unit.pk).update(target=zh, reviewed_by=by)
            TranslationUnit.objects.filter(pk=unit.pk).update(uses=F("uses") + 1)
            stored += 1
    return stored


class Suggester:
    """Suggestions for the sections of one page, loading the memory and terms once."""

    def __init__(self) -> None:
        self._candidates: list[TranslationUnit] | None = None
        self._terms: list[MedicalTerm] | None = None

    def _fuzzy(self, sentence: str) -> tuple[TranslationUnit | None, float]:
        if self._candidates is None:
            self._candidates = list(
                TranslationUnit.objects.order_by("-uses", "-pk")[:FUZZY_CANDIDATES]
            )
        best, score = None, 0.0
        for candidate in self._candidates:
            matcher = difflib.SequenceMatcher(None, sentence.lower(), candidate.source.lower())
            if (
                matcher.real_quick_ratio() < FUZZY_AT_LEAST
                or matcher.quick_ratio() < FUZZY_AT_LEAST
            ):
                continue
            ratio = matcher.ratio()
            if ratio > score:
                best, score = candidate, ratio
        return best, score

    def for_text(self, text_en: str) -> list[Suggestion]:
        """Per sentence, the best remembered translation; then the terms the text uses."""
        found: list[Suggestion] = []
        english = sentences_en(text_en)
        if english:
            exact = {
                u.source_key: u
                for u in TranslationUnit.objects.filter(
                    source_key__in=[source_key(s) for s in english]
                )
            }
            for sentence in english:
                unit = exact.get(source_key(sentence))
                if unit:
                    found.append(Suggestion(sentence, unit.target, "memory, exact"))
                    continue
                best, score = self._fuzzy(sentence)
                if best is not None and score >= FUZZY_AT_LEAST:
                    found.append(
                        Suggestion(best.source, best.target, f"memory, {round(score * 100)}% match")
                    )
        if self._terms is None:
            self._terms = list(MedicalTerm.objects.all())
        lowered = (text_en or "").lower()
        for term in self._terms:
            if re.search(rf"(?<!\w){re.escape(term.en.lower())}(?!\w)", lowered):
                found.append(Suggestion(term.en, term.zh, "term list"))
        return found[:MAX_SUGGESTIONS]


def suggestions_for(text_en: str) -> list[Suggestion]:
    return Suggester().for_text(text_en)
