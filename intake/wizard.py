"""The enquiry wizard's steps and how answers move between forms and the draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms

from cases.domain.enquiry import ENQUIRY_FIELDS, Enquiry
from intake import enquiry_forms as intake_forms
from intake.models import EnquiryDraft


@dataclass(frozen=True)
class Step:
    slug: str
    form_class: type[intake_forms.StepForm]

    @property
    def title(self) -> str:
        return self.form_class.title


STEPS: list[Step] = [
    Step("who", intake_forms.WhoForm),
    Step("contact", intake_forms.ContactForm),
    Step("patient", intake_forms.PatientForm),
    Step("medical", intake_forms.MedicalForm),
    Step("question", intake_forms.QuestionForm),
    Step("consent", intake_forms.ConsentForm),
]
BY_SLUG = {step.slug: step for step in STEPS}
# Fields that are never stored: the honeypot.
_NOT_STORED = {"website"}
# The cut for typed text whose field sets no limit of its own (choices, dates).
_TYPED_LIMIT = 100


def step_after(slug: str) -> str | None:
    index = [step.slug for step in STEPS].index(slug)
    return STEPS[index + 1].slug if index + 1 < len(STEPS) else None


def to_stored(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Form values as JSON that binds back into the same form unchanged."""
    stored: dict[str, Any] = {}
    for name, value in cleaned.items():
        if name in _NOT_STORED:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = "\n".join(value)
        elif value is None:
            value = ""
        stored[name] = value
    return stored


# Steps whose questions and checks depend on who is filling in the enquiry.
_WHO_AWARE = {"contact", "patient", "consent"}


def step_form(step: Step, draft: EnquiryDraft, **kwargs: Any) -> intake_forms.StepForm:
    """The step's form, told who fills in the enquiry where that changes the words."""
    if step.slug in _WHO_AWARE:
        kwargs["who"] = draft.data.get("who")
    return step.form_class(**kwargs)


def bound_form(step: Step, draft: EnquiryDraft) -> intake_forms.StepForm:
    return step_form(step, draft, data=draft.data.get(step.slug, {}))


def typed_values(form: forms.Form) -> dict[str, str | bool]:
    """What was typed into a form, to show again; bounded, so the draft holds no more.

    Only the form's own fields (never the CSRF token, the honeypot or a file), each cut
    to twice its field's limit: bounded, yet a text pasted over the limit stays over it, so
    the next Continue says so again instead of silently keeping the first part.
    """
    typed: dict[str, str | bool] = {}
    for name, field in form.fields.items():
        if name in _NOT_STORED or isinstance(field, forms.FileField):
            continue
        value = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        if isinstance(value, bool):
            typed[name] = value
        elif isinstance(value, str) and value:
            limit = getattr(field, "max_length", None)
            typed[name] = value[: 2 * limit if limit else _TYPED_LIMIT]
    return typed


def step_initial(step: Step, draft: EnquiryDraft) -> dict[str, Any] | None:
    """What a step's page shows when opened: what was last typed there, else its answers."""
    if step.slug in draft.typed:
        return draft.typed[step.slug]
    return draft.data.get(step.slug)


def first_incomplete(draft: EnquiryDraft) -> Step | None:
    for step in STEPS:
        if step.slug in draft.typed:
            # Sent back with errors: the person was changing these answers, so the
            # earlier ones may no longer be what they mean.
            return step
        if step.slug not in draft.data or not bound_form(step, draft).is_valid():
            return step
    return None


_ASKED_DIFFERENTLY = {"submitted_by_family", "representative_authority"}


def enquiry_from_draft(draft: EnquiryDraft) -> Enquiry:
    """Re-validate every step and build the enquiry; raises ``ValueError`` if incomplete."""
    cleaned: dict[str, Any] = {}
    for step in STEPS:
        form = bound_form(step, draft)
        if step.slug in draft.typed or not form.is_valid():
            raise ValueError(step.slug)
        cleaned.update(form.cleaned_data)
    # The form fields carry the enquiry's names, except these two.
    return Enquiry(
        **{name: cleaned[name] for name in ENQUIRY_FIELDS if name not in _ASKED_DIFFERENTLY},
        submitted_by_family=cleaned["filling_in_for"] == "family",
        representative_authority=cleaned["authority"],
        consents=intake_forms.ConsentForm().consents(),
    )


def _for_someone_else(who_form: forms.Form) -> bool:
    return who_form.is_valid() and who_form.cleaned_data["filling_in_for"] == "family"


def review_rows(draft: EnquiryDraft) -> list[dict[str, Any]]:
    """Each step's answers as label/value pairs for the check-your-answers page."""
    sections = []
    for step in STEPS:
        form = bound_form(step, draft)
        form.is_valid()
        rows = []
        for name, field in form.fields.items():
            if name in _NOT_STORED:
                continue
            if step.slug == "who" and name != "filling_in_for" and not _for_someone_else(form):
                # A patient filling in their own enquiry was never asked these.
                continue
            value = form.cleaned_data.get(name) if form.is_bound else None
            if isinstance(field, forms.ChoiceField) and value:
                # A flat list of (value, label) here; the stubs allow every shape Django does.
                choices: Any = field.choices
                value = dict(choices).get(value, value)
            elif isinstance(field, forms.BooleanField):
                value = "Yes" if value else "No"
            elif isinstance(value, date):
                value = f"{value.day} {value:%B %Y}"
            # Several answers (the questions) read as a list, not as Python's repr.
            items = value if isinstance(value, list) else None
            rows.append({"label": field.label, "value": value, "items": items, "name": name})
        sections.append({"step": step, "title": form.title, "rows": rows})
    return sections
