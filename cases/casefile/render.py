"""Rendering a case file: a bilingual PDF made with WeasyPrint, the records merged in by
pikepdf, every page stamped with the reference and its number.

WeasyPrint may fetch only our own static files and this case's own record images,
through ``SafeFetcher``: nothing a patient typed can make the renderer read a local file
or call a server. Only the worker (and the ``build_case_file`` command) import this
module, so the web process never loads WeasyPrint.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import pikepdf
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image
from weasyprint import HTML

from cases.casefile.fetcher import SafeFetcher
from cases.casefile.partner import partner_file_problems, partner_view
from cases.domain import glossary
from cases.domain.validators import age_in_years
from cases.models import Case, CaseFile, RecordCategory
from cases.records.redaction.selectors import partner_copy_of, partner_records
from cases.storage import STORAGE_ERRORS, local_copy

MAX_TOTAL_PAGES = 3000


class PartnerFileRefused(Exception):
    """The partner file may not be made now; the message says why in plain English."""


MAX_RECORD_PAGES = 2000
IMAGE_MAX_SIDE = 1600
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


def _downscaled_jpeg(path_or_file: Path | IO[bytes]) -> bytes:
    with Image.open(path_or_file) as image:
        # Ask the JPEG decoder for the target's shape, not a square: a 4032x3024 photo
        # then decodes at half size, which is most of the work saved.
        scale = min(1.0, IMAGE_MAX_SIDE / max(image.size))
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        picture = image.convert("RGB") if image.mode != "RGB" else image
        picture.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), reducing_gap=2.0)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=82, optimize=True)
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


def _stamp(pdf: pikepdf.Pdf, page: pikepdf.Page, text: str, *, right: bool = False) -> None:
    """Write a small footer line on a page (Helvetica, Windows-1252 characters)."""
    box = page.mediabox
    width = 8 * 0.5 * len(text)  # Helvetica averages about half an em a character
    x = float(box[2]) - 28 - width if right else float(box[0]) + 28
    y = float(box[1]) + 14
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


def case_file_build(case: Case, variant: str, output: Path, version: int = 1) -> Built:
    """Render the case file to the local file ``output`` (written whole, then moved into
    place). Record PDFs are merged from local copies, removed when this returns."""
    with ExitStack() as copies:
        return _build(case, variant, output, version, copies)


def _build(case: Case, variant: str, output: Path, version: int, copies: ExitStack) -> Built:
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
    images: dict[str, bytes] = {}
    entries: list[dict] = []
    pdf_sources: list[tuple[dict, Path, date | None]] = []
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
                path = copies.enter_context(local_copy(copy.file, suffix=".pdf"))
                with pikepdf.open(path) as probe:
                    pages = len(probe.pages)
                if pages > budget:
                    raise ValueError(
                        f"it has {pages} pages, more than a case file can hold "
                        f"({budget} left); send it separately"
                    )
                entry["pages"] = pages
                budget -= pages
                pdf_sources.append((entry, path, record.document_date))
            elif record.derivative_type == "application/pdf":
                path = copies.enter_context(local_copy(record.derivative, suffix=".pdf"))
                with pikepdf.open(path) as probe:
                    pages = len(probe.pages)
                if pages > MAX_RECORD_PAGES or pages > budget:
                    raise ValueError(
                        f"it has {pages} pages, more than a case file can hold "
                        f"({min(MAX_RECORD_PAGES, budget)} left); send it separately"
                    )
                entry["pages"] = pages
                budget -= pages
                pdf_sources.append((entry, path, record.document_date))
            else:
                source = record.preview if record.preview else record.derivative
                with source.open("rb") as handle:
                    images[str(record.public_id)] = _downscaled_jpeg(handle)
                entry["image"] = f"mcrecord:{record.public_id}"
        except pikepdf.PasswordError:
            entry.update(included=False, reason="the PDF is protected by a password")
        except _UNREADABLE as error:
            reason = str(error) if isinstance(error, ValueError) else "the file is damaged"
            entry.update(included=False, reason=reason)
        entries.append(entry)

    fetcher = SafeFetcher(images)
    context = _context(case, variant, entries, version)
    main_html = render_to_string("cases/casefile/case_file.html", context)
    main_pdf = HTML(string=main_html, url_fetcher=fetcher, base_url="mcstatic:").write_pdf()
    closing_pdf = HTML(
        string=render_to_string("cases/casefile/closing.html", context), url_fetcher=fetcher
    ).write_pdf()

    with pikepdf.open(io.BytesIO(main_pdf)) as pdf:
        total_records = len(entries)
        record_pages: set[int] = set()
        with pdf.open_outline() as outline:
            for entry, path, document_date in pdf_sources:
                bookmark_day = _day(document_date)
                try:
                    with pikepdf.open(path) as record_pdf:
                        start = len(pdf.pages)
                        count = len(record_pdf.pages)
                        for index, page in enumerate(record_pdf.pages, 1):
                            pdf.pages.append(page)
                            record_pages.add(len(pdf.pages) - 1)
                            _stamp(
                                pdf,
                                pdf.pages[-1],
                                f"{case.reference} \u00b7 Record {entry['number']} of "
                                f"{total_records} \u00b7 page {index}/{count}",
                            )
                        outline.root.append(
                            pikepdf.OutlineItem(
                                f"Record {entry['number']}: {entry['category']} · "
                                f"{entry['category_zh']} ({bookmark_day})",
                                start,
                            )
                        )
                except (pikepdf.PdfError, OSError) as error:
                    entry.update(included=False, reason=f"it could not be merged ({error})")
            with pikepdf.open(io.BytesIO(closing_pdf)) as closing:
                start = len(pdf.pages)
                pdf.pages.extend(closing.pages)
                outline.root.append(pikepdf.OutlineItem("What this file is not", start))
        # Page numbers over the whole file, and the reference on pages that lack it.
        total = len(pdf.pages)
        label = f"{case.reference} \u00b7 {'Partner (pseudonymised)' if partner else 'Internal'}"
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
        pdf.docinfo["/Producer"] = "medChina Intake (WeasyPrint, pikepdf)"
        page_count = len(pdf.pages)
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=output.parent, suffix=".part", delete=False) as tmp:
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
