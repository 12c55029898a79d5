"""Records from a phone: three files with progress, then ready; a family helper's journey."""

import io
import os
import re

import pikepdf
import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import expect

from cases.models import Record
from tests.e2e.conftest import PHONE, axe_violations
from tests.factories import patient_case

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _files(tmp_path):
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(tmp_path / "clinic-letter.pdf")
    photo = Image.new("RGB", (120, 80), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPS latitude
    photo.save(tmp_path / "ward-photo.jpg", exif=exif.tobytes())
    import pillow_heif

    pillow_heif.register_heif_opener()
    Image.new("RGB", (64, 64), "green").save(tmp_path / "iphone.heic", format="HEIF")
    return [tmp_path / "clinic-letter.pdf", tmp_path / "ward-photo.jpg", tmp_path / "iphone.heic"]


def _sign_in(page, user):
    from sesame.utils import get_token

    # The token travels after "#"; the page's script checks it and names the account.
    page.goto(f"/sign-in/link/#{get_token(user)}")
    page.get_by_role("button", name="Continue as").click()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def test_a_patient_uploads_three_files_from_a_phone(phone_page, tmp_path):
    case, membership = patient_case()
    page = phone_page
    _sign_in(page, membership.user)
    page.goto(f"/my/cases/{case.reference}/")
    assert (
        "Pathology or biopsy report — not uploaded yet" in page.locator("#checklist").inner_text()
    )
    page.get_by_role("link", name="Upload and see records").click()
    assert "Up to 200.0" in page.locator("#limits").inner_text()  # limits before uploading
    assert axe_violations(page) == []

    page.get_by_label("Choose files").set_input_files(_files(tmp_path))
    page.get_by_label("What kind of record is it?").select_option("diagnosis_letter")
    page.get_by_role("button", name="Upload").click()
    # One progress bar a file, filled as each is sent. (Tasks run eagerly in tests, so each
    # upload's request also reads its pages for redaction: allow for OCR on a busy machine.)
    expect(page.locator('#upload-progress progress[value="100"]')).to_have_count(3, timeout=120_000)
    # The page reloads by itself once the checks are done.
    expect(page.locator(".state-ready")).to_have_count(3, timeout=120_000)
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    photo = Record.objects.get(original_name="ward-photo.jpg")
    with photo.derivative.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        assert image.size == (80, 120)  # turned the right way up
        assert not image.getexif()  # no EXIF, no GPS
    heic = Record.objects.get(original_name="iphone.heic")
    assert heic.derivative_type == "image/jpeg"
    assert "Diagnosis or clinic letter — uploaded" in page.locator("#checklist").inner_text()


def test_a_family_member_is_invited_and_uploads(browser, live_server, tmp_path):
    case, membership = patient_case()
    patient_context = browser.new_context(base_url=live_server.url)
    page = patient_context.new_page()
    _sign_in(page, membership.user)
    page.goto(f"/my/cases/{case.reference}/family/")
    page.get_by_label("Their e-mail address").fill("helper@example.org")
    page.get_by_role("button", name="Send invitation").click()
    assert "Waiting for them to accept" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    patient_context.close()

    (invitation,) = [m for m in mail.outbox if "invited" in m.subject]
    link = re.search(r"http://\S+/invitations/\S+", invitation.body).group(0)
    helper_context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    helper = helper_context.new_page()
    helper.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    helper.get_by_role("button", name="Accept the invitation").click()
    assert helper.get_by_role("heading", level=1).inner_text() == "Medical records"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(tmp_path / "discharge.pdf")
    helper.get_by_label("Choose files").set_input_files([tmp_path / "discharge.pdf"])
    helper.get_by_label("What kind of record is it?").select_option("discharge")
    helper.get_by_role("button", name="Upload").click()
    expect(helper.locator(".state-ready")).to_have_count(1, timeout=15000)
    assert "Records you uploaded" in helper.locator("main").inner_text()
    helper_context.close()
    assert Record.objects.get().uploaded_by.email == "helper@example.org"


def test_an_upload_carries_on_after_the_connection_drops(phone_page, tmp_path):
    case, membership = patient_case()
    page = phone_page
    _sign_in(page, membership.user)
    page.goto(f"/my/cases/{case.reference}/records/")
    # A 3 MiB PDF goes up in several chunks; the second chunk's connection is cut.
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.Padding = pikepdf.Stream(pdf, os.urandom(3 * 1024 * 1024))  # incompressible
    pdf.save(tmp_path / "long-scan.pdf")
    patches: list[str] = []

    def drop_second_chunk(route) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        patches.append(route.request.headers.get("upload-offset", ""))
        if len(patches) == 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/records/uploads/*/", drop_second_chunk)
    page.get_by_label("Choose files").set_input_files([tmp_path / "long-scan.pdf"])
    page.get_by_label("What kind of record is it?").select_option("imaging_report")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".state-ready")).to_have_count(1, timeout=30000)
    record = Record.objects.get()
    assert record.size == (tmp_path / "long-scan.pdf").stat().st_size
    # The dropped chunk was sent again from the same offset.
    assert patches[1] == patches[2] and len(patches) >= 3


def test_an_upload_after_an_error_shows_no_old_errors_and_resends_nothing(phone_page, tmp_path):
    """QA finding: after "Upload" with nothing chosen, a good upload reloaded the page by
    repeating the failed POST — the browser asked to resend the form, and "There is a
    problem" stayed on the page over the stored file."""
    case, membership = patient_case()
    page = phone_page
    _sign_in(page, membership.user)
    page.goto(f"/my/cases/{case.reference}/records/")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".error-summary")).to_contain_text("Choose at least one file")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.get_by_label("Choose files").set_input_files(_files(tmp_path)[:1])
    page.get_by_label("What kind of record is it?").select_option("diagnosis_letter")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".state-ready")).to_have_count(1, timeout=15000)
    expect(page.locator(".error-summary")).to_have_count(0)
    assert dialogs == []
    assert Record.objects.filter(case=case).count() == 1
