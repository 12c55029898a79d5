"""The family-member questions on "Who is filling in this enquiry?" show only for a family
member; a patient who first chose "family" is not held up by what was left there."""

import pytest
from playwright.sync_api import expect

from intake.models import EnquiryDraft
from tests.e2e.conftest import axe_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_family_questions_show_only_for_a_family_member(page, live_server):
    page.goto("/start/")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()

    relationship = page.get_by_label("Your relationship to the patient")
    patient_email = page.get_by_label("The patient's own e-mail address (optional)")
    expect(relationship).to_be_hidden()
    page.get_by_label("I am a family member or carer").check()
    expect(relationship).to_be_visible()
    expect(page.get_by_text("What allows you to act for the patient?")).to_be_visible()
    patient_email.fill("not-an-address")
    assert axe_violations(page) == []

    page.get_by_label("I am the patient").check()
    expect(patient_email).to_be_hidden()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Your contact details")).to_be_visible()
    assert EnquiryDraft.objects.get().data["who"]["patient_email"] == ""
