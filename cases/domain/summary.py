"""The case summary's sections and the state of each language's text."""

from __future__ import annotations

from cases.domain.choices import LabelledChoice


class SectionKey(LabelledChoice):
    BACKGROUND = "background", "Background"
    TIMELINE = "timeline", "Timeline"
    CURRENT_CONCERN = "current_concern", "Current concern"
    GOAL = "goal", "The patient's goal"
    QUESTIONS = "questions", "Questions for reviewers"
    RECORDS_PROVIDED = "records_provided", "Records provided"
    RECORDS_MISSING = "records_missing", "Records missing"


class TextState(LabelledChoice):
    NOT_STARTED = "not_started", "Not started"
    DRAFT = "draft", "Draft"
    REVIEWED = "reviewed", "Reviewed"
    # Chinese only, set by the service: the English changed after the Chinese was reviewed.
    NEEDS_UPDATE = "needs_update", "Needs update"
