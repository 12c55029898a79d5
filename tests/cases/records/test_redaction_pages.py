"""Pages, partner copies, DICOM de-identification and verification, on real files."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from cases.casefile import verification as verify
from cases.records.redaction import dicom, pages, proposals
from tests import redaction_support as support

IDENTITY = support.IDENTITY
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(scope="module")
def typed(tmp_path_factory) -> tuple[support.Letter, Path]:
    item = support.letter(0)
    return item, support.write_letter_pdf(item, tmp_path_factory.mktemp("typed") / "letter.pdf")


def redacted_copy(
    source: Path, kind: str, output: Path
) -> tuple[int, list[proposals.PageProposal]]:
    found = list(proposals.propose_pages(source, kind, IDENTITY))
    count = proposals.write_partner_copy(
        iter([(page.image, [b.box for b in proposal.boxes]) for page, proposal in found]), output
    )
    return count, [proposal for _page, proposal in found]


def pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_a_typed_letter_gets_a_box_over_every_planted_identifier(typed, tmp_path):
    item, pdf = typed
    (page,) = list(pages.pdf_pages(pdf))
    assert page.source == "text" and not page.unreadable
    proposed = [b.box for b in proposals.boxes_for(page, IDENTITY)]
    mask = np.zeros(page.image.size[::-1], dtype=bool)
    for left, top, right, bottom in proposed:
        mask[top : bottom + 1, left : right + 1] = True
    for planted, (left, top, right, bottom) in support.planted_boxes(page, item):
        assert mask[top:bottom, left:right].mean() > 0.95, planted.text


def test_the_partner_copy_of_a_typed_letter_has_no_text_and_no_identifier(typed, tmp_path):
    _item, pdf = typed
    output = tmp_path / "partner.pdf"
    count, _ = redacted_copy(pdf, "pdf", output)
    assert count == 1
    assert pdftotext(output).strip() == ""
    assert verify.verify_pdf(output, IDENTITY) == []
    # The same check finds the identifiers in the original, by text and by picture.
    found = verify.verify_pdf(pdf, IDENTITY)
    assert {f.seen_in for f in found} == {"text", "picture"}
    assert any(f.kind == "NHS number" and f.page == 1 for f in found)


def hostile_pdf(tmp_path: Path) -> Path:
    """White text, an annotation, a form field, metadata and an EXIF-bearing picture."""
    photo = Image.new("RGB", (200, 120), (200, 220, 240))
    exif = Image.Exif()
    exif[0x013B] = "Mark Hope"  # Artist
    exif[0x010E] = "NHS 9434765919"  # ImageDescription
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (53.0, 48.0, 0.0)
    picture = tmp_path / "exif.jpg"
    photo.save(picture, "JPEG", exif=exif)
    from weasyprint import HTML

    html = f"""<html><body style="font-family: DejaVu Sans">
      <p>Pathology report. HER2 positive.</p>
      <p style="color: white">Mark Hope 943 476 5919 born 03.04.1961</p>
      <p><img src="file://{picture}" style="width: 4cm"></p></body></html>"""
    source = tmp_path / "plain.pdf"
    HTML(string=html, base_url=str(tmp_path)).write_pdf(source)
    with pikepdf.open(source) as pdf:
        pdf.docinfo["/Author"] = "Mark Hope"
        pdf.docinfo["/Title"] = "NHS 9434765919"
        with pdf.open_metadata() as meta:
            meta["dc:creator"] = ["Mark Hope"]
        page = pdf.pages[0]
        note = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Text,
                Rect=[100, 700, 120, 720],
                Contents=pikepdf.String("Patient Mark Hope, DOB 3/4/61"),
                F=2,  # hidden
            )
        )
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String("patient"),
                V=pikepdf.String("Mark Hope 07700 900123"),
                Rect=[100, 600, 400, 620],
                P=page.obj,
            )
        )
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([note, field]))
        # WeasyPrint re-encodes pictures without their EXIF: put the photo's own bytes,
        # EXIF and all, in its place, as a camera-made PDF would carry it.
        (embedded,) = page.images.values()
        for key in ("/SMask", "/DecodeParms", "/Decode"):
            if key in embedded:
                del embedded[key]
        embedded.write(picture.read_bytes(), filter=pikepdf.Name.DCTDecode)
        embedded.ColorSpace, embedded.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
        embedded.Width, embedded.Height = photo.size
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
        hostile = tmp_path / "hostile.pdf"
        pdf.save(hostile)
    assert "Mark Hope" in pdftotext(hostile)
    with pikepdf.open(hostile) as pdf:
        (embedded,) = pdf.pages[0].images.values()
        carried = Image.open(io.BytesIO(embedded.read_raw_bytes())).getexif()
        assert carried[0x013B] == "Mark Hope" and carried.get_ifd(0x8825)
    return hostile


def test_hidden_text_annotations_forms_metadata_and_exif_never_reach_the_partner_copy(tmp_path):
    hostile = hostile_pdf(tmp_path)
    output = tmp_path / "partner.pdf"
    redacted_copy(hostile, "pdf", output)
    assert pdftotext(output).strip() == ""
    with pikepdf.open(output) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root and "/AcroForm" not in pdf.Root
        assert "/Names" not in pdf.Root and "/Outlines" not in pdf.Root
        for page in pdf.pages:
            assert "/Annots" not in page.obj
            pictures = list(page.get_images().values())
            assert len(pictures) == 1
            picture = Image.open(io.BytesIO(pictures[0].read_raw_bytes()))
            assert not picture.getexif()
            assert "exif" not in picture.info and "icc_profile" not in picture.info
        streams = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)]
        assert len(streams) == 2  # the page picture and the content stream that draws it
    raw = output.read_bytes()
    for needle in (b"Hope", b"9434765919", b"patient", b"GPS"):
        assert needle not in raw
    assert verify.verify_pdf(output, IDENTITY) == []


def rendered_text(text: str, size: tuple[int, int] = (1700, 1100)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 44)
    for number, line in enumerate(text.splitlines()):
        draw.text((100, 100 + number * 80), line, fill="black", font=font)
    return image


LETTER = """Leeds Teaching Hospitals NHS Trust
Patient: Mr Mark Hope
Date of birth: 03.04.1961
NHS number: 943 476 5919
The scan showed a stable appearance."""


def test_an_upside_down_photo_is_turned_before_it_is_read(tmp_path):
    upside_down = rendered_text(LETTER).rotate(180)
    path = tmp_path / "photo.png"
    upside_down.save(path)
    page = pages.photo_page(path)
    assert page.rotated == 180
    kinds = {b.kind for b in proposals.boxes_for(page, IDENTITY)}
    assert {"name", "date of birth", "NHS number", "provider"} <= kinds


def test_a_photo_at_an_angle_is_straightened(tmp_path):
    path = tmp_path / "tilted.png"
    rendered_text(LETTER).rotate(6, expand=True, fillcolor="white").save(path)
    page = pages.photo_page(path)
    assert abs(page.skew + 6) < 1.0
    texts = {b.text for b in proposals.boxes_for(page, IDENTITY)}
    assert {"943 476 5919", "03.04.1961"} <= texts


def test_handwriting_is_flagged_for_review_by_eye(tmp_path):
    page = pages.photo_page(support.handwriting(tmp_path / "scribble.png"))
    assert page.unreadable
    blank = tmp_path / "blank.png"
    Image.new("RGB", (1200, 1600), "white").save(blank)
    assert not pages.photo_page(blank).unreadable


def test_a_scanned_pdf_page_is_read_by_ocr(tmp_path):
    scan = tmp_path / "scan.pdf"
    rendered_text(LETTER).save(scan, "PDF", resolution=200)
    (page,) = list(pages.pdf_pages(scan))
    assert page.source == "ocr"
    assert "NHS number" in {b.kind for b in proposals.boxes_for(page, IDENTITY)}


def test_chinese_text_is_read_when_the_case_has_a_chinese_name(tmp_path):
    identity = support.Identity(names=("王小明",))
    image = Image.new("RGB", (1400, 400), "white")
    font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 60)
    ImageDraw.Draw(image).text((80, 120), "患者：王小明，男，六十三岁", fill="black", font=font)
    path = tmp_path / "zh.png"
    image.save(path)
    page = pages.photo_page(path, languages=pages.languages_for(*identity.names))
    assert [b.kind for b in proposals.boxes_for(page, identity)] == ["name"]


def dicom_with_burned_in_text(path: Path) -> Path:
    picture = Image.new("L", (512, 512), 0)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((150, 150, 360, 360), fill=140)
    font = ImageFont.truetype(FONT, 22)
    draw.text((10, 10), "HOPE, MARK  NHS 9434765919", fill=255, font=font)
    draw.text((10, 40), "DOB 03.04.1961", fill=255, font=font)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "HOPE^MARK", "9434765919", "19610403"
    ds.InstitutionName, ds.ReferringPhysicianName = "Leeds General Infirmary", "SHAH^PRIYA"
    ds.PatientAddress, ds.Modality, ds.BodyPartExamined = "14 Quarry Hill Road", "OT", "BREAST"
    ds.add_new(0x00091010, "LO", "private Mark Hope")
    ds.Rows, ds.Columns = 512, 512
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.asarray(picture, dtype=np.uint8).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_dicom_is_deidentified_and_its_burned_in_text_boxed(tmp_path):
    source = dicom_with_burned_in_text(tmp_path / "scan.dcm")
    dataset = dicom.read(source)
    original_study = str(dataset.StudyInstanceUID)
    dicom.deidentify(dataset, salt="MC-TEST-0001")
    for keyword in ("PatientAddress", "InstitutionName"):
        assert keyword not in dataset
    assert not dataset.PatientName and not dataset.PatientID and not dataset.PatientBirthDate
    assert not dataset.ReferringPhysicianName
    assert str(dataset.StudyInstanceUID) != original_study
    assert dataset.PatientIdentityRemoved == "YES"
    assert dataset.Modality == "OT" and dataset.BodyPartExamined == "BREAST"
    assert not any(element.tag.is_private for element in dataset)

    picture, _frame = dicom.first_frame_picture(dataset)
    page = pages.ocr_page(picture.resize((1024, 1024)), straighten=False)
    boxes = [tuple(v // 2 for v in b.box) for b in proposals.boxes_for(page, IDENTITY)]
    kinds = {b.kind for b in proposals.boxes_for(page, IDENTITY)}
    assert {"name", "NHS number", "date of birth"} <= kinds
    dicom.box_pixels(dataset, boxes)
    output = tmp_path / "clean.dcm"
    dataset.save_as(output, enforce_file_format=True)
    raw = output.read_bytes()
    assert b"HOPE" not in raw.upper() and b"9434765919" not in raw
    cleaned, _ = dicom.first_frame_picture(dicom.read(output))
    assert pages.ocr_page(cleaned.resize((1024, 1024)), straighten=False).words == [] or not [
        b
        for b in proposals.boxes_for(
            pages.ocr_page(cleaned.resize((1024, 1024)), straighten=False), IDENTITY
        )
    ]


def test_the_clean_copy_of_an_upload_keeps_no_metadata_comments_form_values_or_script_links(
    tmp_path,
):
    from cases.records.checks import record_check

    hostile = hostile_pdf(tmp_path)
    with pikepdf.open(hostile, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        for uri in ("javascript:app.alert('Mark Hope')", "https://www.nhs.uk/"):
            page.obj.Annots.append(
                pdf.make_indirect(
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.Annot,
                        Subtype=pikepdf.Name.Link,
                        Rect=[0, 0, 50, 50],
                        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(uri)),
                    )
                )
            )
        pdf.save(hostile)
    checked = record_check(hostile, tmp_path / "out")
    assert "unsafe links" in checked.metadata["removed"]
    with pikepdf.open(checked.derivative) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        links = [a.get("/A") for a in pdf.pages[0].Annots if a.get("/Subtype") == "/Link"]
        assert [str(a.URI) for a in links if a is not None] == ["https://www.nhs.uk/"]
        subtypes = {str(a.get("/Subtype")) for a in pdf.pages[0].Annots}
        assert "/Text" not in subtypes
        for annotation in pdf.pages[0].Annots:
            assert "/V" not in annotation and "/Contents" not in annotation
    raw = checked.derivative.read_bytes()
    for needle in (b"javascript", b"07700 900123", b"DOB 3/4/61", b"dc:creator"):
        assert needle not in raw
