"""The portal's forms: the preparation checklist, record uploads and family invitations.

The enquiry wizard's forms are in ``intake.forms``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from cases.models import UPLOADER_CATEGORIES
from intake.forms import DateInput, LimitsSaidMixin


class PreparationForm(forms.Form):
    ticked = forms.MultipleChoiceField(
        label="Questions to think about before a second opinion",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, questions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ticked = self.fields["ticked"]
        assert isinstance(ticked, forms.MultipleChoiceField)
        ticked.choices = questions


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list:
        if isinstance(data, (list, tuple)):
            files = [super(MultipleFileField, self).clean(item, initial) for item in data]
        else:
            files = [super().clean(data, initial)] if data else []
        files = [f for f in files if f]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        return files


class RecordUploadForm(LimitsSaidMixin, forms.Form):
    # A form field named like Form.files: Django's metaclass moves it into .fields.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Choose files",
        help_text="You can choose several files at once, or take a photo with your phone.",
        error_messages={"required": "Choose at least one file to upload"},
        widget=MultipleFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,.heic,.heif,.webp,.tif,.tiff,.dcm,image/*"}
        ),
    )
    category = forms.ChoiceField(
        label="What kind of record is it?",
        choices=[("", "Choose a kind of record"), *UPLOADER_CATEGORIES],
        error_messages={"required": "Choose what kind of record this is"},
    )
    document_date = forms.DateField(
        label="Date on the document (optional)",
        help_text="The date the letter, report or test is from, if you know it.",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Enter the document date as a real date, like 3 3 2026"},
    )
    description = forms.CharField(
        label="Description (optional)",
        help_text="For example: MRI report from St James's, March 2026.",
        max_length=500,
        required=False,
    )
    combine = forms.BooleanField(
        label="These photos are the pages of one letter: combine them into one PDF",
        help_text="Choose the photos in page order.",
        required=False,
    )

    def clean_document_date(self) -> date | None:
        value = self.cleaned_data["document_date"]
        if value and value > date.today():
            raise ValidationError("The document date cannot be in the future")
        return value


class ResumableUploadForm(RecordUploadForm):
    """What the chunked uploader declares before the first chunk: the same questions as
    the one-piece form, with the file's name and size instead of the file."""

    files = None  # type: ignore[assignment]
    combine = None  # type: ignore[assignment]
    name = forms.CharField(max_length=1000, error_messages={"required": "The file has no name"})
    size = forms.IntegerField(min_value=0, error_messages={"required": "The file size is missing"})


class InvitationForm(LimitsSaidMixin, forms.Form):
    email = forms.EmailField(
        label="Their e-mail address",
        max_length=254,
        error_messages={
            "required": "Enter the family member's e-mail address",
            "invalid": "Enter an e-mail address in the right format, like name@example.com",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    can_view_all_records = forms.BooleanField(
        label="They may see all records on this case",
        help_text="If you leave this unticked, they can upload records and see only the "
        "ones they uploaded.",
        required=False,
    )
