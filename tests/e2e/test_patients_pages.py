"""Issue 13's pages in a real browser, on a phone and a desktop: no axe violations of any
impact, nothing wider than the screen, and tap-to-call links where help is named."""

import os

import pytest
from playwright.sync_api import expect

from cases.domain.workflow import Status
from cases.transitions import case_transition
from tests.e2e.conftest import axe_violations
from tests.factories import MembershipFactory, patient_case

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# Set MEDCHINA_SCREENSHOTS=/some/folder to keep a picture of every page checked.
SHOTS = os.environ.get("MEDCHINA_SCREENSHOTS", "")


def _check(page, name: str) -> None:
    assert axe_violations(page, any_impact=True) == [], name
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, name
    assert page.csp_violations == [], name
    if SHOTS:
        width = page.viewport_size["width"]
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)


def _sign_in(page, user):
    from sesame.utils import get_token

    page.goto(f"/sign-in/link/#{get_token(user)}")
    page.get_by_role("button", name="Continue as").click()


def test_the_contact_page(page):
    page.goto("/")
    page.locator("footer").get_by_role("link", name="Contact us").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Contact us"
    assert page.locator("main").get_by_role("link", name="020 7946 0123").get_attribute("href") == (
        "tel:02079460123"
    )
    assert page.locator("main").get_by_role("link", name="999").get_attribute("href") == "tel:999"
    _check(page, "contact")


def test_the_guidance_page(page):
    page.goto("/")
    page.get_by_role("link", name="Read our guidance", exact=False).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("A second opinion")
    assert page.get_by_role("heading", name="Frequently asked questions").is_visible()
    page.get_by_role("link", name="Questions to ask yourself").click()
    assert page.evaluate("location.hash") == "#questions"
    _check(page, "guidance")


def test_the_privacy_notice(page):
    page.goto("/privacy/")
    assert page.get_by_role("heading", name="Sending a case file to China").is_visible()
    _check(page, "privacy")


def test_the_review_page_lists_the_questions(page):
    from tests.intake.journey import ANSWERS

    page.goto("/start/")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("I am the patient").check()
    page.get_by_role("button", name="Continue").click()
    for slug in ["contact", "patient", "medical", "question", "consent"]:
        page.goto(f"/start/{slug}/")
        for name, value in ANSWERS[slug].items():
            field = page.locator(f"[name={name}]")
            kind = field.first.get_attribute("type")
            if kind == "radio":
                page.locator(f"[name={name}][value='{value}']").check()
            elif kind == "checkbox":
                field.check()
            else:
                field.fill(value)
        page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    items = page.locator("dd ol li").all_inner_texts()
    assert items == ["Is a second resection possible?", "Are there trials I could join?"]
    assert "The patient knows about this enquiry" not in page.locator("main").inner_text()
    _check(page, "review")


def test_the_case_page_with_the_tracker_and_caveats(page):
    case, membership = patient_case(medical_area="cancer", patient_name="Margaret Hughes")
    case_transition(case=case, to=Status.TRIAGE, actor=None)
    case_transition(case=case, to=Status.AWAITING_RECORDS, actor=None)
    _sign_in(page, membership.user)
    assert "Margaret Hughes" in page.locator("main").inner_text()
    page.get_by_role("link", name=f"Case {case.reference}").click()
    current = page.locator("[aria-current=step]")
    assert "Gathering the records" in current.inner_text()
    assert "Waiting for you" in current.inner_text()
    assert page.get_by_role("heading", name="About higher-risk treatments").is_visible()
    _check(page, "case")
    page.goto("/my/")
    _check(page, "portal")


def test_a_helper_sees_the_minimum(page):
    case, _ = patient_case(medical_area="fertility", patient_name="Ada Lovelace")
    helper = MembershipFactory(case=case, role="contributor", can_view_all_records=False)
    _sign_in(page, helper.user)
    assert "Fertility" not in page.locator("main").inner_text()
    page.get_by_role("link", name=f"Case {case.reference}").click()
    text = page.locator("main").inner_text()
    assert "Ada Lovelace" in text and "Records that usually matter" not in text
    assert "Waiting for the patient or their family" not in text  # submitted: waits for us
    _check(page, "helper-case")


def test_someone_elses_invitation_and_a_typed_reference(page, live_server):
    case, membership = patient_case()
    from cases.family import services as family

    invitation = family.invitation_send(
        case=case, email="son@example.org", can_view_all_records=False, invited_by=None
    )
    _sign_in(page, membership.user)
    page.goto(f"/invitations/{invitation.public_id}/#whatever")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "This invitation is for someone else"
    _check(page, "invitation-other")
    page.goto(f"/my/cases/{case.reference.replace('-', '').lower()}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Case {case.reference}"


def test_a_stale_sign_in_link_page(page):
    page.goto("/sign-in/link/#stale")  # the page's script posts it: refused
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This sign-in link has expired or was already used"
    )
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert page.locator("header").count() == 1
    _check(page, "stale-link")


def test_the_staff_lockout_page_is_a_proper_page(page, settings):
    from tests.factories import StaffFactory

    settings.AXES_FAILURE_LIMIT = 2
    StaffFactory(username="coord")
    for _ in range(3):
        page.goto("/admin/login/")
        page.get_by_label("Username").fill("coord")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Staff sign-in is paused for this account"
    )
    _check(page, "locked-out")
