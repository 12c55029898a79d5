"""Messages between a patient, a family member and a coordinator; a patient downloads
their data and asks for erasure, and afterwards neither a database dump nor the storage
holds anything that identifies them."""

from __future__ import annotations

import os
import subprocess
import zipfile
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from playwright.sync_api import expect

from cases.models import Case
from cases.records import services as records
from tests.e2e.conftest import axe_violations as all_axe_violations
from tests.factories import MembershipFactory, UserFactory, patient_case, staff_in
from tests.records_support import pdf_bytes
from tests.services import require_postgresql

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

IDENTIFIERS = {
    "name": "Rosalind Featherstonehaugh",
    "email": "rosalind.fh@example.org",
    "family e-mail": "tobias.fh@example.org",
    "phone": "+447700900987",
    "nhs number": "9876543210",
    "diagnosis": "Quillwort sarcoma of the left femur",
    "message": "Scan booked for Thursday at Quillwort clinic",
    "date of birth": "1949-11-03",
}


def axe_violations(page) -> list[dict]:
    """Every axe-core violation, of any impact: these pages are new, so none is allowed."""
    return all_axe_violations(page, any_impact=True)


def _case():
    case, membership = patient_case(
        patient_name=IDENTIFIERS["name"],
        contact_name=IDENTIFIERS["name"],
        contact_email=IDENTIFIERS["email"],
        contact_phone=IDENTIFIERS["phone"],
        nhs_number=IDENTIFIERS["nhs number"],
        diagnosis=IDENTIFIERS["diagnosis"],
        patient_date_of_birth=date(1949, 11, 3),
    )
    coordinator = staff_in("coordinator", email="coordinator.e2e@example.org")
    case.assigned_coordinator = coordinator
    case.save(update_fields=["assigned_coordinator"])
    family = MembershipFactory(
        case=case,
        user=UserFactory(email=IDENTIFIERS["family e-mail"]),
        role="contributor",
        can_view_all_records=True,
    )
    return case, membership.user, family.user, coordinator


def _sign_in(context, user):
    from sesame.utils import get_token

    user.refresh_from_db()  # the single-use token depends on the last sign-in
    page = context.new_page()
    # The token travels after "#"; the page's script checks it and names the account.
    page.goto(f"/sign-in/link/#{get_token(user)}")
    page.get_by_role("button", name="Continue as").click()
    return page


def _staff_page(context, staff_login, user, base_url):
    client = staff_login(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )
    return context.new_page()


def test_a_patient_and_a_family_member_exchange_messages_with_a_coordinator(
    browser, live_server, viewport, staff_login
):
    case, patient, relative, coordinator = _case()
    patients = browser.new_context(viewport=viewport, base_url=live_server.url)
    page = _sign_in(patients, patient)
    page.goto(f"/my/cases/{case.reference}/")
    page.get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Your message").fill('<script>alert("x")</script> Is my letter enough?')
    page.get_by_role("button", name="Send message").click()
    expect(page.locator(".alert-success")).to_contain_text("Your message has been sent")
    expect(page.locator("#message-thread")).to_contain_text('<script>alert("x")</script>')
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    family = browser.new_context(viewport=viewport, base_url=live_server.url)
    helper_page = _sign_in(family, relative)
    helper_page.goto(f"/my/cases/{case.reference}/messages/")
    expect(helper_page.locator("#message-thread")).to_contain_text("Is my letter enough?")
    helper_page.get_by_label("Your message").fill("I can bring the scan on Monday.")
    helper_page.get_by_role("button", name="Send message").click()
    expect(helper_page.locator("#message-thread")).to_contain_text("bring the scan")

    staff = browser.new_context(viewport=viewport, base_url=live_server.url)
    admin = _staff_page(staff, staff_login, coordinator, live_server.url)
    admin.goto("/admin/cases/case/?assigned=me")
    expect(admin.locator('[title="2 unread messages"]')).to_be_visible()
    admin.goto(f"/admin/cases/case/{case.pk}/messages/")
    expect(admin.locator(".message-thread")).to_contain_text("bring the scan")
    assert axe_violations(admin) == []
    admin.get_by_label("Your message").fill("Thank you both. The letter is enough for now.")
    admin.get_by_role("button", name="Send to the patient").click()
    expect(admin.locator(".message-thread")).to_contain_text("The letter is enough")

    page.goto("/my/")
    # The family member's message and the reply.
    expect(page.get_by_text("2 new messages")).to_be_visible()
    page.goto(f"/my/cases/{case.reference}/messages/")
    expect(page.locator("#message-thread")).to_contain_text("The letter is enough")
    for context in (patients, family, staff):
        context.close()


def _pg_dump() -> str:
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = ["pg_dump", "--data-only", "--no-owner", "-d", settings["NAME"]]
    if settings.get("HOST"):
        command += ["-h", settings["HOST"]]
    if settings.get("PORT"):
        command += ["-p", str(settings["PORT"])]
    if settings.get("USER"):
        command += ["-U", settings["USER"]]
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout


def test_a_patient_downloads_their_data_asks_for_erasure_and_is_gone(
    browser, live_server, staff_login, private_storage, tmp_path
):
    require_postgresql()
    case, patient, _relative, coordinator = _case()
    records.record_add(
        case=case,
        file=ContentFile(pdf_bytes(marker=IDENTIFIERS["name"]), name="clinic-letter.pdf"),
        category="diagnosis_letter",
        uploaded_by=patient,
    )
    from cases.messaging.services import message_send

    message_send(case=case, author=patient, body=IDENTIFIERS["message"])
    reference = case.reference
    before = _pg_dump()
    assert IDENTIFIERS["diagnosis"] in before  # the dump can see them while they are there

    for viewport in ({"width": 360, "height": 740}, {"width": 1280, "height": 900}):
        context = browser.new_context(
            viewport=viewport, base_url=live_server.url, accept_downloads=True
        )
        page = _sign_in(context, patient)
        # Deleting or replacing an upload: both pages, before anything is changed.
        record = case.records.get()
        for action in ("replace", "delete"):
            page.goto(f"/my/cases/{reference}/records/{record.public_id}/{action}/")
            expect(page.get_by_role("heading", level=1)).to_contain_text("clinic-letter.pdf")
            assert axe_violations(page) == []
        page.goto(f"/my/cases/{reference}/")
        page.get_by_role("link", name="Your data").click()
        assert axe_violations(page) == []
        if viewport["width"] == 360:
            page.get_by_role("button", name="Prepare my download").click()
            expect(page.locator(".alert-success")).to_contain_text("preparing your download")
            page.reload()
            with page.expect_download() as download:
                page.get_by_role("link", name="Download your data (zip").click()
            saved = tmp_path / "my-data.zip"
            download.value.save_as(saved)
            with zipfile.ZipFile(saved) as archive:
                names = archive.namelist()
                assert "enquiry.pdf" in names
                assert IDENTIFIERS["message"] in archive.read("messages.json").decode()
                assert any(
                    n.startswith("records/") and n.endswith("clinic-letter.pdf") for n in names
                )
            assert axe_violations(page) == []
        else:
            page.get_by_label("I understand that everything").check()
            page.get_by_role("button", name="Ask us to erase this case").click()
            expect(page.locator("#erase")).to_contain_text("A coordinator will confirm")
            assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        context.close()

    staff = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    admin = _staff_page(staff, staff_login, coordinator, live_server.url)
    admin.goto(f"/admin/cases/case/{reference}/change/")
    admin.get_by_role("link", name="Erasure requested").click()
    assert axe_violations(admin) == []
    admin.get_by_label("I have checked the request").check()
    admin.get_by_role("button", name="Erase this case").click()
    expect(admin.locator(".messagelist")).to_contain_text(f"{reference} is erased")
    staff.close()

    assert not Case.objects.filter(pk=reference).exists()
    dump = _pg_dump()
    assert reference in dump  # the tombstone
    for label, value in IDENTIFIERS.items():
        assert value not in dump, f"the database still holds the {label}"
        assert value.lower() not in dump.lower(), f"the database still holds the {label}"
    stored = [p for p in private_storage.rglob("*") if p.is_file()]
    for path in stored:
        content = path.read_bytes()
        for label, value in IDENTIFIERS.items():
            assert value.encode() not in content, f"{path} holds the {label}"
    assert not [p for p in stored if ".incoming" not in p.parts and ".scratch" not in p.parts]
