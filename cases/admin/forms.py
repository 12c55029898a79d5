"""Forms of the coordinator's workspace pages and the translators' section editor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from cases.access import Person, can_edit_chinese, can_edit_english
from cases.domain.records import UPLOADER_CATEGORIES
from cases.domain.workflow import Status, WithdrawalChannel
from cases.models import Case, MedicalDirection, RecordCategory, SummarySection, TextState
from cases.summary.services import SectionEdit, StaleEdit, section_at_version


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    # The status the page showed: a click on a stale page is refused, not applied twice.
    expected = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=2000)
    confirm = forms.CharField(required=False)


# What "Are you sure?" says before a final move.
CONSEQUENCES = {
    Status.DECLINED: "The patient is told we cannot help, with your note and kind guidance. "
    "This is final: the case cannot be reopened.",
    Status.CLOSED: "The case is closed for good: no more uploads, changes or files.",
    Status.WITHDRAWN: "The case is withdrawn for good.",
}


class WithdrawForm(forms.Form):
    channel = forms.ChoiceField(
        label="How did the patient ask?",
        choices=[("", "Choose…"), *WithdrawalChannel.choices],
    )
    note = forms.CharField(
        label="Note (what they asked, in their words if you can)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
    )
    confirmed = forms.BooleanField(
        label="I confirm the patient (or the person acting for them) asked us to withdraw.",
        required=False,
    )


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


_WRITTEN_STATES = [c for c in TextState.choices if c[0] != TextState.NEEDS_UPDATE]


class SectionForm(forms.Form):
    """One section of the side-by-side editor, prefixed by its key."""

    base_version = forms.IntegerField(widget=forms.HiddenInput)
    text_en = forms.CharField(
        label="English", required=False, widget=forms.Textarea(attrs={"rows": 8, "lang": "en"})
    )
    state_en = forms.ChoiceField(label="English state", choices=_WRITTEN_STATES)
    text_zh = forms.CharField(
        label="Simplified Chinese",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "lang": "zh-Hans"}),
    )
    state_zh = forms.ChoiceField(label="Chinese state", choices=_WRITTEN_STATES)
    not_needed_reason = forms.CharField(
        label="Not needed because",
        required=False,
        max_length=300,
        help_text="Leave empty to print the section. With a reason it is left out of the "
        "partner file and does not need review.",
    )

    def __init__(self, *args: Any, section: SummarySection, user: Person, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "base_version": section.version,
                "text_en": section.text_en,
                "state_en": section.state_en,
                "text_zh": section.text_zh,
                "state_zh": section.state_zh,
                "not_needed_reason": section.not_needed_reason,
            },
        )
        kwargs["prefix"] = section.key
        super().__init__(*args, **kwargs)
        self.section = section
        if section.state_zh == TextState.NEEDS_UPDATE:
            # Shown as it is until a translator reviews the Chinese again.
            state_zh = self.fields["state_zh"]
            assert isinstance(state_zh, forms.ChoiceField)
            state_zh.choices = [
                *_WRITTEN_STATES,
                (TextState.NEEDS_UPDATE.value, TextState.NEEDS_UPDATE.label),
            ]
        self.english_denied = False
        if not can_edit_english(user):
            for name in ("text_en", "state_en"):
                self.fields[name].disabled = True
            del self.fields["not_needed_reason"]
            # A translator's browser never sends the English; if it comes anyway it is a
            # change they may not make, and it is refused rather than dropped quietly.
            if self.is_bound:
                posted = self.data.get(f"{self.prefix}-text_en")
                self.english_denied = posted is not None and posted != section.text_en
        if not can_edit_chinese(user):
            for name in ("text_zh", "state_zh"):
                self.fields[name].disabled = True

    def edit(self) -> SectionEdit:
        data = self.cleaned_data
        return SectionEdit(
            text_en=data["text_en"],
            state_en=data["state_en"],
            text_zh=data["text_zh"],
            state_zh=data["state_zh"],
            base_version=data["base_version"],
            not_needed_reason=data.get("not_needed_reason"),
        )

    def unsaved(self) -> bool:
        """Whether the boxes hold something the database does not (after another save)."""
        if not self.is_bound or not self.is_valid():
            return False
        edit, section = self.edit(), self.section
        return (edit.text_en, edit.text_zh) != (section.text_en, section.text_zh)


class DirectionForm(forms.Form):
    direction = forms.ModelChoiceField(queryset=MedicalDirection.objects.all())
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    rationale_zh = forms.CharField(
        label="Rationale in Simplified Chinese",
        required=False,
        help_text="Printed beside the English for the reviewers; a translator can add it later.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "lang": "zh-Hans"}),
    )

    def __init__(self, *args: Any, case: Case, show_all: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The case's own area unless the coordinator asks for every direction.
        if not show_all:
            field = self.fields["direction"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = MedicalDirection.objects.filter(area=case.medical_area)


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
    # Checked by the service too: releasing shows the text to the patient and e-mails them.
    confirmed = forms.BooleanField(
        label="I have read this through: the patient may read it now and is e-mailed.",
        required=False,
    )


class OpinionForm(forms.Form):
    opinion_file = forms.FileField(
        label="The reviewer's opinion (PDF or image)",
        help_text="Kept as a record of its own on the case; the patient does not see it as it is.",
    )


class MedicalDirectionForm(forms.ModelForm):
    essential_categories = forms.MultipleChoiceField(
        label="Essential records",
        choices=UPLOADER_CATEGORIES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The records this direction needs; they make up the area's checklist.",
    )

    class Meta:
        model = MedicalDirection
        fields = [
            "area",
            "name_en",
            "name_zh",
            "helps_with",
            "helps_with_zh",
            "high_risk",
            "cautions",
            "cautions_zh",
            "keywords",
            "essential_categories",
            "in_area_checklist",
        ]


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


class StaffMessageForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text="The patient gets an e-mail saying only that there is a new message.",
    )
    attachments = forms.FileField(
        label="Attach records (optional)",
        required=False,
        help_text="Checked like any upload, and added to the case's records.",
    )
    category = forms.ChoiceField(
        label="Kind of record attached",
        choices=RecordCategory.choices,
        initial=RecordCategory.OTHER,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One or several files, each through the same checks as any upload.
        self.fields["attachments"].widget.allow_multiple_selected = True

    def clean_attachments(self) -> list[Any]:
        return self.files.getlist("attachments") if self.files else []
