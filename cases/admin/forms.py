"""Forms of the coordinator's workspace pages and the translators' section editor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from cases.domain.records import UPLOADER_CATEGORIES
from cases.domain.workflow import Status
from cases.models import MedicalDirection, SummarySection, TextState
from cases.summary.services import StaleEdit, section_at_version


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=2000)


class RecordRequestForm(forms.Form):
    categories = forms.MultipleChoiceField(
        label="Records to ask for",
        choices=UPLOADER_CATEGORIES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label="Message the patient will read in their portal",
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        help_text="The e-mail says only that records are needed, with a link: no health details.",
    )


class SectionForm(forms.Form):
    base_version = forms.IntegerField(widget=forms.HiddenInput)
    text_en = forms.CharField(
        label="English", required=False, widget=forms.Textarea(attrs={"rows": 6, "cols": 60})
    )
    state_en = forms.ChoiceField(label="English state", choices=TextState.choices)
    text_zh = forms.CharField(
        label="Simplified Chinese",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60, "lang": "zh-Hans"}),
    )
    state_zh = forms.ChoiceField(label="Chinese state", choices=TextState.choices)


class DirectionForm(forms.Form):
    direction = forms.ModelChoiceField(queryset=MedicalDirection.objects.all())
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class OutcomeForm(forms.Form):
    opinion_summary = forms.CharField(
        label="Plain-English summary of the reviewer's opinion",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )
    next_steps = forms.CharField(
        label="Next steps",
        help_text="More records, hospital communication, appointment planning, translation, "
        "travel feasibility, what to share with their UK clinicians.",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )
    opinion_file = forms.FileField(
        label="The reviewer's opinion (PDF or image, optional)", required=False
    )


class SummarySectionForm(forms.ModelForm):
    """Carries the version the editor started from, so a later save by someone else is
    caught before anything is overwritten."""

    base_version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = SummarySection
        fields = ["text_en", "state_en", "text_zh", "state_zh"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["base_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.instance.pk is None:
            return data
        try:
            current = section_at_version(self.instance.pk, data.get("base_version") or 0)
        except StaleEdit as conflict:
            # The typed text stays in the form; the other version is shown beside it.
            raise ValidationError(
                "Someone else saved this section while you were editing. Your text is still "
                "below; their version — English: %(en)s — Chinese: %(zh)s. Save again to "
                "replace theirs.",
                params={
                    "en": conflict.current.text_en or "(empty)",
                    "zh": conflict.current.text_zh or "(empty)",
                },
            ) from conflict
        data["base_version"] = current.version
        return data
