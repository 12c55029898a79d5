"""A coordinator's day on the demo data, in the browser, second factor included."""

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from cases import services
from cases.domain.consents import ConsentKind
from cases.domain.workflow import Status
from cases.models import Case, CaseDirection, SummarySection

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_coordinators_day(browser, live_server):
    call_command("seed_demo")
    case = Case.objects.get(contact_email="wei.chen@example.org")  # fertility, drafting
    device = TOTPDevice.objects.get(user__username="coordinator")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    # Tasks run eagerly in tests: the partner file is made and verified (OCR of every page)
    # inside the request.
    page.set_default_navigation_timeout(300_000)

    page.goto("/admin/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill("demo-coordinator-2026")
    page.get_by_label("OTP Token").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Log in").click()
    # django-otp asks which device once it knows who is signing in.
    page.locator('select[name="otp_device"]').select_option(device.persistent_id)
    page.get_by_label("Password").fill("demo-coordinator-2026")
    page.get_by_label("OTP Token").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Workspace")).to_be_visible()

    # The queue, filtered.
    page.goto("/admin/cases/case/")
    expect(page).to_have_url(f"{live_server.url}/admin/cases/case/?assigned=me")
    page.get_by_role("link", name="Drafting").click()
    expect(page.get_by_role("link", name=case.reference)).to_be_visible()
    assert "0/3" in page.locator("#result_list td.field-completeness").first.inner_text()
    page.get_by_role("link", name=case.reference).click()

    # Request records, pre-filled from the checklist.
    page.get_by_role("link", name="Request missing records").click()
    message = page.get_by_label("Message the patient will read in their portal")
    assert "IVF cycle record" in message.input_value()
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".messagelist")).to_contain_text("asked for the records")
    case.refresh_from_db()
    assert case.status == Status.AWAITING_RECORDS

    # Back to drafting, then draft and edit the summary, with a Chinese translation.
    page.locator('button[value="drafting"]').click()
    page.get_by_role("link", name="Case summary (English and Chinese)").click()
    page.get_by_role("button", name="Draft summary").click()
    concern = page.locator("#section-current_concern")
    concern.get_by_label("English:", exact=True).fill("Three failed IVF cycles; unexplained.")
    concern.get_by_label("Simplified Chinese").fill("三次试管婴儿周期失败，原因不明。")
    concern.get_by_label("Chinese state").select_option("draft")
    concern.get_by_role("button", name="Save current concern").click()
    expect(page.locator(".messagelist")).to_contain_text("Current concern saved")
    section = SummarySection.objects.get(case=case, key="current_concern")
    assert section.text_zh == "三次试管婴儿周期失败，原因不明。"

    # Confirm a direction.
    page.goto(f"/admin/cases/case/{case.pk}/directions/")
    page.get_by_label("Direction").select_option(label="Assisted reproduction (IVF)")
    page.get_by_label("Rationale:", exact=True).fill(
        "Repeated IVF failure; review of cycles requested."
    )
    page.get_by_role("button", name="Confirm direction").click()
    assert CaseDirection.objects.filter(case=case).count() == 1

    # Review, then a partner case file (the patient has agreed to sharing), then ready.
    page.goto(f"/admin/cases/case/{case.pk}/change/")
    page.locator('button[value="review"]').click()
    expect(page.locator(".messagelist")).to_contain_text("is now Review")
    page.locator('button[value="ready"]').click()
    expect(page.locator(".messagelist")).to_contain_text("partner case file")
    patient = case.memberships.get().user
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=patient)
    page.get_by_role("link", name="PDF case files").click()
    page.get_by_role("button", name="Generate partner file").click()
    # Release is a two-person decision: the coordinator who asked for the file is refused
    # (tests/e2e/test_two_coordinators.py walks the second coordinator's approval).
    expect(page.get_by_text("Ask another coordinator to open this page")).to_be_visible()
    expect(page.get_by_role("button", name="Approve partner file v1")).to_have_count(0)
    case.refresh_from_db()
    assert case.status == Status.REVIEW
    context.close()
