"""A coordinator reviews redaction boxes for a typed letter, a phone photo and a DICOM, then
makes, verifies and approves the partner file; nothing of the patient's identity is left."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from cases import services
from cases.casefile.verification import verify_pdf
from cases.domain.consents import ConsentKind
from cases.domain.workflow import Status
from cases.models import CaseFile, PartnerCopy, RecordCategory, SummarySection, TextState
from cases.records.processing import record_process
from cases.records.redaction.selectors import case_identity
from cases.records.services import record_add
from cases.storage import local_copy
from tests import redaction_support as support
from tests.cases.records.test_redaction_pages import dicom_with_burned_in_text
from tests.e2e.test_two_coordinators import _signed_in as signed_in_as
from tests.factories import patient_case, staff_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("test-artifacts")


def sign_in(page, device) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill("demo-coordinator-2026")
    page.get_by_label("OTP Token").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Log in").click()
    page.locator('select[name="otp_device"]').select_option(device.persistent_id)
    page.get_by_label("Password").fill("demo-coordinator-2026")
    page.get_by_label("OTP Token").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Workspace")).to_be_visible()


def review(page, case, record, *, draw: bool = False, one_step: bool = False) -> None:
    page.goto(f"/admin/cases/case/{case.pk}/records/{record.public_id}/redaction/")
    expect(page.get_by_role("heading", name="Page 1 of 1")).to_be_visible()
    picture = page.locator("#redaction-page img")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator(".redaction-box").count() >= 1
    if draw:
        # A box by hand over the letter's "Clinic date" line, which the detector leaves alone.
        area = page.locator("#redaction-page").bounding_box()
        start = (area["x"] + area["width"] * 0.12, area["y"] + area["height"] * 0.345)
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move(start[0] + area["width"] * 0.3, start[1] + 18, steps=6)
        page.mouse.up()
        expect(page.locator("#drawn-list li")).to_have_count(1)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "redaction-review.png"), full_page=True)
    if one_step:
        # The last page to review offers saving it and approving the copy at once.
        page.get_by_role("button", name="Save page 1 and approve the partner copy").click()
        expect(page.locator(".messagelist")).to_contain_text("Page 1 saved; the partner copy")
        return
    page.get_by_role("button", name="Save page 1", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Page 1 saved")
    page.get_by_role("button", name="Approve the partner copy", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("is approved")


def test_a_coordinator_redacts_three_records_and_releases_a_verified_partner_file(
    browser, live_server, tmp_path
):
    call_command("seed_demo")
    device = TOTPDevice.objects.get(user__username="coordinator")
    # The case is in review, as when a partner file is made: that is when a second
    # coordinator (not assigned to it) opens the case to check and approve it.
    case, membership = patient_case(
        status=Status.REVIEW,
        assigned_coordinator=device.user,
        patient_name="Mark Hope",
        contact_name="Mark Hope",
        patient_date_of_birth=support.IDENTITY.date_of_birth,
        nhs_number="9434765919",
        contact_email="mark.hope@example.org",
        contact_phone="07700 900123",
        current_provider="Leeds Teaching Hospitals NHS Trust",
        postcode="LS1 4AP",
        address="14 Quarry Hill Road, Leeds",
        other_identifiers="Susan Hope-Williams\nDr Priya Shah",
    )
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    for key in SummarySection.Key:
        SummarySection.objects.create(
            case=case,
            key=key,
            text_en=f"{key.label}: HER2-positive breast cancer, treatment options.",
            text_zh=f"{key.label}：HER2阳性乳腺癌。",
            state_en=TextState.REVIEWED,
            state_zh=TextState.REVIEWED,
            updated_by=device.user,
        )

    letter = support.write_letter_pdf(support.letter(3), tmp_path / "letter.pdf")
    photo = support.photograph(
        support.write_letter_pdf(support.letter(4), tmp_path / "l4.pdf"),
        tmp_path / "photo.jpg",
        seed=4,
    ).path
    scan = dicom_with_burned_in_text(tmp_path / "scan.dcm")
    records = []
    for path, category in [
        (letter, RecordCategory.DIAGNOSIS_LETTER),
        (photo, RecordCategory.DIAGNOSIS_LETTER),
        (scan, RecordCategory.IMAGING_STUDY),
    ]:
        added = record_add(
            case=case,
            file=ContentFile(path.read_bytes(), name=path.name),
            category=category,
            run_checks=False,
        ).record
        record_process(record_id=added.pk)  # the redaction task runs eagerly after it
        added.refresh_from_db()
        assert added.partner_copy.state == PartnerCopy.State.REVIEW, added.partner_copy.last_error
        records.append(added)

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # The partner file is made and verified (OCR of every page) inside the request here,
    # since tasks run eagerly in tests: give it time.
    page.set_default_navigation_timeout(300_000)
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    sign_in(page, device)

    # The case page lists each record with its redaction waiting for review.
    page.goto(f"/admin/cases/case/{case.pk}/change/")
    expect(page.get_by_role("link", name="Review the boxes")).to_have_count(3)

    review(page, case, records[0], draw=True)
    review(page, case, records[1], one_step=True)
    review(page, case, records[2])
    drawn = records[0].partner_copy.pages.get().boxes
    assert sum(1 for box in drawn if box["source"] == "coordinator") == 1

    page.goto(f"/admin/cases/case/{case.pk}/case-files/")
    page.get_by_role("button", name="Generate partner file").click(
        timeout=300_000
    )  # made and verified in the request
    expect(page.get_by_text("Verified: no identifiers found")).to_be_visible(timeout=120_000)
    assert violations == []
    context.close()

    # Release is a two-person decision: a second coordinator approves what the first made.
    second = staff_in("coordinator", username="second", first_name="Sam")
    spage = signed_in_as(browser, live_server, second)
    spage.goto(f"/admin/cases/case/{case.pk}/case-files/")
    expect(spage.get_by_text("Verified: no identifiers found")).to_be_visible()
    spage.get_by_role("button", name="Approve partner file v1").click()
    expect(spage.get_by_text("Approved by second on")).to_be_visible()
    spage.context.close()

    partner = CaseFile.objects.get(case=case, variant="partner")
    assert partner.approved_at and partner.page_count and partner.approved_by == second
    with local_copy(partner.file, suffix=".pdf") as path:
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert "Record 3 of 3" in text
        for identifier in ("Hope", "9434765919", "943 476 5919", "LS1 4AP", "07700", "Shah"):
            assert identifier not in text, identifier
        # The independent check again, text and OCR of every page, outside the application.
        assert verify_pdf(path, case_identity(case)) == []
