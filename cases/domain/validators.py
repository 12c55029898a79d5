"""Rules for the identifiers and dates people type in: plain functions, tested alone."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError

MAX_AGE_YEARS = 120


def nhs_number_clean(value: str) -> str:
    """Return the 10 digits of a valid NHS number, or raise ``ValidationError``.

    Modulus 11: weights 10..2 on the first nine digits; check = 11 - (sum mod 11);
    11 means 0 and 10 means the number cannot be valid.
    """
    digits = re.sub(r"[ \t-]", "", value)
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise ValidationError("Enter the NHS number as 10 digits, like 943 476 5919", code="format")
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise ValidationError(
            "This is not a valid NHS number: the last digit (the check digit) does not "
            "match. Check the number on an NHS letter or in the NHS App, or leave it blank.",
            code="check_digit",
        )
    return digits


def phone_number_clean(value: str, default_region: str = "GB") -> str:
    """Return the number in E.164 form (+447700900123), or raise ``ValidationError``."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            "Enter a phone number, like 07911 123456 or +86 138 0013 8000", code="format"
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "This phone number is not valid. Check the number of digits, and add the "
            "country code (like +86) for a number outside the UK.",
            code="invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def date_of_birth_check(value: date, today: date | None = None) -> None:
    today = today or date.today()
    if value > today:
        raise ValidationError("The date of birth must be in the past", code="future")
    if today.year - value.year > MAX_AGE_YEARS:
        raise ValidationError(
            f"Check the year: the date of birth is more than {MAX_AGE_YEARS} years ago",
            code="too_old",
        )


def deadline_check(value: date, today: date | None = None) -> None:
    today = today or date.today()
    if value < today:
        raise ValidationError("The decision deadline must be today or in the future", code="past")
    if value.year > today.year + 5:
        raise ValidationError("Check the year of the decision deadline", code="too_far")


def age_in_years(born: date, today: date | None = None) -> int:
    today = today or date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
