"""What may identify a patient in free text: NHS numbers, postcodes, phones, e-mails,
their date of birth written in any common form, and parts of their names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

PATTERNS: dict[str, re.Pattern[str]] = {
    "NHS number": re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE),
    "phone number": re.compile(r"(?:\+\d{1,3}[\s-]?)?(?:\(?0\d{2,4}\)?[\s-]?)\d{3,4}[\s-]?\d{3,4}"),
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
}


def date_forms(day: date) -> list[str]:
    """The ways a date is commonly written in English and Chinese letters."""
    return [
        day.isoformat(),
        f"{day:%d/%m/%Y}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day} {day:%B %Y}",
        f"{day.day} {day:%b %Y}",
        f"{day.year}年{day.month}月{day.day}日",
    ]


def name_parts(names: Iterable[str]) -> set[str]:
    """Each part of each name that is long enough to search for."""
    return {part for name in names for part in re.split(r"[\s()（）,]+", name) if len(part) >= 2}


def identifiers_in(text: str, *, names: set[str], date_of_birth: date) -> list[tuple[str, str]]:
    """(kind, text) for every possible identifier in ``text``."""
    found: list[tuple[str, str]] = []
    for kind, pattern in PATTERNS.items():
        found += [(kind, m.group(0)) for m in pattern.finditer(text)]
    found += [("date of birth", form) for form in date_forms(date_of_birth) if form in text]
    found += [
        ("name", name)
        for name in names
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)
    ]
    return found
