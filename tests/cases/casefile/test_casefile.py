import http.server
import subprocess
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pikepdf
import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from cases import services
from cases.access import sharing_consent_active
from cases.casefile.build import case_file_generate
from cases.casefile.fetcher import SafeFetcher
from cases.casefile.identifiers import identifier_accept, identifier_scan
from cases.casefile.render import PartnerFileRefused, case_file_build
from cases.casefile.services import CaseFileRefused, case_file_release, case_file_request
from cases.domain.consents import ConsentKind
from cases.models import AuditEvent, CaseDirection, CaseFile, MedicalDirection, SummarySection
from cases.records.processing import record_process
from cases.records.services import record_add
from cases.summary.services import SectionEdit, summary_draft, summary_section_save
from tests.factories import StaffFactory, patient_case, staff_in
from tests.records_support import pdf_bytes
from tests.redaction_support import approve_all

pytestmark = pytest.mark.django_db

ZH = "患者三次试管婴儿周期失败"


def _text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _ready_case(*, summary_extra: str = "", **fields):
    case, membership = patient_case(
        patient_name="Margaret Hughes",
        patient_date_of_birth=date(1961, 4, 12),
        nhs_number="9434765919",
        contact_email="margaret.hughes@example.org",
        contact_phone="+447911123456",
        current_provider="Leeds Teaching Hospitals",
        **fields,
    )
    coordinator = staff_in("coordinator")
    for marker, category, day in [("a", "pathology", "2026-01-15"), ("b", "lab", "2026-03-01")]:
        record = record_add(
            case=case,
            file=ContentFile(pdf_bytes(pages=2, marker=marker), name=f"{marker}.pdf"),
            category=category,
            document_date=date.fromisoformat(day),
            description=f"Report {marker}",
            run_checks=False,
        ).record
        record_process(record_id=record.pk)
    summary_draft(case=case, by=coordinator)
    section = SummarySection.objects.get(case=case, key="current_concern")
    summary_section_save(
        section=section,
        edit=SectionEdit(
            "Whether surgery is still possible." + summary_extra,
            "draft",
            ZH,
            "draft",
            section.version,
        ),
        by=coordinator,
    )
    background = SummarySection.objects.get(case=case, key="background")
    summary_section_save(
        section=background,
        edit=SectionEdit(
            "Colorectal cancer diagnosed in 2025.", "draft", "2025年确诊结直肠癌。", "draft",
            background.version,
        ),
        by=coordinator,
    )  # fmt: skip
    car_t = MedicalDirection.objects.get(name_en="CAR-T cell therapy")
    CaseDirection.objects.create(
        case=case, direction=car_t, rationale="Relapsed disease", confirmed_by=coordinator
    )
    return case, membership, coordinator


IDENTIFIERS = [
    "Margaret",
    "Hughes",
    "9434765919",
    "943 476 5919",
    "margaret.hughes@example.org",
    "+447911123456",
    "12 April 1961",
    "1961-04-12",
    "Leeds Teaching Hospitals",
]


# "Age 65 years" is worked out from today's date: a fixed day keeps it 65.
@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=True)
def test_the_internal_file_has_everything_and_the_partner_file_no_identifiers(tmp_path):
    case, membership, _ = _ready_case()
    internal = tmp_path / "internal.pdf"
    case_file_build(case, "internal", internal)
    text = _text(internal)
    assert "Margaret Hughes" in text and "9434765919" in text
    assert ZH in text

    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    assert identifier_scan(case) == []
    partner = tmp_path / "partner.pdf"
    # Record contents stay out until a coordinator has approved their redaction.
    with pytest.raises(PartnerFileRefused, match="2 record"):
        case_file_build(case, "partner", partner)
    approve_all(case)
    built = case_file_build(case, "partner", partner)
    text = _text(partner)
    for identifier in IDENTIFIERS:
        assert identifier not in text, identifier
    assert case.reference in text
    assert ZH in text and "Age 65 years" in text
    flat = " ".join(text.split())
    assert "Whether this is possible depends on the diagnosis" in flat  # caution carried over
    assert f"Page {built.page_count} of {built.page_count}" in text
    # The records' pages are pictures only: their stamp is the one text on them.
    assert "Record 1 of 2 · page 1/2" in text


def test_chinese_is_drawn_with_an_embedded_cjk_font(tmp_path):
    case, *_ = _ready_case()
    output = tmp_path / "internal.pdf"
    case_file_build(case, "internal", output)
    fonts = subprocess.run(
        ["pdffonts", str(output)], capture_output=True, text=True, check=True
    ).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)


def test_bookmarks_and_page_numbers_are_right(tmp_path):
    case, *_ = _ready_case()
    output = tmp_path / "internal.pdf"
    built = case_file_build(case, "internal", output)
    reader = PdfReader(output)
    assert len(reader.pages) == built.page_count
    titles = {
        item.title: reader.get_destination_page_number(item) for item in _flat(reader.outline)
    }
    # Bilingual, with the document date, numbered in document-date order.
    record_one = titles["Record 1: Pathology or biopsy report · 病理或活检报告 (2026-01-15)"]
    assert f"{case.reference} · Record 1 of 2 · page 1/2" in reader.pages[record_one].extract_text()
    assert f"Page {record_one + 1} of {built.page_count}" in reader.pages[record_one].extract_text()
    assert any(title.startswith("Timeline") for title in titles)
    assert titles["What this file is not"] == built.page_count - 1
    meta = reader.metadata
    assert case.reference in meta.title and meta.subject and meta.creation_date


def _flat(outline):
    for item in outline:
        if isinstance(item, list):
            yield from _flat(item)
        else:
            yield item


def test_the_partner_file_needs_the_sharing_consent():
    case, *_ = _ready_case()
    with pytest.raises(CaseFileRefused, match="consent to share"):
        case_file_request(case=case, variant="partner", by=StaffFactory())
    assert not CaseFile.objects.exists()


def test_identifiers_in_the_summary_must_be_resolved_first(tmp_path):
    case, membership, coordinator = _ready_case(
        summary_extra=" Call Margaret on 07911 123456 or margaret@example.org, LS1 4AP."
    )
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    kinds = {hit.kind for hit in identifier_scan(case)}
    assert {"name", "phone number", "e-mail address", "postcode"} <= kinds
    with pytest.raises(CaseFileRefused, match="possible identifier"):
        case_file_request(case=case, variant="partner", by=coordinator)
    for hit in identifier_scan(case):
        identifier_accept(case=case, text=hit.text, kind=hit.kind, by=coordinator, reason="test")
    assert identifier_scan(case) == []


HOSTILE = (
    '<img src="file:///etc/passwd"> <link rel="attachment" href="file:///etc/hostname"> '
    "<style>@import url(http://127.0.0.1:{port}/steal);</style> font-size:1e9px 👩‍⚕️ 🙏 "
    "Привет مرحبا 你好"
)


def test_user_text_never_becomes_markup_or_a_fetch(tmp_path):
    hits: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hostile = HOSTILE.format(port=server.server_address[1])
    try:
        case, *_ = _ready_case(summary_extra=" " + hostile)
        for section in SummarySection.objects.filter(case=case):
            section.text_en = section.text_en + " " + hostile
            section.text_zh = hostile
            section.save()
        case.records.update(description=hostile)
        CaseDirection.objects.filter(case=case).update(rationale=hostile)
        output = tmp_path / "hostile.pdf"
        built = case_file_build(case, "internal", output)
    finally:
        server.shutdown()
    assert hits == []
    assert built.refused_urls == []  # escaped: nothing even asked to be fetched
    text = _text(output)
    assert "file:///etc/passwd" in text and "font-size:1e9px" in text
    assert "root:x:0" not in text
    with pikepdf.open(output) as pdf:
        assert len(pdf.attachments) == 0


def test_the_fetcher_refuses_everything_but_our_own_files():
    fetcher = SafeFetcher({"abc": b"\xff\xd8"})
    assert fetcher.fetch("mcrecord:abc").read() == b"\xff\xd8"
    assert fetcher.fetch("mcstatic:casefile/casefile.css").read()
    for url in [
        "file:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://example.org/x.png",
        "mcstatic:../../etc/passwd",
        "mcrecord:someone-else",
        "data:text/plain,hi",
        "ftp://example.org/",
    ]:
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 7


def test_a_damaged_record_is_listed_and_the_rest_is_built(tmp_path):
    case, *_ = _ready_case()
    damaged = case.records.get(category="lab")
    storage, name = damaged.derivative.storage, damaged.derivative.name
    storage.delete(name)
    assert storage.save(name, ContentFile(b"%PDF-1.7 this is not really a pdf")) == name
    output = tmp_path / "internal.pdf"
    built = case_file_build(case, "internal", output)
    assert [item["number"] for item in built.excluded] == [2]
    text = _text(output)
    assert "Could not be included: the file is" in " ".join(text.split())
    assert "Record 1 of 2" in text


def test_very_long_text_is_built(tmp_path):
    case, *_ = _ready_case(summary_extra=" " + "word " * 20000)
    built = case_file_build(case, "internal", tmp_path / "long.pdf")
    assert built.page_count > 10


def test_the_task_makes_one_file_per_request_and_versions_regenerations(run_on_commit):
    case, *_ = _ready_case()
    coordinator = StaffFactory()
    with run_on_commit():
        first = case_file_request(case=case, variant="internal", by=coordinator)
    first.refresh_from_db()
    assert first.state == CaseFile.State.READY and first.version == 1
    assert len(first.sha256) == 64 and first.page_count > 4
    assert first.file.storage.exists(first.file.name)
    again = case_file_request(case=case, variant="internal", by=coordinator)
    assert again.pk == first.pk
    with run_on_commit():
        second = case_file_request(case=case, variant="internal", by=coordinator, regenerate=True)
    second.refresh_from_db()
    assert second.version == 2 and second.state == CaseFile.State.READY
    # A redelivered task finds nothing to claim.
    assert case_file_generate(case_file_id=second.pk) is None


def test_releasing_the_internal_file_asks_for_a_confirming_tick(run_on_commit, staff_login):
    case, _membership, coordinator = _ready_case()
    with run_on_commit():
        case_file = case_file_request(case=case, variant="internal", by=coordinator)
    client = staff_login(coordinator)
    url = f"/admin/cases/case/{case.pk}/case-files/"
    form = {"action": "release", "case_file": str(case_file.public_id)}

    refused = client.post(url, form, follow=True)
    case_file.refresh_from_db()
    assert case_file.released_at is None
    assert "Nothing was released" in refused.text

    client.post(url, {**form, "confirm": "yes"})
    case_file.refresh_from_db()
    assert case_file.released_at is not None


def test_the_patient_downloads_the_released_internal_file(client, run_on_commit):
    case, membership, coordinator = _ready_case()
    with run_on_commit():
        case_file = case_file_request(case=case, variant="internal", by=coordinator)
    case_file.refresh_from_db()
    client.force_login(membership.user)
    url = f"/my/cases/{case.reference}/case-file/{case_file.public_id}/"
    assert client.get(url).status_code == 404  # not released yet
    case_file_release(case_file=case_file, by=coordinator)
    page = client.get(f"/my/cases/{case.reference}/")
    assert "Download your case file" in page.text
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(case=case, action="case_file.downloaded").exists()


def test_the_patient_gives_and_withdraws_sharing_consent(client):
    case, membership, _ = _ready_case()
    client.force_login(membership.user)
    client.post(f"/my/cases/{case.reference}/sharing/", {"action": "give"})
    assert not sharing_consent_active(case)  # the box was not ticked
    client.post(f"/my/cases/{case.reference}/sharing/", {"action": "give", "confirm": "yes"})
    assert sharing_consent_active(case)
    client.post(f"/my/cases/{case.reference}/sharing/", {"action": "withdraw"})
    assert not sharing_consent_active(case)
    actions = set(AuditEvent.objects.filter(case=case).values_list("action", flat=True))
    assert {"consent.given", "consent.withdrawn"} <= actions


def test_build_case_file_prints_path_pages_and_time(tmp_path, capsys):
    case, *_ = _ready_case()
    output = tmp_path / "out.pdf"
    call_command(
        "build_case_file", case.reference, "--variant", "internal", "--output", str(output)
    )
    printed = capsys.readouterr().out
    assert str(output) in printed and " pages " in printed and printed.strip().endswith(" s")
    with pytest.raises(CommandError, match="consent to share"):
        call_command("build_case_file", case.reference, "--variant", "partner")


def test_identifiers_in_record_descriptions_and_rationales_block_the_partner_file(tmp_path):
    case, membership, coordinator = _ready_case()
    services.consent_give(case=case, kind=ConsentKind.SHARING, user=membership.user)
    case.records.filter(category="lab").update(description="Letter to Margaret, SW1A 1AA")
    CaseDirection.objects.filter(case=case).update(rationale="Call 07911 123456")
    found = {(hit.kind, hit.section) for hit in identifier_scan(case)}
    assert ("name", "Record descriptions") in found
    assert ("postcode", "Record descriptions") in found
    assert ("phone number", "Direction rationales") in found
    with pytest.raises(CaseFileRefused, match="possible identifier"):
        case_file_request(case=case, variant="partner", by=coordinator)


def test_a_render_interrupted_by_a_dead_worker_does_not_block_the_next(run_on_commit):
    from datetime import timedelta

    from django.utils import timezone

    case, _, coordinator = _ready_case()
    stuck = CaseFile.objects.create(
        case=case,
        variant="internal",
        version=1,
        state=CaseFile.State.RENDERING,
        started_at=timezone.now() - timedelta(hours=2),
    )
    with run_on_commit():
        fresh = case_file_request(case=case, variant="internal", by=coordinator)
    stuck.refresh_from_db()
    assert stuck.state == CaseFile.State.FAILED and "interrupted" in stuck.last_error
    fresh.refresh_from_db()
    assert fresh.version == 2 and fresh.state == CaseFile.State.READY


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "records"


def _photo_record(case, *, size=(2400, 1800), name="ward-photo.jpg", content=None):
    from tests.records_support import jpeg_bytes

    record = record_add(
        case=case,
        file=ContentFile(content or jpeg_bytes(size, "navy"), name=name),
        category="imaging_report",
        run_checks=False,
    ).record
    record_process(record_id=record.pk)
    record.refresh_from_db()
    return record


def _printed_photos(path: Path, size: tuple[int, int]) -> int:
    with pikepdf.open(path) as pdf:
        return sum(
            1
            for page in pdf.pages
            for image in page.get_images().values()
            if (int(image.Width), int(image.Height)) == size
        )


def _replace(stored, content: bytes) -> None:
    stored.storage.delete(stored.name)
    stored.storage.save(stored.name, ContentFile(content))


def test_a_checked_photo_keeps_the_page_image_case_files_print(tmp_path):
    from PIL import Image

    case, *_ = _ready_case()
    photo = _photo_record(case)
    assert photo.page_image
    with photo.page_image.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG" and max(image.size) == 1600
    # The build reads only the page image: with the photo itself gone, it is still printed.
    photo.derivative.storage.delete(photo.derivative.name)
    output = tmp_path / "internal.pdf"
    built = case_file_build(case, "internal", output)
    assert built.excluded == []
    assert _printed_photos(output, (1600, 1200)) == 1


def test_a_photo_checked_before_page_images_is_shrunk_once_and_kept(tmp_path):
    case, *_ = _ready_case()
    photo = _photo_record(case)
    photo.page_image.storage.delete(photo.page_image.name)
    type(photo).objects.filter(pk=photo.pk).update(page_image="")
    case_file_build(case, "internal", tmp_path / "first.pdf")
    photo.refresh_from_db()
    assert photo.page_image and photo.page_image.storage.exists(photo.page_image.name)
    photo.derivative.storage.delete(photo.derivative.name)
    built = case_file_build(case, "internal", tmp_path / "second.pdf")
    assert built.excluded == []
    assert _printed_photos(tmp_path / "second.pdf", (1600, 1200)) == 1


def test_a_page_image_missing_from_storage_is_made_again_from_the_clean_copy(tmp_path):
    case, *_ = _ready_case()
    photo = _photo_record(case)
    photo.page_image.storage.delete(photo.page_image.name)

    built = case_file_build(case, "internal", tmp_path / "internal.pdf")

    assert built.excluded == []
    assert _printed_photos(tmp_path / "internal.pdf", (1600, 1200)) == 1
    photo.refresh_from_db()
    assert photo.page_image.storage.exists(photo.page_image.name)


def test_a_page_image_that_is_not_a_jpeg_is_made_again_and_replaced(tmp_path):
    case, *_ = _ready_case()
    photo = _photo_record(case)
    _replace(photo.page_image, b"<html>not a picture</html>")

    built = case_file_build(case, "internal", tmp_path / "internal.pdf")

    assert built.excluded == []
    assert _printed_photos(tmp_path / "internal.pdf", (1600, 1200)) == 1
    photo.refresh_from_db()
    with photo.page_image.open("rb") as handle:
        assert handle.read(3) == b"\xff\xd8\xff"


def test_a_photo_missing_from_storage_is_left_out_with_a_reason_and_the_file_is_made(
    tmp_path,
):
    case, *_ = _ready_case()
    photo = _photo_record(case)
    for stored in (photo.page_image, photo.derivative):
        stored.storage.delete(stored.name)

    built = case_file_build(case, "internal", tmp_path / "internal.pdf")

    assert built.excluded == [
        {
            "number": 3,
            "category": "Imaging report",
            "reason": "its file is missing from storage; ask the patient to send it again",
        }
    ]
    assert "Record 2 of 3 · page 2/2" in _text(tmp_path / "internal.pdf")


def test_a_clean_copy_that_cannot_be_decoded_is_left_out_with_a_reason(tmp_path):
    case, *_ = _ready_case()
    photo = _photo_record(case)
    photo.page_image.storage.delete(photo.page_image.name)
    _replace(photo.derivative, (FIXTURES / "hostile_truncated.jpg").read_bytes())

    built = case_file_build(case, "internal", tmp_path / "internal.pdf")

    assert [item["reason"] for item in built.excluded] == [
        "the photo could not be read; ask the patient to send it again"
    ]
    assert _printed_photos(tmp_path / "internal.pdf", (1600, 1200)) == 0


def test_a_record_pdf_missing_from_storage_is_left_out_and_the_task_finishes(run_on_commit):
    case, _membership, coordinator = _ready_case()
    letter = case.records.get(description="Report a")
    letter.derivative.storage.delete(letter.derivative.name)

    with run_on_commit():
        case_file = case_file_request(case=case, variant="internal", by=coordinator)

    case_file.refresh_from_db()
    assert case_file.state == CaseFile.State.READY
    assert [item["reason"] for item in case_file.excluded] == [
        "its file is missing from storage; ask the patient to send it again"
    ]


def test_a_photo_that_cannot_be_decoded_is_refused_at_its_check_and_stores_no_page_image(
    private_storage, tmp_path
):
    case, *_ = _ready_case()
    photo = _photo_record(
        case, name="cut-off.jpg", content=(FIXTURES / "hostile_truncated.jpg").read_bytes()
    )

    assert photo.state == photo.State.REJECTED
    assert not photo.page_image and not photo.derivative
    assert not [p for p in private_storage.rglob("page*.jpg")]
    built = case_file_build(case, "internal", tmp_path / "internal.pdf")
    assert built.excluded == []  # a refused record is not in the case file at all


def test_photos_count_against_the_page_limit(tmp_path, monkeypatch):
    from cases.casefile import render

    case, *_ = _ready_case()  # two records of two pages each
    _photo_record(case)
    monkeypatch.setattr(render, "MAX_TOTAL_PAGES", 4)
    built = case_file_build(case, "internal", tmp_path / "internal.pdf")
    assert [item["category"] for item in built.excluded] == ["Imaging report"]
    assert "more than a case file can hold (0 left)" in built.excluded[0]["reason"]


def test_record_pdfs_are_merged_with_their_stamps_and_bookmarks(tmp_path):
    case, *_ = _ready_case()
    output = tmp_path / "internal.pdf"
    built = case_file_build(case, "internal", output)
    with pikepdf.open(output) as pdf:
        assert len(pdf.pages) == built.page_count
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
    assert any(title.startswith("Record 2:") for title in titles)
    assert titles[-1] == "What this file is not"
    text = _text(output)
    assert "Record 2 of 2 · page 2/2" in text
    assert f"Page {built.page_count} of {built.page_count}" in text
    assert not list(output.parent.glob(".build-*"))  # the scratch folder is gone


def test_the_home_town_is_caught_in_the_chinese_summary():
    case, _ = patient_case(
        address="1 Park Row\nLeeds", current_provider="Royal Infirmary NHS Trust"
    )
    SummarySection.objects.create(
        case=case,
        key="background",
        text_en="Treated at a teaching hospital since 2024.",
        text_zh="患者自2024年起在利兹的一家教学医院接受治疗。",
    )

    hits = [(h.kind, h.text, h.source) for h in identifier_scan(case)]

    section = case.summary_sections.get()
    assert hits == [("address", "利兹", f"summary:{section.pk}:text_zh")]


def test_a_town_named_only_by_the_provider_is_caught_too():
    case, _ = patient_case(address="", current_provider="Sheffield Teaching Hospitals")
    SummarySection.objects.create(case=case, key="background", text_zh="在谢菲尔德治疗。伦敦的专家")

    assert [h.text for h in identifier_scan(case)] == ["谢菲尔德"]
