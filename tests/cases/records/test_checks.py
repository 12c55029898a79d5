"""The file checks, run on real (tiny) files: see tests/fixtures/records/make_fixtures.py."""

from __future__ import annotations

import errno
import json
import shutil
import time
from pathlib import Path

import pikepdf
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.pixels import get_decoder
from pydicom.uid import JPEGLosslessSV1

from cases.records.checks import (
    ALLOWED,
    CheckedRecord,
    RecordRejected,
    images,
    images_to_pdf,
    messages,
    pdf,
    record_check,
    sniff,
    sniff_type,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "records"
HOSTILE = sorted(FIXTURES.glob("hostile_*"))
IDENTIFYING = ("Example^Jane", "Example", "9434765919", "19700101", "St Example", "Who^Doctor")


def fixture(name: str) -> Path:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"{name} is missing: run tests/fixtures/records/make_fixtures.py")
    return path


def rejected_reason(name: str, workdir: Path) -> str:
    with pytest.raises(RecordRejected) as rejected:
        record_check(fixture(name), workdir)
    return rejected.value.reason


def assert_clean_jpeg_thumbnail(record: CheckedRecord, workdir: Path) -> None:
    assert record.thumbnail == workdir / "thumbnail.jpg"
    with Image.open(record.thumbnail) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) <= 400


def assert_no_metadata(path: Path) -> None:
    with Image.open(path) as img:
        assert not img.getexif(), "EXIF survived"
        assert not set(img.info) & {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"}
        assert not any(isinstance(value, str) and "Jane" in value for value in img.info.values())
    data = path.read_bytes()
    for marker in (b"Exif\x00", b"GPS", b"ns.adobe.com", b"Jane", b"ExamplePhone"):
        assert marker not in data, marker


def is_red(pixel: tuple[int, ...]) -> bool:
    red, green, blue = pixel[:3]
    return red > 180 and green < 80 and blue < 80


# --- good files ---------------------------------------------------------------------------


def test_it_accepts_a_plain_pdf_counts_its_pages_and_draws_the_first_one(tmp_path):
    record = record_check(fixture("good_letter.pdf"), tmp_path)

    assert record.kind == "pdf"
    assert record.sniffed_type == record.derivative_type == "application/pdf"
    assert record.derivative == tmp_path / "derivative.pdf"
    assert record.page_count == 2
    assert record.metadata == {"removed": []}
    assert record.preview is None
    with pikepdf.open(record.derivative) as pdf:
        assert len(pdf.pages) == 2
    assert_clean_jpeg_thumbnail(record, tmp_path)
    with Image.open(record.thumbnail) as thumbnail:
        assert thumbnail.height == 400  # A4 portrait, drawn by pdftoppm: not a placeholder
        assert thumbnail.width < 300


def test_it_strips_gps_and_exif_from_a_photo_and_turns_it_upright(tmp_path):
    source = fixture("good_photo_rotated_gps.jpg")
    with Image.open(source) as original:
        assert original.size == (120, 80)
        assert original.getexif().get_ifd(0x8825), "the fixture should carry GPS"

    record = record_check(source, tmp_path)

    assert record.kind == "image"
    assert record.sniffed_type == record.derivative_type == "image/jpeg"
    assert record.derivative == tmp_path / "derivative.jpg"
    assert record.metadata == {"width": 80, "height": 120}
    assert_no_metadata(record.derivative)
    with Image.open(record.derivative) as upright:
        assert upright.size == (80, 120)  # width and height swapped
        # The red block stored top-left shows top-right once rotated 90 degrees clockwise.
        assert is_red(upright.getpixel((75, 4)))
        assert not is_red(upright.getpixel((4, 4)))
        assert not is_red(upright.getpixel((75, 115)))
    assert_clean_jpeg_thumbnail(record, tmp_path)
    assert_no_metadata(record.thumbnail)
    # The page a case file prints: made here, upright and without the photo's metadata.
    assert record.page_image == tmp_path / "page.jpg"
    assert_no_metadata(record.page_image)
    with Image.open(record.page_image) as page:
        assert page.format == "JPEG" and page.size == (80, 120)


def test_it_keeps_a_png_as_a_png_without_its_text_or_exif(tmp_path):
    record = record_check(fixture("good_scan.png"), tmp_path)

    assert record.sniffed_type == record.derivative_type == "image/png"
    assert record.derivative == tmp_path / "derivative.png"
    assert record.metadata == {"width": 200, "height": 150}
    with Image.open(record.derivative) as png:
        assert png.format == "PNG"
        assert not png.text
    assert_no_metadata(record.derivative)
    assert b"NHS number" not in record.derivative.read_bytes()
    assert_clean_jpeg_thumbnail(record, tmp_path)


def test_it_turns_an_iphone_heic_photo_into_a_jpeg_without_its_exif(tmp_path):
    source = fixture("good_photo.heic")  # skipped where this pillow-heif cannot encode HEIC

    record = record_check(source, tmp_path)

    assert record.sniffed_type == "image/heic"
    assert record.derivative_type == "image/jpeg"
    assert record.metadata == {"width": 160, "height": 120}
    assert_no_metadata(record.derivative)
    with Image.open(record.derivative) as jpeg:
        assert jpeg.format == "JPEG"
        assert is_red(jpeg.getpixel((5, 5)))
    assert_clean_jpeg_thumbnail(record, tmp_path)


def test_it_turns_a_webp_photo_into_a_jpeg_without_its_exif(tmp_path):
    record = record_check(fixture("good_photo.webp"), tmp_path)

    assert record.sniffed_type == "image/webp"
    assert record.derivative_type == "image/jpeg"
    assert record.metadata == {"width": 160, "height": 120}
    assert_no_metadata(record.derivative)
    assert_clean_jpeg_thumbnail(record, tmp_path)


def test_it_turns_a_single_page_tiff_into_a_jpeg(tmp_path):
    record = record_check(fixture("good_scan.tif"), tmp_path)

    assert record.sniffed_type == "image/tiff"
    assert record.derivative_type == "image/jpeg"
    assert record.page_count is None
    assert record.metadata == {"width": 200, "height": 150}
    assert_clean_jpeg_thumbnail(record, tmp_path)


def test_it_turns_a_multi_page_tiff_into_a_pdf_keeping_every_page(tmp_path):
    record = record_check(fixture("good_letter_3_pages.tif"), tmp_path)

    assert record.kind == "image"
    assert record.sniffed_type == "image/tiff"
    assert record.derivative == tmp_path / "derivative.pdf"
    assert record.derivative_type == "application/pdf"
    assert record.page_count == 3
    assert record.metadata == {"width": 170, "height": 220, "pages": 3}
    with pikepdf.open(record.derivative) as pdf:
        assert len(pdf.pages) == 3
    assert_clean_jpeg_thumbnail(record, tmp_path)


def test_it_reads_a_dicom_scan_without_copying_who_the_patient_is_into_metadata(tmp_path):
    source = fixture("good_ct.dcm")
    assert str(pydicom.dcmread(source).PatientName) == "Example^Jane"

    record = record_check(source, tmp_path)

    assert record.kind == "dicom"
    assert record.sniffed_type == record.derivative_type == "application/dicom"
    assert record.derivative == tmp_path / "derivative.dcm"
    assert record.derivative.read_bytes() == source.read_bytes()  # its preamble was already zero
    assert record.metadata["modality"] == "CT"
    assert record.metadata["study_date"] == "2024-01-31"
    assert record.metadata["body_part"] == "CHEST"
    assert record.metadata["preview_available"] is True
    dumped = json.dumps(record.metadata)  # JSON-safe, and nothing identifying in it
    for detail in IDENTIFYING:
        assert detail not in dumped
    assert record.preview == tmp_path / "preview.jpg"
    with Image.open(record.preview) as preview:
        assert preview.format == "JPEG"
        assert preview.size == (64, 64)
        # Left half is fat (-200 HU), right half bone (+240 HU) in a 40/400 window.
        assert preview.convert("L").getpixel((5, 32)) < 60
        assert preview.convert("L").getpixel((60, 32)) > 190
    assert_clean_jpeg_thumbnail(record, tmp_path)
    with Image.open(record.page_image) as page:
        assert page.format == "JPEG" and page.size == (64, 64)
    for detail in IDENTIFYING:
        assert detail.encode() not in record.page_image.read_bytes()


def test_it_accepts_a_dicom_without_pixel_data_with_a_placeholder_preview(tmp_path):
    record = record_check(fixture("good_dose_report_no_pixels.dcm"), tmp_path)

    assert record.kind == "dicom"
    assert record.metadata["modality"] == "SR"
    assert record.metadata["preview_available"] is False
    assert record.preview == tmp_path / "preview.jpg"
    with Image.open(record.preview) as placeholder:
        assert placeholder.format == "JPEG"
    assert_clean_jpeg_thumbnail(record, tmp_path)


@pytest.mark.filterwarnings("ignore:Invalid value for VR DA")
def test_it_gives_an_impossible_study_date_as_an_empty_string(tmp_path):
    dataset = pydicom.dcmread(fixture("good_ct.dcm"))
    dataset.StudyDate = "2024.02.30"
    odd = tmp_path / "odd.dcm"
    dataset.save_as(odd)

    assert record_check(odd, tmp_path / "work").metadata["study_date"] == ""


def test_it_combines_three_photos_into_a_three_page_pdf(tmp_path):
    output = tmp_path / "letter.pdf"
    photos = ["good_photo_rotated_gps.jpg", "good_scan.png", "good_photo.webp"]

    pages = images_to_pdf([fixture(name) for name in photos], output)

    assert pages == 3
    with pikepdf.open(output) as pdf:
        assert len(pdf.pages) == 3
        first = pdf.pages[0].MediaBox
        assert float(first[2]) < float(first[3])  # the rotated photo's page is portrait
    data = output.read_bytes()
    assert b"GPS" not in data
    assert b"Exif" not in data
    assert sniff_type(output) == "application/pdf"


def test_combining_photos_keeps_every_page_of_a_tiff(tmp_path):
    pages = images_to_pdf(
        [fixture("good_letter_3_pages.tif"), fixture("good_scan.png")], tmp_path / "all.pdf"
    )

    assert pages == 4


def test_combining_photos_names_the_photo_that_is_wrong(tmp_path):
    with pytest.raises(RecordRejected) as rejected:
        images_to_pdf(
            [fixture("good_scan.png"), fixture("hostile_truncated.jpg")], tmp_path / "out.pdf"
        )

    assert rejected.value.reason.startswith("Photo 2 of 2: The photo seems to be cut off")
    assert not (tmp_path / "out.pdf").exists()


def test_combining_refuses_a_pdf_among_the_photos(tmp_path):
    with pytest.raises(RecordRejected) as rejected:
        images_to_pdf([fixture("good_letter.pdf")], tmp_path / "out.pdf")

    assert "Photo 1 of 1: Only photos and scans" in rejected.value.reason


def test_sniffing_trusts_the_content_not_the_file_name(tmp_path):
    disguised = tmp_path / "scan.pdf"
    shutil.copyfile(fixture("good_scan.png"), disguised)

    assert sniff_type(disguised) == "image/png"
    assert record_check(disguised, tmp_path / "work").derivative_type == "image/png"


def test_a_large_photo_gets_a_400_pixel_thumbnail(tmp_path):
    photo = tmp_path / "large.jpg"
    Image.new("RGB", (2000, 1500), (30, 120, 200)).save(photo, quality=90)

    record = record_check(photo, tmp_path / "work")

    with Image.open(record.thumbnail) as thumbnail:
        assert thumbnail.size == (400, 300)


def test_a_large_photo_gets_a_page_image_1600_pixels_long(tmp_path):
    photo = tmp_path / "large.jpg"
    Image.new("RGB", (2000, 1500), (30, 120, 200)).save(photo, quality=90)

    record = record_check(photo, tmp_path / "work")

    with Image.open(record.page_image) as page:
        assert page.format == "JPEG" and page.size == (1600, 1200)


# --- hostile files ------------------------------------------------------------------------


def test_it_rejects_a_png_header_followed_by_html(tmp_path):
    reason = rejected_reason("hostile_png_then_html.png", tmp_path / "work")

    assert reason.startswith("We could not open this picture")
    assert not any((tmp_path / "work").glob("*")), "a rejected file leaves no outputs"


def test_it_rejects_a_windows_program_renamed_pdf(tmp_path):
    reason = rejected_reason("hostile_program_renamed.pdf", tmp_path)

    assert "it looks like a Windows program" in reason
    assert "PDF, JPEG, PNG, HEIC (iPhone photos), WebP, TIFF or DICOM" in reason


def test_it_rejects_a_png_declaring_ten_billion_pixels_quickly(tmp_path):
    started = time.perf_counter()

    reason = rejected_reason("hostile_bomb_100000x100000.png", tmp_path)

    assert time.perf_counter() - started < 1  # 10 GB of pixels were never allocated
    assert reason.startswith("This picture is too large for us to process")
    assert "50 million pixels" in reason


def test_the_pixel_limit_is_checked_by_us_not_left_to_pillow(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # Pillow's own guard switched off
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100)
    big = tmp_path / "big.png"
    Image.new("L", (200, 200)).save(big)

    with pytest.raises(RecordRejected) as rejected:
        record_check(big, tmp_path / "work")

    assert rejected.value.reason.startswith("This picture is too large")


def test_it_removes_an_opening_javascript_action_from_a_pdf(tmp_path):
    record = record_check(fixture("hostile_openaction_javascript.pdf"), tmp_path)

    assert record.page_count == 2
    assert "OpenAction" in record.metadata["removed"]
    assert "JavaScript" in record.metadata["removed"]
    assert b"/JavaScript" not in record.derivative.read_bytes()
    assert b"evil.example" not in record.derivative.read_bytes()
    with pikepdf.open(record.derivative) as pdf:
        assert "/OpenAction" not in pdf.Root
        assert "/JavaScript" not in pdf.Root.get("/Names", {})
        for obj in pdf.objects:  # nothing left anywhere, even unreferenced
            if isinstance(obj, pikepdf.Dictionary):
                assert obj.get("/S") != pikepdf.Name.JavaScript


def test_it_rejects_an_encrypted_pdf_asking_for_an_unlocked_copy(tmp_path):
    reason = rejected_reason("hostile_encrypted.pdf", tmp_path)

    assert reason.startswith(
        "This PDF is protected by a password. Please upload a copy without a password — "
    )


def test_it_rejects_a_pdf_locked_with_only_an_owner_password(tmp_path):
    reason = rejected_reason("hostile_owner_locked.pdf", tmp_path)

    assert reason.startswith("This PDF is protected by a password.")
    assert "unlocked copy" in reason


def test_it_rejects_a_truncated_jpeg_without_hanging(tmp_path):
    started = time.perf_counter()

    reason = rejected_reason("hostile_truncated.jpg", tmp_path)

    assert time.perf_counter() - started < 2
    assert reason.startswith("The photo seems to be cut off or damaged")


def test_it_rejects_an_empty_file(tmp_path):
    reason = rejected_reason("hostile_empty.pdf", tmp_path)

    assert reason.startswith("The file is empty.")
    assert "upload it again" in reason


def test_it_rejects_a_corrupt_pdf(tmp_path):
    reason = rejected_reason("hostile_corrupt.pdf", tmp_path)

    assert reason.startswith("This PDF seems to be damaged or incomplete")


def test_it_removes_an_embedded_file_from_a_pdf(tmp_path):
    source = fixture("hostile_embedded_file.pdf")
    with pikepdf.open(source) as original:
        assert len(original.attachments) == 1

    record = record_check(source, tmp_path)

    assert record.metadata["removed"] == ["embedded files"]
    with pikepdf.open(record.derivative) as pdf:
        assert len(pdf.attachments) == 0
        assert "/Annots" not in pdf.pages[0] or len(pdf.pages[0].Annots) == 0
    data = record.derivative.read_bytes()
    assert b"/EmbeddedFile" not in data
    assert b"invoice.exe" not in data
    assert b"notes.exe" not in data


def test_it_removes_launch_and_script_actions_but_keeps_web_links(tmp_path):
    record = record_check(fixture("hostile_launch_and_page_actions.pdf"), tmp_path)

    assert record.metadata["removed"] == [
        "XFA forms",
        "additional actions",
        "form submission actions",
        "launch actions",
    ]
    data = record.derivative.read_bytes()
    for gone in (b"/Launch", b"cmd.exe", b"/JavaScript", b"/XFA", b"/SubmitForm", b"/AA"):
        assert gone not in data, gone
    with pikepdf.open(record.derivative) as pdf:
        links = [annotation.get("/A") for annotation in pdf.pages[0].Annots]
        assert [str(link.URI) for link in links if link is not None] == ["https://www.nhs.uk/"]
        assert str(pdf.Root.Outlines.First.Title) == "Open me"  # the bookmark itself stays


def test_it_drops_data_hidden_after_the_end_of_a_jpeg(tmp_path):
    source = fixture("hostile_jpeg_with_zip_appended.jpg")
    assert b"PK\x03\x04" in source.read_bytes()

    record = record_check(source, tmp_path)

    data = record.derivative.read_bytes()
    assert b"PK\x03\x04" not in data
    assert b"payload.js" not in data
    assert data.endswith(b"\xff\xd9")


def test_it_blanks_a_program_hidden_in_a_dicom_preamble(tmp_path):
    source = fixture("hostile_dicom_exe_preamble.dcm")
    assert source.read_bytes().startswith(b"MZ")

    record = record_check(source, tmp_path)

    data = record.derivative.read_bytes()
    assert data[:128] == bytes(128)
    assert data[128:] == source.read_bytes()[128:]
    assert record.metadata["removed"] == ["preamble contents"]
    assert sniff_type(record.derivative) == "application/dicom"


def test_it_rejects_a_corrupt_dicom(tmp_path):
    reason = rejected_reason("hostile_corrupt.dcm", tmp_path)

    assert reason.startswith("This DICOM scan file seems to be damaged or incomplete")


def test_it_rejects_a_dicom_cut_off_inside_its_pixel_data(tmp_path):
    reason = rejected_reason("hostile_truncated.dcm", tmp_path)

    assert reason.startswith("This DICOM scan file seems to be damaged or incomplete")


def test_it_rejects_a_dicomdir_and_asks_for_the_images_instead(tmp_path):
    reason = rejected_reason("hostile_DICOMDIR", tmp_path)

    assert "DICOMDIR" in reason
    assert "image files" in reason


def test_it_rejects_a_zip_archive_and_says_to_unzip_it(tmp_path):
    reason = rejected_reason("hostile_records.zip", tmp_path)

    assert "ZIP archive" in reason
    assert "unzip it" in reason


def test_it_rejects_an_svg_drawing_with_a_script_in_it(tmp_path):
    reason = rejected_reason("hostile_scan.svg", tmp_path)

    assert "SVG drawing" in reason


# --- the worker's point of view -----------------------------------------------------------


def test_the_worker_survives_every_hostile_file_in_one_process(tmp_path):
    assert len(HOSTILE) >= 15, "fixtures missing: run tests/fixtures/records/make_fixtures.py"
    base = tmp_path / "run"
    uploads = base / "uploads"
    uploads.mkdir(parents=True)
    outcomes = {}
    for number, hostile in enumerate(HOSTILE):
        source = uploads / hostile.name
        shutil.copyfile(hostile, source)
        workdir = base / f"work{number}"
        try:
            record = record_check(source, workdir)
        except RecordRejected as rejected:
            assert rejected.reason.strip(), hostile.name
            outcomes[hostile.name] = "rejected"
        else:
            assert record.sniffed_type in ALLOWED
            for output in (record.derivative, record.thumbnail, record.preview):
                assert output is None or output.parent == workdir
            json.dumps(record.metadata)
            outcomes[hostile.name] = "cleaned"
    # Nothing was written next to the uploads or anywhere but each workdir.
    assert sorted(path.name for path in uploads.iterdir()) == [path.name for path in HOSTILE]
    assert {path.name for path in base.iterdir()} <= {
        "uploads",
        *(f"work{number}" for number in range(len(HOSTILE))),
    }
    assert outcomes["hostile_openaction_javascript.pdf"] == "cleaned"
    assert outcomes["hostile_bomb_100000x100000.png"] == "rejected"
    # ...and the same process still handles a good file.
    assert record_check(fixture("good_photo_rotated_gps.jpg"), base / "after").kind == "image"


def test_a_pdf_that_cannot_be_drawn_still_gets_a_placeholder_thumbnail(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))  # pdftoppm cannot be found

    record = record_check(fixture("good_letter.pdf"), tmp_path / "work")

    assert record.page_count == 2
    with Image.open(record.thumbnail) as placeholder:
        assert placeholder.format == "JPEG"
        assert placeholder.size == (300, 400)


def test_a_pdf_over_the_page_limit_is_rejected_with_the_limit_named(tmp_path, monkeypatch):
    # The check and the message that names the limit each read it.
    monkeypatch.setattr(pdf, "MAX_PDF_PAGES", 1)
    monkeypatch.setattr(messages, "MAX_PDF_PAGES", 1)

    reason = rejected_reason("good_letter.pdf", tmp_path)

    assert reason.startswith("This PDF has 2 pages; we can accept up to 1 pages")


def test_a_full_disk_is_not_blamed_on_the_file(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)

    with pytest.raises(OSError) as raised:
        record_check(fixture("good_scan.png"), tmp_path)

    assert raised.value.errno == errno.ENOSPC
    assert not isinstance(raised.value, RecordRejected)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("good_photo.heic", "image/heic"),
        ("good_photo_rotated_gps.jpg", "image/jpeg"),
        ("good_scan.png", "image/png"),
        ("good_photo.webp", "image/webp"),
        ("good_scan.tif", "image/tiff"),
        ("good_letter.pdf", "application/pdf"),
        ("good_ct.dcm", "application/dicom"),
    ],
)
def test_sniffing_falls_back_to_magic_bytes_when_libmagic_is_vague(name, expected, monkeypatch):
    monkeypatch.setattr(sniff.magic, "from_file", lambda path, mime: "application/octet-stream")

    assert sniff_type(fixture(name)) == expected


def test_an_avif_photo_is_not_mistaken_for_a_heic_one(tmp_path, monkeypatch):
    monkeypatch.setattr(sniff.magic, "from_file", lambda path, mime: "application/octet-stream")
    avif = tmp_path / "photo.heic"
    avif.write_bytes(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64))

    assert sniff_type(avif) == "image/avif"
    with pytest.raises(RecordRejected) as rejected:
        record_check(avif, tmp_path / "work")
    assert "AVIF image" in rejected.value.reason


def test_a_dicom_we_cannot_decompress_is_kept_with_a_placeholder_preview(tmp_path):
    if get_decoder(JPEGLosslessSV1).is_available:
        pytest.skip("a JPEG Lossless decoder (pylibjpeg or GDCM) is installed here")
    dataset = pydicom.dcmread(fixture("good_ct.dcm"))
    dataset.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    dataset.PixelData = encapsulate([b"\xff\xd8\xff\xc3 not decoded here"])
    dataset["PixelData"].VR = "OB"
    source = tmp_path / "lossless.dcm"
    dataset.save_as(source, enforce_file_format=True)

    record = record_check(source, tmp_path / "work")

    assert record.metadata["preview_available"] is False
    assert record.metadata["modality"] == "CT"
    assert record.derivative.read_bytes() == source.read_bytes()


def test_cut_off_photos_are_refused_even_after_weasyprint_is_loaded(tmp_path):
    # WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES when imported; the worker loads
    # both, so the check must not depend on that global.
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    with pytest.raises(RecordRejected, match="cut off"):
        record_check(fixture("hostile_truncated.jpg"), tmp_path / "out")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
