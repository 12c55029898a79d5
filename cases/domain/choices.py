"""Labelled string enums that fields can use as ``choices`` without importing the ORM.

They behave like Django's ``TextChoices`` where our code relies on it: a member *is* its
string value (so it compares, hashes and saves as one), has a ``label``, and the class has
``choices`` — but they come from ``enum`` alone, so ``cases.domain`` stays free of
``django.db``.

mypy reads a member's ``.value`` as the declared ``(value, label)`` pair; ``str(member)``
is the value, typed as one.
"""

from __future__ import annotations

from enum import EnumType, StrEnum
from typing import TYPE_CHECKING, Any, Self


class _LabelledType(EnumType):
    @property
    def choices(cls) -> list[tuple[str, str]]:
        members: list[LabelledChoice] = list(cls)
        return [(member.value, member.label) for member in members]


class LabelledChoice(StrEnum, metaclass=_LabelledType):
    """Members are declared as ``NAME = "value", "Label for people"``."""

    _value_: str
    label: str

    if not TYPE_CHECKING:
        # Hidden from mypy, which would otherwise read ``Status("triage")`` as a call to
        # this two-argument constructor; the enum machinery calls it once per member.
        def __new__(cls, value: str, label: str) -> Self:
            member = str.__new__(cls, value)
            member._value_ = value
            member.label = label
            return member

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Pickle (Celery, caches) as a lookup by value, like any enum member.
        return type(self), (self._value_,)
