"""The domain's labelled enums stand in for Django's TextChoices: same behaviour, no ORM."""

import pickle

from cases.domain.consents import ConsentKind
from cases.domain.workflow import Status
from cases.models import Case


def test_a_member_is_its_string_value():
    assert Status.TRIAGE == "triage"
    assert f"{Status.TRIAGE}" == "triage"
    assert {"triage": 1}[Status.TRIAGE] == 1
    assert Status("triage") is Status.TRIAGE


def test_it_has_a_label_and_choices_for_fields():
    assert Status.AWAITING_RECORDS.label == "Awaiting records"
    assert Status.choices[0] == ("submitted", "Submitted")
    assert Case._meta.get_field("status").choices == Status.choices
    assert ConsentKind.SHARING.label.startswith("Sharing a pseudonymised case file")


def test_it_survives_pickling_as_the_same_member():
    assert pickle.loads(pickle.dumps(Status.SHARED)) is Status.SHARED  # noqa: S301 (our own bytes)
