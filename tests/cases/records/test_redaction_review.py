"""Partner copies end to end without a browser: proposals, review, approval, the partner file."""

from __future__ import annotations

import io
import subprocess
from datetime import date

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from cases import services
from cases.casefile.approval import case_file_approve
from cases.casefile.build import case_file_generate
from cases.casefile.services import CaseFileRefused, case_file_request
from cases.domain.consents import ConsentKind
from cases.models import AuditEvent, CaseFile, PartnerCopy, Record, SummarySection, TextState
from cases.records.processing import record_process
from cases.records.redaction import services as redaction
from cases.records.services import record_add
from cases.storage import local_copy
from tests import redaction_support as support
from tests.cases.records.test_redaction_pages import hostile_pdf
from tests.factories import patient_case, staff_in

pytestmark = pytest.mark.django_db


def hope_case():
    identity = support.IDENTITY
    case, membership = patient_case(
        patient_name="Mark Hope",
        contact_name="Mark Hope",
        patient_date_of_birth=identity.date_of_birth,
        nhs_number=identity.nhs_number,
        contact_email="mark.hope@example.org",
        contact_phone="07700 900123",
        current_provider="Leeds Teaching Hospitals NHS Trust",
        postcode="LS1 4AP",
        address="14 Quarry Hill Road, Leeds",
        other_identifiers="Susan Hope-Williams\nDr Priya Shah",
    )
    return case, membership


def reviewed_summary(case) -> None:
    """Every printed section reviewed in both languages, as approval requires."""
    for key in SummarySection.Key:
        SummarySection.objects.create(
            case=case,
            key=key,
            text_en=f"{key.label} in English",
            text_zh=f"{key.label} 中文",
            state_en=TextState.REVIEWED,
            state_zh=TextState.REVIEWED,
        )


def add_record(case, content: bytes, name: str, run_on_commit, **fields) -> Record:
    with run_on_commit():
        record = record_add(
            case=case,
            file=ContentFile(content, name=name),
            category=fields.pop("category", "diagnosis_letter"),
            document_date=fields.pop("document_date", date(2024, 3, 12)),
            run_checks=False,
        ).record
        record_process(record_id=record.pk)
    record.refresh_from_db()
    return record


@pytest.fixture
def letter_pdf(tmp_path) -> bytes:
    return support.write_letter_pdf(support.letter(1), tmp_path / "letter.pdf").read_bytes()


def test_a_ready_record_gets_proposals_to_review(run_on_commit, letter_pdf):
    case, _ = hope_case()
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    copy = PartnerCopy.objects.get(record=record)
    assert copy.state == PartnerCopy.State.REVIEW
    assert copy.page_count == copy.pages_done == 1
    (page,) = copy.pages.all()
    kinds = {box["kind"] for box in page.boxes}
    assert {"name", "date of birth", "NHS number", "phone number", "e-mail address"} <= kinds
    assert any("LS1 4AP" in box["text"] for box in page.boxes)
    assert page.source == "text" and not page.reviewed and page.picture
    assert not copy.is_current


def test_approval_burns_the_boxes_and_a_changed_record_needs_review_again(
    run_on_commit, letter_pdf
):
    case, _ = hope_case()
    coordinator = staff_in("coordinator")
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    copy = record.partner_copy
    with pytest.raises(redaction.RedactionRefused, match="not been reviewed"):
        redaction.partner_copy_approve(partner_copy=copy, by=coordinator)
    page = copy.pages.get()
    redaction.page_review(page=page, boxes=page.boxes, no_identifiers=False, by=coordinator)
    redaction.partner_copy_approve(partner_copy=copy, by=coordinator)
    copy.refresh_from_db()
    assert copy.is_current and copy.reviewed_by == coordinator
    assert copy.approved_sha256 == record.sha256
    with local_copy(copy.file, suffix=".pdf") as path:
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    assert text.strip() == ""
    audit = AuditEvent.objects.get(action="redaction.approved", case=case)
    assert audit.actor == coordinator and audit.detail["boxes"] == len(page.boxes)
    # The record's content changes (a new version of the file): the approval no longer holds.
    Record.objects.filter(pk=record.pk).update(sha256="0" * 64)
    copy.refresh_from_db()
    assert not copy.is_current


def test_a_page_without_boxes_needs_the_no_identifiers_tick(run_on_commit, letter_pdf):
    case, _ = hope_case()
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    page = record.partner_copy.pages.get()
    with pytest.raises(ValidationError, match="No identifiers on this page"):
        redaction.page_review(page=page, boxes=[], no_identifiers=False, by=staff_in("coordinator"))


def test_handwriting_cannot_be_approved_without_a_person(run_on_commit, tmp_path):
    case, _ = hope_case()
    scribble = support.handwriting(tmp_path / "note.png").read_bytes()
    record = add_record(case, scribble, "note.png", run_on_commit)
    copy = record.partner_copy
    assert copy.unreadable_pages == 1 and copy.pages.get().unreadable
    with pytest.raises(redaction.RedactionRefused, match="review it by eye"):
        redaction.partner_copy_approve(partner_copy=copy, by=None, accept_proposals=True)


def test_a_long_pdf_is_done_in_batches_with_progress(run_on_commit, monkeypatch, tmp_path):
    from weasyprint import HTML

    monkeypatch.setattr(redaction, "BATCH_PAGES", 2)
    html = "".join(
        f'<p style="page-break-after: always">Page {n}: Mr Mark Hope, NHS 943 476 5919</p>'
        for n in range(5)
    )
    pdf = tmp_path / "long.pdf"
    HTML(string=html).write_pdf(pdf)
    case, _ = hope_case()
    record = add_record(case, pdf.read_bytes(), "long.pdf", run_on_commit)
    copy = record.partner_copy
    assert copy.state == PartnerCopy.State.REVIEW and copy.page_count == 5
    assert copy.pages_done == 5 and copy.pages.count() == 5
    assert all(len(page.boxes) == 2 for page in copy.pages.all())


def test_a_refused_upload_keeps_its_hash_and_reason_but_not_the_file(run_on_commit):
    case, _ = hope_case()
    record = add_record(case, b"MZ\x90\x00 not a document", "evil.pdf", run_on_commit)
    assert record.state == Record.State.REJECTED and record.rejection_reason
    assert record.sha256 and not record.original


def test_the_partner_file_waits_for_review_and_is_verified(run_on_commit, letter_pdf, tmp_path):
    case, membership = hope_case()
    reviewed_summary(case)
    coordinator = staff_in("coordinator")
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    with pytest.raises(CaseFileRefused, match="1 record"):
        case_file_request(case=case, variant="partner", by=coordinator)

    # A careless review: the coordinator removes the box over the NHS number.
    page = record.partner_copy.pages.get()
    proposed = list(page.boxes)
    kept = [box for box in proposed if box["kind"] != "NHS number"]
    redaction.page_review(page=page, boxes=kept, no_identifiers=False, by=coordinator)
    redaction.partner_copy_approve(partner_copy=record.partner_copy, by=coordinator)
    case_file = case_file_request(case=case, variant="partner", by=coordinator)
    case_file_generate(case_file_id=case_file.pk)
    case_file.refresh_from_db()
    assert case_file.state == CaseFile.State.READY and case_file.verified_at
    found = {(item["kind"], item["seen_in"]) for item in case_file.verification}
    assert ("NHS number", "picture") in found
    assert all(item["page"] > 1 for item in case_file.verification)
    with pytest.raises(ValidationError, match="NHS number"):
        case_file_approve(case_file=case_file, by=coordinator)

    # Reviewed properly, the next version passes verification and can be approved.
    redaction.page_review(page=page, boxes=proposed, no_identifiers=False, by=coordinator)
    redaction.partner_copy_approve(partner_copy=record.partner_copy, by=coordinator)
    again = case_file_request(case=case, variant="partner", by=coordinator, regenerate=True)
    case_file_generate(case_file_id=again.pk)
    again.refresh_from_db()
    assert again.verification == [], again.verification
    # Release is a two-person decision: a second coordinator approves.
    second = staff_in("coordinator")
    case_file_approve(case_file=again, by=second)
    assert again.approved_by == second
    with local_copy(again.file, suffix=".pdf") as path:
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    for identifier in ("Hope", "9434765919", "943 476 5919", "LS1 4AP", "07700"):
        assert identifier not in text


def test_a_partner_file_without_records_needs_a_reason(run_on_commit):
    case, membership = hope_case()
    reviewed_summary(case)
    coordinator = staff_in("coordinator")
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    case_file = case_file_request(case=case, variant="partner", by=coordinator)
    case_file_generate(case_file_id=case_file.pk)
    case_file.refresh_from_db()
    assert case_file.verification == []
    second = staff_in("coordinator")
    with pytest.raises(ValidationError, match="no records"):
        case_file_approve(case_file=case_file, by=second)
    case_file_approve(
        case_file=case_file,
        by=second,
        no_records_reason="Reviewers asked for the summary first",
    )
    case_file.refresh_from_db()
    assert case_file.approval_note and case_file.approved_at


def test_consent_withdrawn_before_approval_blocks_it(run_on_commit):
    case, membership = hope_case()
    coordinator = staff_in("coordinator")
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    case_file = case_file_request(case=case, variant="partner", by=coordinator)
    case_file_generate(case_file_id=case_file.pk)
    services.consent_withdraw(case=case, kind=ConsentKind.SHARING, user=membership.user)
    case_file.refresh_from_db()
    with pytest.raises(ValidationError, match="consent"):
        case_file_approve(case_file=case_file, by=staff_in("coordinator"), no_records_reason="x")


def test_the_coordinator_reviews_a_page_in_the_workspace(run_on_commit, letter_pdf, staff_login):
    case, _ = hope_case()
    coordinator = staff_in("coordinator")
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    client = staff_login(coordinator)
    url = reverse("admin:cases_case_redaction", args=[case.pk, record.public_id])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    picture = reverse("admin:cases_case_redaction_picture", args=[case.pk, record.public_id, 1])
    assert picture in html and "js/redaction.js" in html and "<script>" not in html
    assert client.get(picture)["Content-Type"] == "image/jpeg"
    row = record.partner_copy.pages.get()
    word = next(i for i, w in enumerate(row.words) if w["text"] == "Oncology")
    response = client.post(
        url,
        {
            "action": "save-page",
            "page": "1",
            "keep": [str(i) for i in range(len(row.boxes))][1:],  # drop the first box
            "word": [str(word)],
            "drawn": ["100,100,300,140"],
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.reviewed and len(row.boxes) == len(record.partner_copy.pages.get().boxes)
    sources = [box["source"] for box in row.boxes]
    assert sources.count("coordinator") == 2
    assert [100, 100, 300, 140] in [box["box"] for box in row.boxes]
    client.post(url, {"action": "approve"})
    record.partner_copy.refresh_from_db()
    assert record.partner_copy.is_current


def test_the_last_page_to_review_is_saved_and_approved_in_one_step(
    run_on_commit, letter_pdf, staff_login
):
    case, _ = hope_case()
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    client = staff_login(staff_in("coordinator"))
    url = reverse("admin:cases_case_redaction", args=[case.pk, record.public_id])
    assert "and approve the partner copy" in client.get(url).text  # one page: the last one
    row = record.partner_copy.pages.get()

    # A save that is refused approves nothing: no boxes and no "no identifiers" tick.
    client.post(url, {"action": "save-page", "page": "1", "then": "approve"})
    record.partner_copy.refresh_from_db()
    assert not record.partner_copy.is_current

    response = client.post(
        url,
        {
            "action": "save-page",
            "page": "1",
            "keep": [str(i) for i in range(len(row.boxes))],
            "then": "approve",
        },
    )
    assert response.url == reverse("admin:cases_case_change", args=[case.pk])
    record.partner_copy.refresh_from_db()
    assert record.partner_copy.is_current and record.partner_copy.reviewed_at is not None
    row.refresh_from_db()
    assert row.reviewed


def test_a_coordinator_who_may_not_see_the_case_cannot_review_it(
    run_on_commit, letter_pdf, staff_login
):
    case, _ = hope_case()
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    owner = staff_in("coordinator")
    case.assigned_coordinator = owner
    case.save(update_fields=["assigned_coordinator"])
    other = staff_login(staff_in("coordinator"))
    url = reverse("admin:cases_case_redaction", args=[case.pk, record.public_id])
    assert other.get(url).status_code == 404
    picture = reverse("admin:cases_case_redaction_picture", args=[case.pk, record.public_id, 1])
    assert other.get(picture).status_code == 404


def test_redact_record_prints_the_boxes_and_accepts_them(run_on_commit, letter_pdf, capsys):
    case, _ = hope_case()
    add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    call_command("redact_record", case.reference, "1", "--accept")
    printed = capsys.readouterr().out
    assert "page 1 (text):" in printed and "NHS number: '" in printed and "Approved" in printed
    with pytest.raises(CommandError, match="choose a number from 1 to 1"):
        call_command("redact_record", case.reference, "2")


def test_the_operator_builds_a_partner_file_only_from_copies_redact_record_approved(
    run_on_commit, letter_pdf, tmp_path, capsys
):
    case, membership = hope_case()
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    output = tmp_path / "partner.pdf"
    build = ["build_case_file", case.reference, "--variant", "partner", "--output", str(output)]
    with pytest.raises(CommandError, match=r"1 record\(s\) still need their redaction reviewed"):
        call_command(*build)

    # Proposing again only prints the boxes: nothing is approved without --accept.
    call_command("redact_record", case.reference, "1")
    printed = capsys.readouterr().out
    assert "page 1 (text):" in printed and "Approved" not in printed
    record.partner_copy.refresh_from_db()
    assert record.partner_copy.state == PartnerCopy.State.REVIEW
    with pytest.raises(CommandError, match="redaction reviewed"):
        call_command(*build)
    assert not output.exists()

    call_command("redact_record", case.reference, "1", "--accept")
    record.partner_copy.refresh_from_db()
    assert record.partner_copy.state == PartnerCopy.State.APPROVED
    capsys.readouterr()
    call_command(*build)
    printed = capsys.readouterr().out
    assert str(output) in printed and " pages " in printed
    assert "not included" not in printed and "verified: no identifiers found" in printed
    text = subprocess.run(
        ["pdftotext", str(output), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Record 1 of 1 · page 1/1" in text
    for identifier in ("Hope", "9434765919", "943 476 5919", "LS1 4AP", "07700", "Shah"):
        assert identifier not in text
    # The record's page is the approved copy's picture, boxes burned in.
    with pikepdf.open(output) as pdf:
        pictures = [p for page in pdf.pages for p in page.get_images().values()]
    assert len(pictures) == 1


def test_the_demo_cases_partner_file_includes_its_letter_redacted(tmp_path, capsys):
    from cases.models import Case

    call_command("seed_demo")
    case = Case.objects.get(contact_email="margaret.hughes@example.org")
    output = tmp_path / "partner.pdf"
    call_command("build_case_file", case.reference, "--variant", "partner", "--output", str(output))
    printed = capsys.readouterr().out
    assert "verified: no identifiers found" in printed
    text = subprocess.run(
        ["pdftotext", str(output), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Record 1 of 1 · page 1/1" in text
    for identifier in ("Margaret", "Hughes", "943 476 5919", "LS1 4AP", "Priya Shah", "7700"):
        assert identifier not in text


def test_a_flagged_text_is_edited_where_it_stands(run_on_commit, letter_pdf):
    from cases.casefile.identifiers import identifier_fix, identifier_scan

    case, _ = hope_case()
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    Record.objects.filter(pk=record.pk).update(description="Letter about Mr Hope, 3/4/61")
    (hit, *_) = [h for h in identifier_scan(case) if h.section == "Record descriptions"]
    assert hit.source == f"record:{record.pk}:description"
    identifier_fix(case=case, source=hit.source, text="Clinic letter", by=staff_in("coordinator"))
    record.refresh_from_db()
    assert record.description == "Clinic letter"
    assert not [h for h in identifier_scan(case) if h.section == "Record descriptions"]
    other, _ = patient_case()
    with pytest.raises(ValidationError, match="no longer there"):
        identifier_fix(case=other, source=hit.source, text="x", by=staff_in("coordinator"))


def test_the_partner_template_never_receives_the_case():
    from cases.casefile.render import _context

    case, _ = hope_case()
    context = _context(case, "partner", [], 1)
    view = context["case"]
    assert view.reference == case.reference and view.age >= 60
    for field in ("patient_name", "nhs_number", "contact_email", "patient_date_of_birth"):
        assert not hasattr(view, field)


def test_proposals_whose_worker_died_are_picked_up_by_the_reconciler(run_on_commit, letter_pdf):
    from datetime import timedelta

    from django.utils import timezone

    from cases.reconcile import reconcile

    case, _ = hope_case()
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    gone = timezone.now() - timedelta(minutes=5)
    PartnerCopy.objects.filter(record=record).update(
        state=PartnerCopy.State.WORKING, pages_done=0, lease_expires_at=gone, attempts=1
    )
    assert reconcile()["requeued"] == 1
    copy = PartnerCopy.objects.get(record=record)
    assert copy.state == PartnerCopy.State.REVIEW and copy.pages.count() == 1
    # One that keeps killing its worker is given up on, visibly.
    PartnerCopy.objects.filter(pk=copy.pk).update(
        state=PartnerCopy.State.WORKING, lease_expires_at=gone, attempts=5
    )
    assert reconcile()["gave_up"] == 1
    copy.refresh_from_db()
    assert copy.state == PartnerCopy.State.FAILED and "Read the pages again" in copy.last_error


def _decoded(stream: pikepdf.Stream) -> bytes:
    """A stream's content (fonts, page drawing, XMP) unpacked; a JPEG stays as it is."""
    try:
        return stream.read_bytes()
    except pikepdf.PdfError:
        return stream.read_raw_bytes()


def test_hidden_text_annotations_forms_metadata_and_exif_never_reach_the_partner_file(
    run_on_commit, tmp_path
):
    # The record a coordinator would take for clean: its identifiers are only in white
    # text, a hidden annotation, a form-field value, the document's metadata and the
    # EXIF (name, NHS number, GPS) of the picture in it.
    case, membership = hope_case()
    reviewed_summary(case)
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    coordinator = staff_in("coordinator")
    record = add_record(case, hostile_pdf(tmp_path).read_bytes(), "report.pdf", run_on_commit)
    assert record.state == Record.State.READY, record.rejection_reason
    redaction.partner_copy_approve(
        partner_copy=record.partner_copy, by=coordinator, accept_proposals=True
    )
    case_file = case_file_request(case=case, variant="partner", by=coordinator)
    case_file_generate(case_file_id=case_file.pk)
    case_file.refresh_from_db()
    assert case_file.state == CaseFile.State.READY and case_file.verification == []
    case_file_approve(case_file=case_file, by=staff_in("coordinator"))

    with local_copy(case_file.file, suffix=".pdf") as path:
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        raw = path.read_bytes()
        with pikepdf.open(path) as pdf:
            metadata = {str(k): str(v) for k, v in pdf.docinfo.items()}
            with pdf.open_metadata() as xmp:
                xmp_text = str(xmp)
            assert "/AcroForm" not in pdf.Root and "/OpenAction" not in pdf.Root
            names = pdf.Root.get("/Names", {})  # the contents page's link targets only
            assert "/EmbeddedFiles" not in names and "/JavaScript" not in names
            annotations, pictures = [], []
            for page in pdf.pages:
                annotations += list(page.obj.get("/Annots", []))
                pictures += [p.read_raw_bytes() for p in page.get_images().values()]
            stream_text = b"".join(
                _decoded(obj) for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
            )
    assert "Record 1 of 1 · page 1/1" in text and "HER2 positive" not in text
    # Only the file's own links between its pages: no text, no form field, no web address.
    assert all(a.get("/Subtype") == "/Link" and "/Contents" not in a for a in annotations)
    assert all("/A" not in a or a.A.get("/S") == "/GoTo" for a in annotations)
    # The record page is one picture without EXIF (the file's own pages have none).
    assert len(pictures) == 1
    picture = Image.open(io.BytesIO(pictures[0]))
    assert not picture.getexif() and "exif" not in picture.info
    for written in (text, str(metadata), xmp_text):
        for needle in ("Hope", "9434765919", "943 476 5919", "07700", "1961"):
            assert needle not in written, needle
    # Strings of the record's annotation, form field, metadata or EXIF, anywhere in the
    # file's bytes (short numbers would match binary data by chance).
    for found in (raw, stream_text):
        for needle in (b"Mark Hope", b"9434765919", b"07700 900123", b"3/4/61", b"GPS"):
            assert needle not in found, needle


def test_reading_the_pages_again_needs_the_tick_that_replaces_the_boxes(
    run_on_commit, letter_pdf, staff_login
):
    case, _ = hope_case()
    record = add_record(case, letter_pdf, "letter.pdf", run_on_commit)
    client = staff_login(staff_in("coordinator"))
    url = reverse("admin:cases_case_redaction", args=[case.pk, record.public_id])
    row = record.partner_copy.pages.get()
    keep = [str(i) for i in range(len(row.boxes))]
    client.post(url, {"action": "save-page", "page": "1", "keep": keep, "drawn": ["1,2,30,40"]})
    client.post(url, {"action": "approve"})
    copy = PartnerCopy.objects.get(record=record)
    assert copy.is_current
    assert "Replace my boxes on every page of this record" in client.get(url).text

    with run_on_commit():
        page = client.post(url, {"action": "propose-again"}, follow=True)

    assert "Nothing was changed. To read the pages again, tick" in page.text
    again = PartnerCopy.objects.get(record=record)
    assert again.is_current and again.source_sha256 == copy.source_sha256
    assert [1, 2, 30, 40] in [box["box"] for box in again.pages.get().boxes]

    with run_on_commit():
        client.post(url, {"action": "propose-again", "replace_boxes": "on"})

    again = PartnerCopy.objects.get(record=record)
    assert not again.is_current
    assert [1, 2, 30, 40] not in [box["box"] for box in again.pages.get().boxes]
