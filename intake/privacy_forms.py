"""Forms for messages and for the patient's control of their data."""

from __future__ import annotations

from django import forms

from cases.messaging.services import MAX_LENGTH
from cases.models import UPLOADER_CATEGORIES
from intake.portal_forms import MultipleFileField, MultipleFileInput

ACCEPT = ".pdf,.jpg,.jpeg,.png,.heic,.heif,.webp,.tif,.tiff,.dcm,image/*"


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        # No max_length here: the service refuses long text with a message that says how
        # long it is, and nothing is ever cut.
    )
    files = MultipleFileField(  # type: ignore[assignment]
        label="Attach records (optional)",
        help_text="They are checked like any upload and added to the case's records.",
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )
    category = forms.ChoiceField(
        label="What kind of record are the attachments?",
        choices=UPLOADER_CATEGORIES,
        initial="other",
        required=False,
    )

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("files"):
            raise forms.ValidationError("Write a message, or attach a file.")
        if len((data.get("body") or "").strip()) > MAX_LENGTH:
            self.add_error(
                "body",
                f"Your message is {len(data['body'].strip()):,} characters long; the limit is "
                f"{MAX_LENGTH:,}. Please shorten it, or send it in two parts.",
            )
        return data


class ReplaceRecordForm(forms.Form):
    file = forms.FileField(
        label="Choose the new file",
        error_messages={"required": "Choose the file to upload instead"},
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand that everything about this case will be deleted and cannot be "
        "brought back",
        error_messages={"required": "Tick the box to confirm you want this case erased"},
    )
