"""A daughter fills in the enquiry for her father; he confirms it from his own e-mail and
then gives the consent to share himself. Phone and desktop, axe-clean at every step."""

import os
import re

import pytest
from django.core import mail

from cases.models import Case, Consent, Membership
from tests.e2e.conftest import axe_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _check(page, name: str) -> None:
    if os.environ.get("MEDCHINA_SCREENSHOTS"):
        path = f"{os.environ['MEDCHINA_SCREENSHOTS']}/{name}-{page.viewport_size['width']}.png"
        page.screenshot(path=path, full_page=True)
    assert axe_violations(page, any_impact=True) == [], (name, page.url)
    assert page.csp_violations == [], name
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name


def _link(message, pattern: str, base: str) -> str:
    return re.search(pattern, message.body).group(0).replace("http://127.0.0.1:8000", base)


def test_a_representatives_enquiry_confirmed_by_the_patient(page, browser, live_server):
    page.goto("/start/")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("I am a family member or carer").check()
    page.get_by_label("Your relationship to the patient").fill("Daughter")
    page.get_by_label("The patient knows about this enquiry and has asked me").check()
    page.get_by_label("The patient's own e-mail address (optional)").fill("arthur@example.org")
    _check(page, "who")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Your full name").fill("Beth Price")
    page.get_by_label("Your e-mail address").fill("beth@example.org")
    page.get_by_label("Your phone number").fill("07911 123456")
    page.get_by_label("E-mail", exact=True).check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Patient's full name").fill("Arthur Price")
    page.get_by_label("Patient's date of birth").fill("1948-06-01")
    page.get_by_label("Current hospital, NHS trust or private provider").fill("Leeds")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Eye care").check()
    page.get_by_label("What is the current diagnosis?").fill("Wet macular degeneration")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("What exactly do you want a second opinion to answer?").fill(
        "Is a different injection schedule worth trying?"
    )
    page.get_by_label("Information: understand the options").check()
    page.get_by_role("button", name="Continue").click()

    # Consents in the third person.
    assert page.get_by_role("heading", level=1).inner_text() == "Consent on the patient's behalf"
    _check(page, "consent")
    page.get_by_label("I agree, on the patient's behalf").check()
    page.get_by_label("I understand, and will explain to the patient").check()
    page.get_by_role("button", name="Continue").click()

    text = page.locator("main").inner_text()
    assert "What allows you to act for the patient?" in text
    assert "arthur@example.org" in text
    _check(page, "review")
    page.get_by_role("button", name="Send enquiry").click()
    case = Case.objects.get()

    # Beth signs in with her link: she cannot consent to sharing on permission alone.
    beth_mail = next(m for m in mail.outbox if m.to == ["beth@example.org"])
    page.goto(_link(beth_mail, r"http://\S+/sign-in/link/\S+", live_server.url))
    page.get_by_role("button", name="Continue as").click()
    page.get_by_role("link", name=f"Case {case.reference}").click()
    sharing = page.locator("#sharing").inner_text()
    assert "must come from Arthur Price themselves" in sharing
    assert page.locator("#sharing-confirm").count() == 0
    _check(page, "representative-case")

    # Arthur opens his own link on his own device and confirms.
    arthur_mail = next(m for m in mail.outbox if m.to == ["arthur@example.org"])
    assert "Wet macular" not in arthur_mail.body
    context = browser.new_context(viewport=page.viewport_size, base_url=live_server.url)
    arthur = context.new_page()
    arthur.csp_violations = []
    arthur.goto(_link(arthur_mail, r"http://\S+/confirm/\S+", live_server.url))
    assert "Beth Price" in arthur.locator("main").inner_text()
    _check(arthur, "confirm")
    arthur.get_by_label("Yes, I know about it and agree").check()
    arthur.get_by_role("button", name="Send my answer").click()
    assert arthur.get_by_role("heading", level=1).inner_text() == f"Case {case.reference}"
    arthur.get_by_label("I agree to sharing a pseudonymised case file").check()
    arthur.get_by_role("button", name="Give consent to sharing").click()
    assert "You agreed on" in arthur.locator("#sharing").inner_text()
    _check(arthur, "patient-case")
    context.close()

    patient = Membership.objects.get(case=case, user__email="arthur@example.org")
    assert patient.role == Membership.Role.PATIENT
    sharing = Consent.objects.get(case=case, kind="sharing")
    assert sharing.given_by == patient.user and sharing.authority == ""

    page.reload()
    assert "Arthur Price confirmed it on" in page.locator("main").inner_text()


def test_the_patient_who_did_not_agree_and_the_links_that_do_nothing(page, browser, live_server):
    from sesame.utils import get_token

    from cases.representatives import confirmation_scope
    from tests.factories import MembershipFactory, UserFactory, patient_case

    case, _ = patient_case(
        submitted_by_family=True,
        relationship="Son",
        representative_authority="permission",
        patient_email="ada@example.org",
        patient_name="Ada Price",
    )
    representative = MembershipFactory(case=case, role=Membership.Role.REPRESENTATIVE)
    patient = UserFactory(username="ada@example.org", email="ada@example.org")
    link = f"/confirm/{case.reference}/#{get_token(patient, scope=confirmation_scope(case))}"

    # The representative, signed in on the same computer, opens the patient's link.
    page.goto(f"/sign-in/link/#{get_token(representative.user)}")
    page.get_by_role("button", name="Continue as").click()
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "This link is for the patient"
    _check(page, "confirmation-other")

    # A mistyped link.
    page.goto("/confirm/MC-0000-0000/")
    assert page.get_by_role("heading", level=1).inner_text() == "This link cannot be used"
    _check(page, "confirmation-invalid")

    # The patient, on their own device, did not agree.
    context = browser.new_context(viewport=page.viewport_size, base_url=live_server.url)
    ada = context.new_page()
    ada.csp_violations = []
    ada.goto(link)
    ada.get_by_role("button", name="Send my answer").click()  # no answer: an error
    assert ada.get_by_role("alert").inner_text().startswith("There is a problem")
    _check(ada, "confirmation-error")
    ada.get_by_label("No, I did not agree to this").check()
    ada.get_by_role("button", name="Send my answer").click()
    assert ada.get_by_role("heading", level=1).inner_text() == "Thank you for telling us"
    _check(ada, "confirmation-disowned")
    context.close()
    case.refresh_from_db()
    assert case.status == "withdrawn"
