"""The records index says where each record starts; record stamps never cover a record."""

from __future__ import annotations

import io
import re
from datetime import date

import pikepdf
import pypdfium2 as pdfium
import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader

from cases.casefile.render import STRIP, case_file_build
from cases.records.processing import record_process
from cases.records.services import record_add
from tests.cases.casefile.test_casefile import _flat, _ready_case
from tests.records_support import jpeg_bytes

pytestmark = pytest.mark.django_db


def _full_bleed_pdf(pages: int = 1, *, rotate: int = 0) -> bytes:
    """Black to every edge: anything drawn over its foot would hide part of it."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.contents_add(pikepdf.Stream(pdf, b"0 0 0 rg 0 0 595 842 re f"))
        if rotate:
            page.Rotate = rotate
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _add(case, content: bytes, name: str, category: str, day: str | None):
    record = record_add(
        case=case,
        file=ContentFile(content, name=name),
        category=category,
        document_date=date.fromisoformat(day) if day else None,
        description=f"Upload {name}",
        run_checks=False,
    ).record
    record_process(record_id=record.pk)
    return record


def _start_page(reader: PdfReader, number: int) -> str:
    """The index's first page for record ``number``."""
    text = "\n".join(page.extract_text() for page in reader.pages[:8])
    index = text[text.index("First page") :]
    found = re.search(rf"^{number} (\d+|—) ", index, re.M)
    assert found, index
    return found[1]


def test_the_index_gives_each_records_first_page_in_the_merged_file(tmp_path):
    case, *_ = _ready_case()  # two 2-page PDF records, 2026-01-15 and 2026-03-01
    _add(case, jpeg_bytes((400, 300)), "photo.jpg", "imaging_report", "2026-02-01")
    output = tmp_path / "internal.pdf"

    built = case_file_build(case, "internal", output)

    reader = PdfReader(output)
    assert len(reader.pages) == built.page_count
    starts = {
        int(m[1]): reader.get_destination_page_number(item) + 1
        for item in _flat(reader.outline)
        if (m := re.match(r"Record (\d+):", item.title))
    }
    # Record 2 is the photo, a page of our own; records 1 and 3 are merged PDFs.
    photo_page = next(
        n for n, page in enumerate(reader.pages, 1) if "Record 2: " in page.extract_text()
    )
    assert _start_page(reader, 2) == str(photo_page)
    assert _start_page(reader, 1) == str(starts[1])
    assert _start_page(reader, 3) == str(starts[3])
    assert starts[3] == starts[1] + 2
    assert "Record 1 of 3 · page 1/2" in reader.pages[starts[1] - 1].extract_text()


@pytest.mark.parametrize("rotate", [0, 90])
def test_record_stamps_sit_in_a_strip_below_the_records_content(tmp_path, rotate):
    case, *_ = _ready_case()
    _add(case, _full_bleed_pdf(rotate=rotate), "scan.pdf", "letter", None)  # undated: last
    output = tmp_path / "internal.pdf"

    case_file_build(case, "internal", output)

    reader = PdfReader(output)
    number = next(
        n for n, page in enumerate(reader.pages) if "Record 3 of 3" in page.extract_text()
    )
    page = pdfium.PdfDocument(output)[number]
    width, height = page.get_size()
    assert (round(width), round(height)) == ((595, 842) if rotate == 0 else (842, 595))
    image = page.render(scale=1).to_pil().convert("L")
    strip_top = image.height - int(STRIP)

    def dark(y: int) -> float:
        row = [image.getpixel((x, y)) for x in range(image.width)]
        return sum(v < 128 for v in row) / len(row)

    # The record's black reaches the top and stops above the strip, whole: nothing of it
    # is under the stamps, which are text on white across most of the strip's width.
    assert dark(5) > 0.9
    assert dark(strip_top - 3) > 0.9
    assert all(dark(y) < 0.5 for y in range(strip_top + 1, image.height))
    text = reader.pages[number].extract_text()
    assert f"{case.reference} · Record 3 of 3 · page 1/1" in text
    assert f"Page {number + 1} of {len(reader.pages)}" in text
