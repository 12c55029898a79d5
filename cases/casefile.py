"""Case files: a bilingual PDF made with WeasyPrint, with the records merged by pikepdf.

Two variants: ``internal`` (everything) and ``partner`` (pseudonymised for the China-side
review). WeasyPrint may fetch only our own static files and this case's own record
derivatives, through a fetcher that refuses every other URL — so nothing a patient typed
can make the renderer read a local file or call a server.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pikepdf
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image

from cases import glossary
from cases.consents import ConsentKind
from cases.models import (
    AuditEvent,
    Case,
    CaseFile,
    IdentifierResolution,
    Record,
    RecordCategory,
    SummarySection,
    active_consent,
)
from cases.services import audit_log
from cases.validators import age_in_years

MAX_TOTAL_PAGES = 3000
MAX_RECORD_PAGES = 2000
IMAGE_MAX_SIDE = 1600


class CaseFileRefused(ValidationError):
    """The case file cannot be made yet; the message says what to do first."""


# --- Identifier scanning (partner variant) -------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str
    text: str
    section: str


_PATTERNS = {
    "NHS number": re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE),
    "phone number": re.compile(r"(?:\+\d{1,3}[\s-]?)?(?:\(?0\d{2,4}\)?[\s-]?)\d{3,4}[\s-]?\d{3,4}"),
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
}


def _date_forms(day: date) -> list[str]:
    return [
        day.isoformat(),
        f"{day:%d/%m/%Y}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day} {day:%B %Y}",
        f"{day.day} {day:%b %Y}",
        f"{day.year}年{day.month}月{day.day}日",
    ]


def identifier_scan(case: Case) -> list[Hit]:
    """Possible identifiers in the free text a partner file prints, not yet accepted."""
    accepted = set(case.identifier_resolutions.values_list("text", flat=True))
    names = {
        part
        for name in (case.patient_name, case.contact_name)
        for part in re.split(r"[\s()（）,]+", name)
        if len(part) >= 2
    }
    # Every piece of free text the partner file prints: summary sections, record
    # descriptions (timeline and index) and the reasons given for directions.
    texts: list[tuple[str, str]] = []
    for section in case.summary_sections.all():
        texts += [
            (section.get_key_display(), section.text_en),
            (section.get_key_display(), section.text_zh),
        ]
    texts += [
        ("Record descriptions", d) for d in case.records.values_list("description", flat=True)
    ]
    texts += [
        ("Direction rationales", r) for r in case.directions.values_list("rationale", flat=True)
    ]
    hits: list[Hit] = []
    for where, text in texts:
        if text:
            found: list[tuple[str, str]] = []
            for kind, pattern in _PATTERNS.items():
                found += [(kind, m.group(0)) for m in pattern.finditer(text)]
            found += [
                ("date of birth", form)
                for form in _date_forms(case.patient_date_of_birth)
                if form in text
            ]
            found += [
                ("name", name)
                for name in names
                if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)
            ]
            hits += [Hit(kind, value, where) for kind, value in found if value not in accepted]
    unique: dict[tuple[str, str], Hit] = {}
    for hit in hits:
        unique.setdefault((hit.kind, hit.text), hit)
    return list(unique.values())


def identifier_accept(*, case: Case, text: str, kind: str, by) -> None:
    IdentifierResolution.objects.get_or_create(
        case=case, text=text, defaults={"kind": kind, "resolved_by": by}
    )
    audit_log(action=AuditEvent.Action.IDENTIFIER_RESOLVED, actor=by, case=case, kind=kind)


def sharing_consent_active(case: Case) -> bool:
    return active_consent(case, ConsentKind.SHARING) is not None


# --- Requesting ------------------------------------------------------------------------------


def case_file_request(*, case: Case, variant: str, by, regenerate: bool = False) -> CaseFile:
    """Queue a case file. Asking again while one is queued or ready returns that one.

    ``regenerate`` makes a new version even when a ready one exists.
    """
    if variant == CaseFile.Variant.PARTNER:
        if not sharing_consent_active(case):
            raise CaseFileRefused(
                "The patient has not given consent to share a case file with China-side "
                "reviewers. Ask them to give it on their case page first."
            )
        unresolved = identifier_scan(case)
        if unresolved:
            raise CaseFileRefused(
                f"The summary still has {len(unresolved)} possible identifier(s) (for "
                f"example a {unresolved[0].kind} in {unresolved[0].section}). Remove them "
                "from the text or mark them as acceptable first."
            )
    from cases.tasks import generate_case_file

    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        latest = case.case_files.filter(variant=variant).order_by("-version").first()
        if latest and _stalled(latest):
            # Its worker died mid-render; the redelivered task cannot claim it again.
            case_file_give_up(case_file_id=latest.pk, error="the render was interrupted")
            latest.refresh_from_db()
        if latest and (
            latest.state in {CaseFile.State.QUEUED, CaseFile.State.RENDERING}
            or (latest.state == CaseFile.State.READY and not regenerate)
        ):
            return latest
        version = (
            case.case_files.filter(variant=variant).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        case_file = CaseFile.objects.create(
            case=case, variant=variant, version=version, requested_by=by
        )
        audit_log(
            action=AuditEvent.Action.CASE_FILE_REQUESTED,
            actor=by,
            case=case,
            target=str(case_file.public_id),
            variant=variant,
            version=version,
        )
        transaction.on_commit(lambda: generate_case_file.delay(case_file.pk))
    return case_file


# --- Rendering -------------------------------------------------------------------------------


@dataclass
class Built:
    page_count: int
    excluded: list[dict] = field(default_factory=list)
    refused_urls: list[str] = field(default_factory=list)


def _downscaled_jpeg(path_or_file) -> bytes:
    with Image.open(path_or_file) as image:
        # Ask the JPEG decoder for the target's shape, not a square: a 4032x3024 photo
        # then decodes at half size, which is most of the work saved.
        scale = min(1.0, IMAGE_MAX_SIDE / max(image.size))
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        if image.mode != "RGB":
            image = image.convert("RGB")
        image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), reducing_gap=2.0)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=82, optimize=True)
        return out.getvalue()


def _context(case: Case, variant: str, entries: list[dict], version: int) -> dict:
    partner = variant == CaseFile.Variant.PARTNER
    sections = sorted(case.summary_sections.all(), key=lambda s: s.order)
    timeline = (
        case.records.filter(document_date__isnull=False)
        .exclude(state=Record.State.REJECTED)
        .exclude(category=RecordCategory.REVIEWER_OPINION)
        .order_by("document_date")
    )
    return {
        "case": case,
        "partner": partner,
        "variant_label": "Partner — pseudonymised"
        if partner
        else "Internal — contains identifiers",
        "version": version,
        "generated": timezone.now(),
        "age": age_in_years(case.patient_date_of_birth),
        "area_zh": glossary.MEDICAL_AREAS.get(case.medical_area, ""),
        "goal_zh": glossary.GOALS.get(case.goal, ""),
        "sections": [
            {
                "key": s.key,
                "title": s.get_key_display(),
                "title_zh": glossary.SECTIONS[s.key],
                "en": s.text_en,
                "zh": s.text_zh,
            }
            for s in sections
            if s.key != SummarySection.Key.TIMELINE
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
    """Render the case file to ``output`` (written whole, then moved into place)."""
    partner = variant == CaseFile.Variant.PARTNER
    ready = case.records.filter(state=Record.State.READY).order_by("document_date", "created_at")
    if partner:
        ready = ready.exclude(category=RecordCategory.REVIEWER_OPINION)
    records = list(ready)
    images: dict[str, bytes] = {}
    entries: list[dict] = []
    pdf_sources: list[tuple[dict, Path]] = []
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
        if partner and not record.cleared_for_partner:
            entry.update(
                included=False,
                reason="withheld from the partner file until a coordinator has checked it "
                "for identifiers",
            )
            entries.append(entry)
            continue
        try:
            if record.derivative_type == "application/pdf":
                path = Path(record.derivative.path)
                with pikepdf.open(path) as probe:
                    pages = len(probe.pages)
                if pages > MAX_RECORD_PAGES or pages > budget:
                    raise ValueError(
                        f"it has {pages} pages, more than a case file can hold "
                        f"({min(MAX_RECORD_PAGES, budget)} left); send it separately"
                    )
                entry["pages"] = pages
                budget -= pages
                pdf_sources.append((entry, path))
            else:
                source = record.preview if record.preview else record.derivative
                with source.open("rb") as handle:
                    images[str(record.public_id)] = _downscaled_jpeg(handle)
                entry["image"] = f"mcrecord:{record.public_id}"
        except pikepdf.PasswordError:
            entry.update(included=False, reason="the PDF is protected by a password")
        except (pikepdf.PdfError, OSError, ValueError, Image.UnidentifiedImageError) as error:
            reason = str(error) if isinstance(error, ValueError) else "the file is damaged"
            entry.update(included=False, reason=reason)
        entries.append(entry)

    # WeasyPrint is heavy: load it only in the process that renders (the worker).
    from weasyprint import HTML

    from cases.pdf_fetcher import SafeFetcher

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
            for entry, path in pdf_sources:
                try:
                    with pikepdf.open(path) as source:
                        start = len(pdf.pages)
                        count = len(source.pages)
                        for index, page in enumerate(source.pages, 1):
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
                                f"Record {entry['number']}: {entry['category']}", start
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


class TransientFailure(Exception):
    """A fault on our side worth retrying (disk, storage)."""


def case_file_generate(*, case_file_id: int) -> CaseFile | None:
    """Claim a queued case file, render it, and store the result on the row."""
    claimed = CaseFile.objects.filter(pk=case_file_id, state=CaseFile.State.QUEUED).update(
        state=CaseFile.State.RENDERING, started_at=timezone.now()
    )
    if not claimed:
        return None
    case_file = CaseFile.objects.select_related("case").get(pk=case_file_id)
    started = time.monotonic()
    name = (
        f"case-files/{case_file.public_id}/case-file-{case_file.variant}-v{case_file.version}.pdf"
    )
    output = Path(settings.PRIVATE_STORAGE_ROOT) / name
    try:
        built = case_file_build(case_file.case, case_file.variant, output, case_file.version)
    except OSError as error:
        CaseFile.objects.filter(pk=case_file_id).update(
            state=CaseFile.State.QUEUED, last_error=f"{type(error).__name__}: {error}"[:500]
        )
        raise TransientFailure(str(error)) from error
    except Exception as error:  # a bad input must not kill the worker: record it, readably
        case_file.state = CaseFile.State.FAILED
        case_file.last_error = (
            "The case file could not be made: "
            f"{type(error).__name__}: {str(error)[:300]}. The records and summary are "
            "unchanged; fix the cause and regenerate."
        )
        case_file.finished_at = timezone.now()
        case_file.save(update_fields=["state", "last_error", "finished_at"])
        return case_file
    digest = hashlib.sha256()
    with output.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    case_file.file.name = name
    case_file.sha256 = digest.hexdigest()
    case_file.page_count = built.page_count
    case_file.excluded = built.excluded
    case_file.state = CaseFile.State.READY
    case_file.finished_at = timezone.now()
    case_file.duration_ms = int((time.monotonic() - started) * 1000)
    case_file.last_error = ""
    case_file.save()
    return case_file


def _stalled(case_file: CaseFile) -> bool:
    from medchina.celery import HARD_TIME_LIMIT

    return (
        case_file.state == CaseFile.State.RENDERING
        and case_file.started_at is not None
        and (timezone.now() - case_file.started_at).total_seconds() > HARD_TIME_LIMIT
    )


def case_file_give_up(*, case_file_id: int, error: str) -> None:
    """After the last retry of a fault on our side, say so on the row."""
    CaseFile.objects.filter(
        pk=case_file_id, state__in=[CaseFile.State.QUEUED, CaseFile.State.RENDERING]
    ).update(
        state=CaseFile.State.FAILED,
        finished_at=timezone.now(),
        last_error=(
            "The case file could not be written because of a problem on our side "
            f"({error[:200]}). Nothing else is affected; try Regenerate later."
        ),
    )


def case_file_approve(*, case_file: CaseFile, by) -> None:
    if case_file.variant != CaseFile.Variant.PARTNER or case_file.state != CaseFile.State.READY:
        raise ValidationError("Only a ready partner case file can be approved.")
    case_file.approved_by = by
    case_file.approved_at = timezone.now()
    case_file.save(update_fields=["approved_by", "approved_at"])
    audit_log(
        action=AuditEvent.Action.CASE_FILE_APPROVED,
        actor=by,
        case=case_file.case,
        target=str(case_file.public_id),
    )


def case_file_release(*, case_file: CaseFile, by) -> None:
    if case_file.variant != CaseFile.Variant.INTERNAL or case_file.state != CaseFile.State.READY:
        raise ValidationError("Only a ready internal case file can be released to the patient.")
    case_file.released_at = timezone.now()
    case_file.save(update_fields=["released_at"])
    audit_log(
        action=AuditEvent.Action.CASE_FILE_RELEASED,
        actor=by,
        case=case_file.case,
        target=str(case_file.public_id),
    )
