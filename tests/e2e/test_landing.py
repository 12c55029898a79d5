import pytest

from tests.e2e.conftest import axe_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_landing_page_is_accessible_and_explains_the_service(page):
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Prepare a medical")
    assert page.get_by_role("link", name="Start your enquiry").is_visible()
    assert "not a hospital" in page.locator("footer").inner_text()
    assert axe_violations(page) == []
    assert page.csp_violations == []


def test_the_skip_link_is_the_first_stop_for_the_keyboard(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_nothing_overflows_a_phone_screen(page):
    page.goto("/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
