"""Rendering a case file: a bilingual PDF made with WeasyPrint, the records merged in by
pikepdf, every page stamped with the reference and its number.

WeasyPrint may fetch only our own static files and this case's own record images,
through ``SafeFetcher``: nothing a patient typed can make the renderer read a local file
or call a server. Only the worker (and the ``build_case_file`` command) import this
module, so the web process never loads WeasyPrint.
"""

from __future__ import annotations

import io
import logging
import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import pikepdf
from django.core.files.base import ContentFile
from django.db.models import F
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image
from weasyprint import HTML

from cases.casefile.fetcher import SafeFetcher
from cases.casefile.partner import partner_file_problems, partner_view
from cases.domain import glossary
from cases.domain.records import PAGE_IMAGE_QUALITY, PAGE_IMAGE_SIDE
from cases.domain.validators import age_in_years
from cases.models import Case, CaseFile, Record, RecordCategory
from cases.records.checks.common import _strict_decoding
from cases.records.redaction.selectors import partner_copy_of, partner_records
from cases.storage import STORAGE_ERRORS

logger = logging.getLogger(__name__)

MAX_TOTAL_PAGES = 3000


class PartnerFileRefused(Exception):
    """The partner file may not be made now; the message says why in plain English."""


MAX_RECORD_PAGES = 2000
IMAGE_MAX_SIDE = PAGE_IMAGE_SIDE
# A record that cannot be read is left out with a reason; the rest of the file is made.
_UNREADABLE: tuple[type[BaseException], ...] = (
    pikepdf.PdfError,
    ValueError,
    Image.UnidentifiedImageError,
    *STORAGE_ERRORS,
)


@dataclass
class Built:
    page_count: int
    excluded: list[dict] = field(default_factory=list)
    refused_urls: list[str] = field(default_factory=list)


def _too_many(pages: int, budget: int) -> str:
    return (
        f"it has {pages} page{'s' if pages != 1 else ''}, more than a case file can hold "
        f"({max(0, min(MAX_RECORD_PAGES, budget))} left); send it separately"
    )


def _downscaled_jpeg(path_or_file: Path | IO[bytes]) -> bytes:
    # A cut-off photo is refused, not printed half grey (WeasyPrint lets Pillow fill it).
    with _strict_decoding(), Image.open(path_or_file) as image:
        # Ask the JPEG decoder for the target's shape, not a square: a 4032x3024 photo
        # then decodes at half size, which is most of the work saved.
        scale = min(1.0, IMAGE_MAX_SIDE / max(image.size))
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        picture = image.convert("RGB") if image.mode != "RGB" else image
        picture.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), reducing_gap=2.0)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=PAGE_IMAGE_QUALITY, optimize=True)
        return out.getvalue()


def _context(
    case: Case, variant: str, entries: list[dict[str, Any]], version: int
) -> dict[str, Any]:
    partner = variant == CaseFile.Variant.PARTNER
    sections = sorted(case.summary_sections.all(), key=lambda s: s.order)
    timeline = case.records.timeline().order_by("document_date", "created_at")
    if partner:
        timeline = timeline.exclude(category=RecordCategory.REVIEWER_OPINION)
    return {
        # The partner file's template never receives the case: only its pseudonymised view.
        "case": partner_view(case) if partner else case,
        "partner": partner,
        "variant_label": "Partner — pseudonymised"
        if partner
        else "Internal — contains identifiers",
        "version": version,
        "generated": timezone.now(),
        "age": age_in_years(case.patient_date_of_birth),
        "area_zh": glossary.MEDICAL_AREAS.get(case.medical_area, ""),
        "goal_zh": glossary.GOALS.get(case.goal, ""),
        "sex_zh": glossary.SEXES.get(case.sex, ""),
        "sections": [
            {
                "key": s.key,
                "title": s.get_key_display(),
                "title_zh": glossary.SECTIONS[s.key],
                "en": s.text_en,
                "zh": s.text_zh,
            }
            for s in sections
            # The coordinator's own Timeline is printed; a section marked "not needed"
            # (with a reason, checked at approval) is left out.
            if not s.not_needed_reason
        ],
        "timeline": [
            {
                "date": r.document_date,
                "category": r.get_category_display(),
                "category_zh": glossary.RECORD_CATEGORIES.get(r.category, ""),
                "description": r.description,
            }
            for r in timeline
        ],
        "directions": case.directions.select_related("direction"),
        "entries": entries,
    }


def _day(day: date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else "undated"


# The strip at the foot of a record's pages that holds its stamps; the page's own content is
# scaled into the space above it, so a stamp never covers anything on the record.
STRIP = 22.0


def _reserve_strip(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
    """Turn the page upright (its /Rotate drawn into the content) and scale its content
    into the space above a blank strip at the foot, where the stamps go."""
    box = [float(v) for v in page.cropbox]
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    rotate = int(page.obj.get("/Rotate", 0)) % 360
    # Upright: from the page's own coordinates to a box at (0, 0) as a reader shows it.
    upright = {
        0: (1, 0, 0, 1, -x0, -y0),
        90: (0, -1, 1, 0, -y0, x1),
        180: (-1, 0, 0, -1, x1, y1),
        270: (0, 1, -1, 0, y1, -x0),
    }[rotate]
    if rotate in (90, 270):
        w, h = h, w
    s = (h - STRIP) / h
    # Then scaled about the top centre into the space above the strip.
    scale = (s, 0, 0, s, (w - s * w) / 2, STRIP)
    matrix = _times(upright, scale)
    cm = " ".join(f"{v:.4f}" for v in matrix).encode()
    page.contents_add(pikepdf.Stream(pdf, b"q " + cm + b" cm\n"), prepend=True)
    page.contents_add(pikepdf.Stream(pdf, b"\nQ"), prepend=False)
    for annotation in page.obj.get("/Annots", []):
        if "/Rect" in annotation:
            annotation.Rect = pikepdf.Array(_moved(matrix, [float(v) for v in annotation.Rect]))
    page.obj.MediaBox = pikepdf.Array([0, 0, w, h])
    for name in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox", "/Rotate"):
        if name in page.obj:
            del page.obj[name]


def _times(first: tuple, then: tuple) -> tuple:
    """The PDF matrix that applies ``first`` and then ``then``."""
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _moved(matrix: tuple, rect: list[float]) -> list[float]:
    a, b, c, d, e, f = matrix
    points = [(x, y) for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]
    xs = [a * x + c * y + e for x, y in points]
    ys = [b * x + d * y + f for x, y in points]
    return [min(xs), min(ys), max(xs), max(ys)]


def _stamp(pdf: pikepdf.Pdf, page: pikepdf.Page, text: str, *, right: bool = False) -> None:
    """Write a small footer line on a page (Helvetica, Windows-1252 characters)."""
    box = page.cropbox
    width = 8 * 0.5 * len(text)  # Helvetica averages about half an em a character
    x = float(box[2]) - 28 - width if right else float(box[0]) + 28
    # In the strip of a record's page (``_reserve_strip``); in the margin of our own pages.
    y = float(box[1]) + 8
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    resources = page.obj.get("/Resources")
    if resources is None:
        page.obj.Resources = pikepdf.Dictionary()
        resources = page.obj.Resources
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    resources.Font.MCStamp = font  # the same name each time: one font, reused
    encoded = text.encode("cp1252", "replace")
    escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    # The page's own content may leave a transform in place (WeasyPrint flips the y axis):
    # wrap it in q ... Q so the stamp starts from the default coordinates.
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    stream = (
        b"Q q 1 1 1 rg "
        + f"{x - 4:.1f} {y - 4:.1f} {width + 8:.1f} 14 re f ".encode()
        + b"0 0 0 rg BT /MCStamp 8 Tf "
        + f"{x:.1f} {y:.1f} Td (".encode()
        + escaped
        + b") Tj ET Q"
    )
    page.contents_add(pikepdf.Stream(pdf, stream), prepend=False)


class _Missing(Exception):
    """A record's file is not in storage (removed by hand, or lost)."""


def _stored_bytes(stored: FieldFile) -> bytes:
    try:
        with stored.open("rb") as handle:
            return handle.read()
    except STORAGE_ERRORS as error:
        raise _Missing from error


def _is_jpeg(data: bytes) -> bool:
    """Whether these bytes open as a JPEG; reads the header only, never the pixels."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format == "JPEG"
    except (OSError, SyntaxError, ValueError):
        return False


def _page_image(record: Record) -> bytes:
    """The page-sized JPEG the record checks made for a photo or DICOM.

    A record checked before page images existed, or whose page image is missing from
    storage or unreadable, gets one made here from its clean copy, and kept: the next
    build reads it again instead of decoding the photo.
    """
    if record.page_image:
        try:
            data = _stored_bytes(record.page_image)
        except _Missing:
            logger.warning("Record %s: page image missing from storage, made again", record.pk)
        else:
            if _is_jpeg(data):
                return data
            logger.warning("Record %s: page image unreadable, made again", record.pk)
    source = record.preview if record.preview else record.derivative
    if not source:
        raise _Missing
    clean_copy = _stored_bytes(source)
    try:
        data = _downscaled_jpeg(io.BytesIO(clean_copy))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError("the photo could not be read; ask the patient to send it again") from error
    old = record.page_image.name if record.page_image else ""
    try:
        record.page_image.save("page.jpg", ContentFile(data), save=False)
        if old and old != record.page_image.name:
            record.page_image.storage.delete(old)
    except STORAGE_ERRORS:
        # This file is made all the same; only the next build has to shrink it again.
        logger.exception("Record %s: the page image could not be kept", record.pk)
        return data
    Record.objects.filter(pk=record.pk).update(page_image=record.page_image.name)
    return data


def _local_copy(stored: FieldFile, folder: Path, name: str) -> Path:
    """A record's PDF copied out of private storage in pieces (storage may be remote)."""
    path = folder / name
    try:
        source = stored.open("rb")
    except STORAGE_ERRORS as error:
        raise _Missing from error
    with source, path.open("wb") as target:
        shutil.copyfileobj(source, target, length=1024 * 1024)
    return path


def _qpdf_merge(parts: list[Path], output: Path) -> None:
    """Concatenate PDFs with the qpdf command: it streams page content from the inputs,
    so memory does not grow with the size of the records (pikepdf copying pages between
    open files holds them in memory). The first part's outline and names are kept."""
    first = parts[0]
    command = ["qpdf", "--warning-exit-0", str(first), "--pages", ".", *map(str, parts[1:])]
    done = subprocess.run(
        [*command, "--", str(output)], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise ValueError(f"the records could not be merged ({done.stderr.strip()[:200]})")


def _main_pdf(
    context: dict[str, Any], fetcher: SafeFetcher, pdf_sources: list, output: Path
) -> None:
    """Our own pages, with each record's first page in the merged file in the index.

    Photos are pages of this document (CSS ``target-counter``); PDF records follow it, so
    their first pages depend on its length: it is laid out once to learn it, then again
    with the numbers (again if they changed its length, which they seldom do).
    """
    html = render_to_string("cases/casefile/case_file.html", context)
    document = HTML(string=html, url_fetcher=fetcher, base_url="mcstatic:").render()
    for _ in range(3):
        if not pdf_sources:
            break
        start = len(document.pages) + 1
        for entry, _path, _document_date in pdf_sources:
            entry["start_page"] = start
            start += entry["pages"]
        html = render_to_string("cases/casefile/case_file.html", context)
        laid_out = HTML(string=html, url_fetcher=fetcher, base_url="mcstatic:").render()
        settled = len(laid_out.pages) == len(document.pages)
        document = laid_out
        if settled:
            break
    document.write_pdf(output)


def case_file_build(case: Case, variant: str, output: Path, version: int = 1) -> Built:
    """Render the case file to ``output`` (written whole, then moved into place).

    WeasyPrint makes the front matter and the closing pages; each record PDF is copied
    out of storage and stamped on its own; qpdf joins the parts; a last pass numbers the
    pages. Only one record is open at a time, so memory stays flat however many
    megabytes of scans a case holds.
    """
    partner = variant == CaseFile.Variant.PARTNER
    if partner:
        # Checked again now: consent may have been withdrawn, text edited or a record
        # changed since the file was asked for.
        problems = partner_file_problems(case)
        if problems:
            raise PartnerFileRefused(" ".join(problems))
        records = partner_records(case)
    else:
        # Document-date order, undated last: the same numbers on stamps, index and bookmarks.
        records = list(
            case.records.ready().order_by(F("document_date").asc(nulls_last=True), "created_at")
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".build-") as scratch:
        folder = Path(scratch)
        images: dict[str, bytes] = {}
        entries: list[dict] = []
        pdf_sources: list[tuple[dict, Path, date | None]] = []
        # Every page counts against the limit: record pages and a page a photo.
        budget = MAX_TOTAL_PAGES
        for number, record in enumerate(records, 1):
            entry = {
                "number": number,
                "category": record.get_category_display(),
                "category_zh": glossary.RECORD_CATEGORIES.get(record.category, ""),
                "date": record.document_date,
                "description": record.description,
                "pages": record.page_count or 1,
                "included": True,
                "reason": "",
                "image": "",
            }
            try:
                if partner:
                    # Only the approved, image-only partner copy: every kind of record is a
                    # PDF of burned page pictures by now.
                    copy = partner_copy_of(record)
                    if copy is None or not copy.is_current:
                        raise PartnerFileRefused("a record's partner copy is no longer approved")
                    path = _local_copy(copy.file, folder, f"record-{number}.pdf")
                    with pikepdf.open(path) as probe:
                        pages = len(probe.pages)
                    if pages > budget:
                        raise ValueError(_too_many(pages, budget))
                    entry["pages"] = pages
                    budget -= pages
                    pdf_sources.append((entry, path, record.document_date))
                elif record.derivative_type == "application/pdf":
                    pages = record.page_count or 0
                    if pages > MAX_RECORD_PAGES or pages > budget:
                        raise ValueError(_too_many(pages, budget))
                    path = _local_copy(record.derivative, folder, f"record-{number}.pdf")
                    with pikepdf.open(path) as probe:
                        pages = len(probe.pages)
                    if pages > MAX_RECORD_PAGES or pages > budget:
                        raise ValueError(_too_many(pages, budget))
                    entry["pages"] = pages
                    budget -= pages
                    pdf_sources.append((entry, path, record.document_date))
                else:
                    if budget < 1:
                        raise ValueError(_too_many(1, budget))
                    images[str(record.public_id)] = _page_image(record)
                    entry["image"] = f"mcrecord:{record.public_id}"
                    entry["pages"] = 1
                    budget -= 1
            except pikepdf.PasswordError:
                entry.update(included=False, reason="the PDF is protected by a password")
            except _Missing:
                entry.update(
                    included=False,
                    reason="its file is missing from storage; ask the patient to send it again",
                )
            except _UNREADABLE as error:
                reason = str(error) if isinstance(error, ValueError) else "the file is damaged"
                entry.update(included=False, reason=reason)
            entries.append(entry)

        fetcher = SafeFetcher(images)
        context = _context(case, variant, entries, version)
        main_path, closing_path = folder / "main.pdf", folder / "closing.pdf"
        _main_pdf(context, fetcher, pdf_sources, main_path)
        HTML(
            string=render_to_string("cases/casefile/closing.html", context), url_fetcher=fetcher
        ).write_pdf(closing_path)
        del images  # the photos are in the front matter now

        with pikepdf.open(main_path) as main:
            main_pages = len(main.pages)
        total_records = len(entries)
        parts = [main_path]
        bookmarks: list[tuple[str, int]] = []
        record_pages: set[int] = set()
        start = main_pages
        for entry, path, document_date in pdf_sources:
            stamped = folder / f"stamped-{entry['number']}.pdf"
            try:
                with pikepdf.open(path) as record_pdf:
                    count = len(record_pdf.pages)
                    for index, page in enumerate(record_pdf.pages, 1):
                        _reserve_strip(record_pdf, page)
                        _stamp(
                            record_pdf,
                            page,
                            f"{case.reference} \u00b7 Record {entry['number']} of "
                            f"{total_records} \u00b7 page {index}/{count}",
                        )
                    record_pdf.save(stamped)
            except (pikepdf.PdfError, OSError) as error:
                entry.update(included=False, reason=f"it could not be merged ({error})")
                continue
            finally:
                path.unlink(missing_ok=True)
            parts.append(stamped)
            bookmarks.append(
                (
                    f"Record {entry['number']}: {entry['category']} · "
                    f"{entry['category_zh']} ({_day(document_date)})",
                    start,
                )
            )
            record_pages.update(range(start, start + count))
            start += count
        bookmarks.append(("What this file is not", start))
        parts.append(closing_path)
        merged = folder / "merged.pdf"
        _qpdf_merge(parts, merged)
        for part in parts[1:-1]:
            part.unlink(missing_ok=True)

        with pikepdf.open(merged) as pdf:
            with pdf.open_outline() as outline:
                for title, page_index in bookmarks:
                    outline.root.append(pikepdf.OutlineItem(title, page_index))
            # Page numbers over the whole file, and the reference on pages that lack it.
            total = len(pdf.pages)
            label = (
                f"{case.reference} \u00b7 {'Partner (pseudonymised)' if partner else 'Internal'}"
            )
            for number, page in enumerate(pdf.pages, 1):
                if number > 1:
                    if number - 1 not in record_pages:
                        _stamp(pdf, page, f"{label} \u00b7 v{version}")
                    _stamp(pdf, page, f"Page {number} of {total}", right=True)
            # Nothing may ride along: no attachments, no scripts.
            if "/Names" in pdf.Root:
                for key in ("/EmbeddedFiles", "/JavaScript"):
                    if key in pdf.Root.Names:
                        del pdf.Root.Names[key]
            with pdf.open_metadata() as meta:
                meta["dc:title"] = f"Case file {case.reference} ({variant}, v{version})"
                meta["dc:description"] = "medChina Intake case file for a second-opinion review"
            pdf.docinfo["/Title"] = f"Case file {case.reference} ({variant}, v{version})"
            pdf.docinfo["/Subject"] = "medChina Intake case file for a second-opinion review"
            pdf.docinfo["/CreationDate"] = timezone.now().strftime("D:%Y%m%d%H%M%SZ")
            pdf.docinfo["/Producer"] = "medChina Intake (WeasyPrint, pikepdf, qpdf)"
            page_count = len(pdf.pages)
            with tempfile.NamedTemporaryFile(
                dir=output.parent, suffix=".part", delete=False
            ) as tmp:
                temporary = Path(tmp.name)
            try:
                pdf.save(temporary)
                os.replace(temporary, output)
            finally:
                temporary.unlink(missing_ok=True)
    excluded = [
        {"number": e["number"], "category": e["category"], "reason": e["reason"]}
        for e in entries
        if not e["included"]
    ]
    return Built(page_count=page_count, excluded=excluded, refused_urls=fetcher.refused)
