"""The enquiry wizard's steps, one form each; shared pieces are in ``intake.forms``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from cases.domain import validators
from cases.domain.consents import CURRENT, Authority, ConsentKind, consent_text
from cases.models import ContactMethod, Goal, MedicalArea
from intake.forms import (
    LONG,
    MAX_QUESTIONS,
    SHORT,
    DateInput,
    HoneypotMixin,
    LimitsSaidMixin,
)


def _for_someone_else(who: dict[str, Any] | None) -> bool:
    return who is not None and who.get("filling_in_for") == "family"


class StepForm(LimitsSaidMixin, forms.Form):
    """One step of the enquiry wizard; ``title`` heads its page."""

    title: str = ""


class WhoForm(StepForm):
    title = "Who is filling in this enquiry?"

    filling_in_for = forms.ChoiceField(
        label="Who is filling in this enquiry?",
        choices=[
            ("self", "I am the patient"),
            ("family", "I am a family member or carer, filling it in for the patient"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select who is filling in this enquiry"},
    )
    relationship = forms.CharField(
        label="Your relationship to the patient",
        help_text="For example: daughter, husband, carer. Only if you are not the patient.",
        max_length=100,
        required=False,
    )
    authority = forms.ChoiceField(
        label="What allows you to act for the patient?",
        help_text="Only if you are not the patient. We will not work on an enquiry the "
        "patient does not know about.",
        choices=[
            (
                Authority.PERMISSION,
                "The patient knows about this enquiry and has asked me, "
                "or agreed that I can, fill it in for them",
            ),
            (
                Authority.LPA_HEALTH,
                "I hold a registered lasting power of attorney for "
                "health and welfare for the patient",
            ),
            (Authority.PARENTAL, "I have parental responsibility for the patient, who is under 18"),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    patient_email = forms.EmailField(
        label="The patient's own e-mail address (optional)",
        help_text="If the patient has one, we send them their own link to confirm this "
        "enquiry and follow it. Leave blank if they do not have one.",
        max_length=254,
        required=False,
        error_messages={
            "invalid": "Enter the patient's e-mail address in the right format, like "
            "name@example.com"
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    # Asked only of a family member or carer.
    FAMILY_ONLY = ("relationship", "authority", "patient_email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.FAMILY_ONLY:
            # site.js hides these unless "family" is chosen; without it they stay shown.
            self.fields[name].widget.attrs["data-family-only"] = ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("filling_in_for") == "family":
            if not data.get("relationship", "").strip():
                self.add_error("relationship", "Enter your relationship to the patient")
            if not data.get("authority"):
                self.add_error("authority", "Select what allows you to act for the patient")
        elif data.get("filling_in_for") == "self":
            # A patient who first chose "family" may have left these half filled in:
            # they were never asked of the patient, so neither checked nor kept.
            for name in self.FAMILY_ONLY:
                self.errors.pop(name, None)
                data[name] = ""
        return data


class ContactForm(StepForm):
    title = "Your contact details"

    contact_name = forms.CharField(
        label="Your full name",
        max_length=SHORT,
        error_messages={"required": "Enter your full name"},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_email = forms.EmailField(
        label="Your e-mail address",
        help_text="We send your reference and sign-in links here. We never put medical "
        "details in e-mails.",
        max_length=254,
        error_messages={
            "required": "Enter your e-mail address",
            "invalid": "Enter an e-mail address in the right format, like name@example.com",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    contact_phone = forms.CharField(
        label="Your phone number",
        help_text="A UK number, or any number with its country code, like +86.",
        max_length=32,
        error_messages={"required": "Enter your phone number"},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    preferred_contact = forms.ChoiceField(
        label="How should we contact you?",
        choices=ContactMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how we should contact you"},
    )
    contact_times = forms.CharField(
        label="Best times to contact you (optional)",
        help_text="For example: weekday mornings, UK time.",
        max_length=SHORT,
        required=False,
    )

    def __init__(self, *args: Any, who: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._patient_email = (who or {}).get("patient_email", "") if _for_someone_else(who) else ""

    def clean_contact_email(self) -> str:
        email = self.cleaned_data["contact_email"]
        # The patient's link to confirm must reach the patient, not the representative.
        if self._patient_email and email.strip().lower() == self._patient_email.lower():
            raise ValidationError(
                "This is the patient's e-mail address. Enter your own, so that the patient "
                "gets their own link to confirm the enquiry."
            )
        return email

    def clean_contact_phone(self) -> str:
        return validators.phone_number_clean(self.cleaned_data["contact_phone"])


class PatientForm(StepForm):
    title = "About the patient"

    patient_name = forms.CharField(
        label="Patient's full name",
        help_text="As it appears on their medical records.",
        max_length=SHORT,
        error_messages={"required": "Enter the patient's full name"},
    )
    patient_date_of_birth = forms.DateField(
        label="Patient's date of birth",
        help_text="For example, 27 3 1962.",
        widget=DateInput(),
        error_messages={
            "required": "Enter the patient's date of birth",
            "invalid": "Enter the date of birth as a real date, like 27 3 1962",
        },
    )
    nhs_number = forms.CharField(
        label="NHS number (optional)",
        help_text="10 digits, on NHS letters or in the NHS App. Leave blank if you do not "
        "know it or the patient does not have one.",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )
    current_provider = forms.CharField(
        label="Current hospital, NHS trust or private provider",
        help_text="Where the patient is being treated now.",
        max_length=SHORT,
        error_messages={"required": "Enter the patient's current hospital or provider"},
    )

    def __init__(self, *args: Any, who: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._authority = (who or {}).get("authority", "") if _for_someone_else(who) else ""

    def clean_patient_date_of_birth(self) -> date:
        value = self.cleaned_data["patient_date_of_birth"]
        validators.date_of_birth_check(value)
        # The stated authority must fit the patient's age: parental responsibility is for
        # a child, a lasting power of attorney for an adult.
        adult = _age_on(value, date.today()) >= 18
        if self._authority == Authority.PARENTAL and adult:
            raise ValidationError(
                "Parental responsibility is for a patient under 18. If the patient is an "
                "adult, go back and choose another answer to 'What allows you to act for "
                "the patient?'"
            )
        if self._authority == Authority.LPA_HEALTH and not adult:
            raise ValidationError(
                "A lasting power of attorney is for a patient aged 18 or over. For a child, "
                "go back and choose parental responsibility."
            )
        return value

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data["nhs_number"].strip()
        return validators.nhs_number_clean(value) if value else ""


class MedicalForm(StepForm):
    title = "The medical picture"

    medical_area = forms.ChoiceField(
        label="Which medical area is this about?",
        choices=MedicalArea.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the medical area"},
    )
    diagnosis = forms.CharField(
        label="What is the current diagnosis?",
        help_text="In your own words, as the patient's doctors explained it.",
        max_length=LONG,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the current diagnosis, in your own words"},
    )
    treatment_so_far = forms.CharField(
        label="What treatment has the patient had so far? (optional)",
        max_length=LONG,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    treatment_plan = forms.CharField(
        label="What is the current treatment plan? (optional)",
        max_length=LONG,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    worries = forms.CharField(
        label="What worries you most? (optional)",
        max_length=LONG,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuestionsField(forms.CharField):
    """Several questions in one box, one a line; cleans to a list."""

    widget = forms.Textarea(attrs={"rows": 5})

    def to_python(self, value: Any) -> Any:
        if isinstance(value, list):
            value = "\n".join(value)
        return super().to_python(value)

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        questions = [line.strip(" -•\t") for line in text.splitlines()]
        questions = [q for q in questions if q]
        if not questions:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(questions) > MAX_QUESTIONS:
            raise ValidationError(
                f"Enter at most {MAX_QUESTIONS} questions. Put the most important first.",
                code="too_many",
            )
        return questions


class QuestionForm(StepForm):
    title = "Your question"

    questions = QuestionsField(
        label="What exactly do you want a second opinion to answer?",
        help_text="Write each question on its own line. For example: Is surgery still "
        "an option for me?",
        max_length=LONG,
        error_messages={"required": "Enter at least one question"},
    )
    goal = forms.ChoiceField(
        label="What are you hoping for?",
        choices=Goal.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what you are hoping for"},
    )
    decision_deadline = forms.DateField(
        label="Is there a date by which a decision must be made? (optional)",
        help_text="For example, the date of a planned operation.",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Enter the deadline as a real date, like 14 1 2027"},
    )
    language = forms.CharField(
        label="Preferred language",
        max_length=100,
        initial="English",
        error_messages={"required": "Enter your preferred language"},
    )
    interpretation_needs = forms.CharField(
        label="Do you need an interpreter or other support? (optional)",
        help_text="For example: a Mandarin interpreter for calls, large print.",
        max_length=300,
        required=False,
    )

    def clean_decision_deadline(self) -> date | None:
        value = self.cleaned_data["decision_deadline"]
        if value:
            validators.deadline_check(value)
        return value


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class ConsentForm(HoneypotMixin, StepForm):
    title = "Your consent"

    consent_processing = forms.BooleanField(
        label="I agree to my health information being used to prepare this case",
        help_text=CURRENT[ConsentKind.PROCESSING].text,
        error_messages={
            "required": "You must agree to the use of health information to send an enquiry"
        },
    )
    consent_boundaries = forms.BooleanField(
        label="I understand what medChina Intake can and cannot do",
        help_text=CURRENT[ConsentKind.BOUNDARIES].text,
        error_messages={
            "required": "Confirm that you understand what medChina Intake can and cannot do"
        },
    )

    def __init__(self, *args: Any, who: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _for_someone_else(who):
            # A representative agrees for the patient: the words say so, in the third
            # person, and the texts are the on-behalf versions the consent rows record.
            self.title = "Consent on the patient's behalf"
            processing = self.fields["consent_processing"]
            processing.label = (
                "I agree, on the patient's behalf, to their health information being used "
                "to prepare this case"
            )
            processing.help_text = consent_text(ConsentKind.PROCESSING, on_behalf=True).text
            processing.error_messages["required"] = (
                "You must agree, on the patient's behalf, to the use of their health "
                "information to send an enquiry"
            )
            boundaries = self.fields["consent_boundaries"]
            boundaries.label = (
                "I understand, and will explain to the patient, what medChina Intake can "
                "and cannot do"
            )
            boundaries.help_text = consent_text(ConsentKind.BOUNDARIES, on_behalf=True).text

    def consents(self) -> list[str]:
        return [ConsentKind.PROCESSING, ConsentKind.BOUNDARIES]
