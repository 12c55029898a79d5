"""Step 1, "Who is filling in this enquiry?": family-only questions for family only."""

from __future__ import annotations

import pytest

from intake.models import EnquiryDraft

pytestmark = pytest.mark.django_db

FAMILY = {"filling_in_for": "family", "relationship": "Mother", "authority": "parental"}


def test_a_patient_is_not_held_up_by_family_answers_left_from_before(client):
    client.post("/start/", {"urgent": "no"})
    # First "family", with a mistyped patient address; then the patient changes their mind.
    client.post("/start/who/", {**FAMILY, "patient_email": "not-an-address"})
    response = client.post(
        "/start/who/",
        {
            "filling_in_for": "self",
            "relationship": "x" * 500,
            "authority": "parental",
            "patient_email": "not-an-address",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/start/contact/"
    draft = EnquiryDraft.objects.get()
    assert draft.data["who"] == {
        "filling_in_for": "self",
        "relationship": "",
        "authority": "",
        "patient_email": "",
    }
    assert draft.typed == {}


def test_a_family_member_still_gets_the_patient_address_checked(client):
    client.post("/start/", {"urgent": "no"})
    response = client.post("/start/who/", {**FAMILY, "patient_email": "not-an-address"})
    assert "Enter the patient&#x27;s e-mail address in the right format" in response.text
