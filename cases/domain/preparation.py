"""The questions the article suggests a patient settles before asking for an opinion."""

from __future__ import annotations

# The article's eight questions to ask before a second opinion abroad. The keys are what a
# patient's ticks store, so existing keys never change meaning.
PREPARATION_QUESTIONS: list[tuple[str, str]] = [
    ("diagnosis", "What is my current diagnosis?"),
    ("question", "What exactly do I want a second opinion to answer?"),
    ("records", "Are my medical records complete enough for review?"),
    ("translation", "Do I need translation or a structured case summary?"),
    ("care_plan", "Will this review change my immediate care plan?"),
    ("goal", "Am I looking for information, treatment exploration or travel planning?"),
    ("uk_clinicians", "How will I discuss the results with my UK clinicians?"),
    ("china_pathway", "What happens if a route in China appears relevant?"),
]


def preparation_keys_clean(ticked: list[str]) -> list[str]:
    """The known question keys among ``ticked``, in the questions' own order."""
    chosen = set(ticked)
    return [key for key, _ in PREPARATION_QUESTIONS if key in chosen]
