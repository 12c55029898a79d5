"""Token links in a real browser: with JavaScript the '#' token is posted for the person;
without it, they type the code from the e-mail. Either way the account is named first."""

import pytest
from playwright.sync_api import expect
from sesame.utils import get_token

from tests.e2e.conftest import PHONE, axe_violations
from tests.factories import patient_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_a_sign_in_link_names_the_account_and_works_with_or_without_javascript(
    browser, live_server, javascript
):
    case, membership = patient_case(contact_email="margaret@example.org")
    token = get_token(membership.user)
    context = browser.new_context(
        viewport=PHONE, base_url=live_server.url, java_script_enabled=javascript
    )
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"/sign-in/link/#{token}")
    if not javascript:
        page.get_by_label("Sign-in code").fill(token)
        page.get_by_role("button", name="Check my link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Continue as m•••@example.org")
    if javascript:  # axe runs as a script in the page
        assert axe_violations(page) == []
    page.get_by_role("button", name="Continue as m•••@example.org").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My cases")
    assert case.reference in page.locator("main").inner_text()
    # No request the browser made carried the token in its URL.
    assert requested and not any(token in url for url in requested)
    context.close()
