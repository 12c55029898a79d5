"""The case page at 1280 px, by keyboard: a section one jump away, the actions in view."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from cases.domain.workflow import Status
from tests.e2e.test_two_coordinators import _signed_in
from tests.factories import patient_case, staff_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_a_coordinator_jumps_to_a_section_by_keyboard_and_keeps_the_actions(browser, live_server):
    coordinator = staff_in("coordinator", username="alice")
    case, _ = patient_case(status=Status.DRAFTING, assigned_coordinator=coordinator)
    page = _signed_in(browser, live_server, coordinator, width=1280)
    page.goto(f"/admin/cases/case/{case.pk}/change/")
    bar = page.get_by_role("region", name="Actions for this case")

    records_link = bar.get_by_role("navigation", name="Sections of this page").get_by_role(
        "link", name="Records", exact=True
    )
    records_link.focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/admin/cases/case/{case.pk}/change/#records-group")
    heading = page.locator("#records-heading")
    bar_box, heading_box = bar.bounding_box(), heading.bounding_box()
    assert page.evaluate("window.scrollY") > 300  # the page really moved
    assert bar_box["y"] >= 0 and bar_box["y"] + bar_box["height"] <= heading_box["y"], (
        "the section's heading is hidden under the bar"
    )
    expect(bar.get_by_role("button", name="Review")).to_be_in_viewport()
    expect(bar.get_by_role("button", name="Save changes")).to_be_in_viewport()
    # Tab moves on from the jump through the bar's links, all reachable by keyboard.
    records_link.focus()
    page.keyboard.press("Tab")
    expect(bar.get_by_role("link", name="Requests")).to_be_focused()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "case-page-records-1280.png"))
    page.context.close()
