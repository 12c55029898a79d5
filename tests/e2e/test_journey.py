"""A new patient's whole journey, as they would do it, on a phone and on a desktop."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from playwright.sync_api import expect

from cases.models import Case
from intake.models import EnquiryDraft
from tests.e2e.conftest import axe_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def check_page(page, seen: list[str]) -> None:
    seen.append(page.url)
    violations = axe_violations(page)
    assert violations == [], (page.url, violations)
    assert page.csp_violations == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, page.url


def test_a_new_patient_sends_an_enquiry_and_reaches_their_portal(page, live_server):
    seen: list[str] = []
    page.goto("/")
    check_page(page, seen)
    page.get_by_role("link", name="Start your enquiry").click()

    check_page(page, seen)
    page.get_by_role("button", name="Continue").click()  # no answer: an error summary
    assert page.get_by_role("alert").inner_text().startswith("There is a problem")
    check_page(page, seen)
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()

    # Who
    check_page(page, seen)
    page.get_by_label("I am the patient").check()
    page.get_by_role("button", name="Continue").click()

    # Contact: a mistake first, then the fix; what was typed stays.
    page.get_by_label("Your full name").fill("Zoë Ōkafor-李")
    page.get_by_label("Your e-mail address").fill("zoe@example.org")
    page.get_by_label("Your phone number").fill("12")
    page.get_by_label("E-mail", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    check_page(page, seen)
    assert page.get_by_label("Your e-mail address").input_value() == "zoe@example.org"
    page.get_by_role("alert").get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_contact_phone"
    page.get_by_label("Your phone number").fill("07911 123456")
    page.get_by_role("button", name="Continue").click()

    # Patient
    check_page(page, seen)
    page.get_by_label("Patient's full name").fill("Zoë Ōkafor-李")
    page.get_by_label("Patient's date of birth").fill("1968-02-29")
    page.get_by_label("NHS number (optional)").fill("943 476 5919")
    page.get_by_label("Current hospital, NHS trust or private provider").fill("Leeds")
    page.get_by_role("button", name="Continue").click()

    # Medical picture
    check_page(page, seen)
    page.get_by_label("Cancer and oncology").check()
    page.get_by_label("What is the current diagnosis?").fill("Glioblastoma <b>grade 4</b>")
    page.get_by_role("button", name="Continue").click()

    # Question
    check_page(page, seen)
    page.get_by_label("What exactly do you want a second opinion to answer?").fill(
        "Is a second resection possible?\nAre there trials I could join?"
    )
    page.get_by_label("Information: understand the options").check()
    deadline = (date.today() + timedelta(days=30)).isoformat()
    page.get_by_label("Is there a date by which a decision must be made? (optional)").fill(deadline)
    page.get_by_role("button", name="Continue").click()

    # Consent: unticked by default.
    check_page(page, seen)
    processing = page.get_by_label("I agree to my health information being used")
    boundaries = page.get_by_label("I understand what medChina Intake can and cannot do")
    assert not processing.is_checked() and not boundaries.is_checked()
    processing.check()
    boundaries.check()
    page.get_by_role("button", name="Continue").click()

    # Review, with the markup shown as text.
    check_page(page, seen)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    assert "Glioblastoma <b>grade 4</b>" in page.locator("main").inner_text()
    page.get_by_role("button", name="Send enquiry").click()

    check_page(page, seen)
    reference = page.get_by_test_id("reference").inner_text()
    case = Case.objects.get()
    assert reference == case.reference

    # The e-mail, then the sign-in link, then the portal.
    (message,) = mail.outbox
    assert "Glioblastoma" not in message.body
    link = re.search(r"http://\S+/sign-in/link/\S+", message.body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    # The page's script reads the token after "#" and asks whose account it is.
    expect(page.get_by_role("button", name="Continue as")).to_be_visible()
    check_page(page, seen)
    page.get_by_role("button", name="Continue as").click()

    check_page(page, seen)
    assert page.get_by_role("heading", level=1).inner_text() == "My cases"
    page.get_by_role("link", name=f"Case {reference}").click()

    check_page(page, seen)
    assert page.get_by_role("heading", level=1).inner_text() == f"Case {reference}"
    assert "We have received your enquiry" in page.locator("main").inner_text()
    assert "Is a second resection possible?" in page.locator("main").inner_text()
    page.get_by_label("Are my medical records complete enough for review?").check()
    page.get_by_role("button", name="Save my ticks").click()
    assert page.get_by_label("Are my medical records complete enough for review?").is_checked()
    check_page(page, seen)

    assert len(seen) >= 15


def test_the_emergency_path_stores_nothing(page):
    page.goto("/start/")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Please get urgent medical help now"
    assert "call 999" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    assert not Session.objects.exists()
    assert not EnquiryDraft.objects.exists()
    assert not Case.objects.exists()


def test_the_sign_in_page_answers_the_same_for_anyone(page):
    page.goto("/sign-in/")
    assert axe_violations(page) == []
    page.get_by_label("E-mail address").fill("nobody@example.org")
    page.get_by_role("button", name="Send me a sign-in link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
    assert axe_violations(page) == []
    assert mail.outbox == []
