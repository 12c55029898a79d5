"""The enquiry wizard's forms: one topic per page, plain English, hints under labels."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

SHORT = 200
LONG = 5000
MAX_QUESTIONS = 10


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class LimitValidator(MaxLengthValidator):
    """Django's length check, also telling how many characters are over."""

    def __call__(self, value: Any) -> None:
        length = len(value)
        if length > self.limit_value:
            raise ValidationError(
                self.message,
                code=self.code,
                params={
                    "limit_value": f"{self.limit_value:,}",
                    "show_value": f"{length:,}",
                    "excess": f"{length - self.limit_value:,}",
                    "value": value,
                },
            )


class LimitsSaidMixin:
    """Text over a limit is refused with a clear error, never cut short.

    Django copies ``max_length`` into the HTML ``maxlength`` attribute, and browsers then
    drop whatever is typed or pasted beyond it without a word: a 5,640-character
    diagnosis arrived as 5,000. The attribute goes; the server says what is too long and
    by how much, and the form shows every character for the person to shorten.
    """

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            limit = getattr(field, "max_length", None)
            if not limit:
                continue
            field.widget.attrs.pop("maxlength", None)
            field.validators = [
                v for v in field.validators if not isinstance(v, MaxLengthValidator)
            ] + [LimitValidator(limit)]
            label = str(field.label or "This answer").removesuffix(" (optional)").rstrip("?")
            field.error_messages["max_length"] = (
                f"{label}: enter at most %(limit_value)s characters. You have entered "
                "%(show_value)s, so please shorten it by %(excess)s."
            )


class HoneypotMixin(LimitsSaidMixin, forms.Form):
    """A field people never see; bots that fill in every input give themselves away."""

    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def is_bot(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))


class SafetyForm(forms.Form):
    urgent = forms.ChoiceField(
        label="Do any of these apply to the patient right now?",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes or no"},
    )


class SignInForm(HoneypotMixin, forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        help_text="The address you used for your enquiry, or the one your invitation was sent to.",
        max_length=254,
        error_messages={
            "required": "Enter your e-mail address",
            "invalid": "Enter an e-mail address in the right format, like name@example.com",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
