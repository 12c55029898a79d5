from datetime import date

import pytest
from django.core.exceptions import ValidationError

from cases.domain import validators


def test_a_valid_nhs_number_passes_with_or_without_spaces():
    assert validators.nhs_number_clean("9434765919") == "9434765919"
    assert validators.nhs_number_clean("943 476 5919") == "9434765919"
    assert validators.nhs_number_clean("943-476-5919") == "9434765919"


def test_a_wrong_check_digit_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError) as refused:
        validators.nhs_number_clean("9434765918")
    assert refused.value.code == "check_digit"
    assert "check digit" in refused.value.messages[0]


def test_a_number_whose_check_computes_to_ten_is_never_valid():
    # 1000000010: 1*10 + 1*2 = 12 -> 12 mod 11 = 1 -> check 10: no last digit can match.
    for last in "0123456789":
        with pytest.raises(ValidationError) as refused:
            validators.nhs_number_clean("100000001" + last)
        assert refused.value.code == "check_digit"


def test_a_check_of_eleven_means_zero():
    # 0000000000: sum 0 -> 11 - 0 = 11 -> 0.
    assert validators.nhs_number_clean("0000000000") == "0000000000"


@pytest.mark.parametrize("bad", ["", "123", "94347659190", "94347659a9", "９４３４７６５９１９"])
def test_anything_but_ten_digits_is_a_format_error(bad):
    with pytest.raises(ValidationError) as refused:
        validators.nhs_number_clean(bad)
    assert refused.value.code == "format"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("07911 123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("020 7123 4567", "+442071234567"),
        ("+86 138 0013 8000", "+8613800138000"),
    ],
)
def test_uk_and_international_phone_numbers_are_normalised(typed, expected):
    assert validators.phone_number_clean(typed) == expected


@pytest.mark.parametrize("bad", ["", "hello", "0770", "+44 1234", "<script>"])
def test_invalid_phone_numbers_are_refused(bad):
    with pytest.raises(ValidationError):
        validators.phone_number_clean(bad)


def test_a_date_of_birth_must_be_in_the_past_and_sensible():
    today = date(2026, 11, 25)
    validators.date_of_birth_check(date(1950, 1, 1), today=today)
    validators.date_of_birth_check(today, today=today)  # a newborn
    with pytest.raises(ValidationError, match="in the past"):
        validators.date_of_birth_check(date(2026, 11, 26), today=today)
    with pytest.raises(ValidationError, match="more than 120 years"):
        validators.date_of_birth_check(date(1890, 1, 1), today=today)


def test_a_deadline_cannot_be_in_the_past():
    today = date(2026, 11, 25)
    validators.deadline_check(today, today=today)
    with pytest.raises(ValidationError):
        validators.deadline_check(date(2026, 11, 24), today=today)


def test_age_in_years_counts_birthdays():
    assert validators.age_in_years(date(1970, 11, 26), today=date(2026, 11, 25)) == 55
    assert validators.age_in_years(date(1970, 11, 25), today=date(2026, 11, 25)) == 56
