"""Writes for redaction: proposing boxes (in the worker), reviewing pages, approving a copy.

A partner copy moves ``queued -> working -> review -> approved``. Proposals are made from the
record's clean copy; the page pictures are kept (staff-only) so the coordinator reviews
exactly what will be burned; approval burns the boxes into those pictures and writes the
image-only PDF that partner files include.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from cases.audit import audit_log
from cases.domain.identifiers import Identity
from cases.leases import lease_claim, lease_kept
from cases.models import AuditEvent, PartnerCopy, Record, RedactionPage
from cases.records.redaction import dicom, pages, proposals
from cases.records.redaction.partner_copy import write_image_pdf
from cases.records.redaction.selectors import case_identity
from cases.storage import STORAGE_ERRORS, scratch_dir
from cases.tasks import enqueue_on_commit, redact_record

PICTURE_QUALITY = 90


class RedactionRefused(ValidationError):
    """The partner copy cannot be approved yet; the message says what to do first."""


def partner_copy_prepare(*, record: Record) -> PartnerCopy:
    """The record's partner copy row, set back to queued so proposals are made afresh."""
    with transaction.atomic():
        copy, _created = PartnerCopy.objects.select_for_update().get_or_create(record=record)
        copy.state = PartnerCopy.State.QUEUED
        copy.pages_done = 0
        copy.attempts = 0
        copy.last_error = ""
        copy.queued_at = timezone.now()
        copy.lease_expires_at = None
        copy.save(
            update_fields=[
                "state",
                "pages_done",
                "attempts",
                "last_error",
                "queued_at",
                "lease_expires_at",
            ]
        )
    return copy


def partner_copy_request(*, record: Record) -> PartnerCopy | None:
    """Queue proposals for a ready record (again, if its content changed since)."""
    if record.state != Record.State.READY:
        return None
    existing = PartnerCopy.objects.filter(record=record).first()
    if (
        existing is not None
        and existing.source_sha256 == record.sha256
        and existing.state != PartnerCopy.State.FAILED
    ):
        return existing
    copy = partner_copy_prepare(record=record)
    enqueue_on_commit(redact_record, copy.pk)
    return copy


def _record_kind(record: Record) -> str:
    if record.derivative_type == "application/pdf":
        return "pdf"
    if record.derivative_type == "application/dicom":
        return "dicom"
    return "image"


class RedactionInterrupted(Exception):
    """A fault on our side (storage, disk) worth retrying."""


BATCH_PAGES = 20  # pages per task: at most about a minute of OCR


def partner_copy_propose(*, partner_copy_id: int, first_page: int = 1) -> int | None:
    """Make pictures and proposed boxes for one batch of pages; the next batch's first page.

    The first batch claims the queued copy; later batches continue a copy that is working
    and has reached their first page. Each page row is written whole (update_or_create),
    so a batch that runs twice writes the same rows again.
    """
    working = PartnerCopy.State.WORKING
    if first_page == 1:
        claimed = lease_claim(
            PartnerCopy,
            partner_copy_id,
            waiting=[PartnerCopy.State.QUEUED],
            working=working,
            started_at=timezone.now(),
            pages_done=0,
        )
    else:
        # A later batch continues a working copy whose previous batch let go of its lease
        # (or whose worker died holding it), and only from where that batch got to.
        claimed = PartnerCopy.objects.filter(
            pk=partner_copy_id, state=working, pages_done__gte=first_page - 1
        ).exists() and lease_claim(PartnerCopy, partner_copy_id, waiting=[], working=working)
    if not claimed:
        return None
    copy = PartnerCopy.objects.select_related("record__case").get(pk=partner_copy_id)
    record = copy.record
    identity = case_identity(record.case)
    kind = _record_kind(record)
    last_page = first_page + BATCH_PAGES - 1
    workdir = Path(tempfile.mkdtemp(prefix="redact-", dir=scratch_dir()))
    try:
        source = workdir / "source"
        try:
            with record.derivative.open("rb") as handle, source.open("wb") as out:
                shutil.copyfileobj(handle, out)
        except STORAGE_ERRORS as error:
            PartnerCopy.objects.filter(pk=copy.pk).update(
                state=PartnerCopy.State.QUEUED if first_page == 1 else working,
                lease_expires_at=None,
                last_error=f"{type(error).__name__}: {error}"[:500],
            )
            raise RedactionInterrupted(str(error)) from error
        if first_page == 1:
            for old in copy.pages.all():
                old.picture.delete(save=False)
            copy.pages.all().delete()
            copy.page_count = pages.pdf_page_count(source) if kind == "pdf" else 1
            copy.source_sha256 = record.sha256
            copy.save(update_fields=["page_count", "source_sha256"])
        found = _proposals(
            source, kind, identity, salt=record.case_id, first=first_page, last=last_page
        )
        with lease_kept(PartnerCopy, partner_copy_id, working=working):
            for page, proposal, dpi in found:
                _store_page(copy, page, proposal, dpi)
                # Progress for long PDFs: the admin shows "page 40 of 300".
                PartnerCopy.objects.filter(pk=copy.pk).update(pages_done=proposal.number)
    except (pages.PageError, ValueError, Image.DecompressionBombError) as error:
        PartnerCopy.objects.filter(pk=copy.pk).update(
            state=PartnerCopy.State.FAILED,
            lease_expires_at=None,
            last_error=f"The pages could not be read: {error}"[:500],
        )
        return None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    copy.refresh_from_db()
    if last_page < copy.page_count:
        # Let go, so the next batch (its own task) can claim the copy; a finished batch
        # was no failed attempt.
        PartnerCopy.objects.filter(pk=copy.pk, state=working).update(
            lease_expires_at=None, attempts=0, queued_at=timezone.now()
        )
        return last_page + 1
    copy.state = PartnerCopy.State.REVIEW
    copy.unreadable_pages = copy.pages.filter(unreadable=True).count()
    copy.finished_at = timezone.now()
    copy.last_error = ""
    copy.lease_expires_at = None
    copy.save(
        update_fields=["state", "unreadable_pages", "finished_at", "last_error", "lease_expires_at"]
    )
    return None


def partner_copy_give_up(*, partner_copy_id: int) -> None:
    """The reconciler's last word on proposals that kept stopping their worker."""
    PartnerCopy.objects.filter(
        pk=partner_copy_id, state__in=[PartnerCopy.State.QUEUED, PartnerCopy.State.WORKING]
    ).update(
        state=PartnerCopy.State.FAILED,
        lease_expires_at=None,
        last_error="Reading the pages kept stopping the worker. Try “Read the pages again”, "
        "or ask the patient for a smaller copy of the file.",
    )


def _store_page(
    copy: PartnerCopy, page: pages.Page, proposal: proposals.PageProposal, dpi: int
) -> None:
    buffer = io.BytesIO()
    page.image.save(buffer, "JPEG", quality=PICTURE_QUALITY)
    row = RedactionPage.objects.filter(partner_copy=copy, number=proposal.number).first()
    if row is None:
        row = RedactionPage(partner_copy=copy, number=proposal.number)
    elif row.picture:
        row.picture.delete(save=False)
    row.width, row.height, row.dpi = proposal.width, proposal.height, dpi
    row.source, row.unreadable = proposal.source, proposal.unreadable
    row.words = [{"text": w.text, "box": list(w.box)} for w in proposal.words]
    row.boxes = [
        {
            "box": list(b.box),
            "kind": b.kind,
            "text": b.text,
            "identity": b.identity,
            "source": b.source,
        }
        for b in proposal.boxes
    ]
    row.reviewed = row.no_identifiers = False
    row.picture.save(f"page-{proposal.number}.jpg", ContentFile(buffer.getvalue()), save=False)
    row.save()


def _proposals(
    source: Path, kind: str, identity: Identity, *, salt: str, first: int, last: int
) -> Iterator[tuple[pages.Page, proposals.PageProposal, int]]:
    if kind == "dicom":
        dataset = dicom.deidentify(dicom.read(source), salt=salt)
        picture, _frame = dicom.first_frame_picture(dataset)
        # Small images are enlarged so OCR can read the burned-in text.
        factor = max(1, 1024 // max(picture.size))
        if factor > 1:
            picture = picture.resize((picture.width * factor, picture.height * factor))
        page = pages.ocr_page(
            picture, languages=pages.languages_for(*identity.names), straighten=False
        )
        page.source = "dicom"
        proposal = proposals.PageProposal(
            number=1,
            width=page.image.width,
            height=page.image.height,
            source="dicom",
            unreadable=False,  # a scan with no text on it is the normal case
            boxes=proposals.boxes_for(page, identity),
            words=page.words,
        )
        yield page, proposal, 96
        return
    found = proposals.propose_pages(source, kind, identity, first=first, last=last)
    for page, proposal in found:
        yield page, proposal, pages.PDF_DPI if kind == "pdf" else 200


# --- Review -------------------------------------------------------------------------------------


def _clean_boxes(page: RedactionPage, boxes: list) -> list[dict]:
    cleaned: list[dict] = []
    for item in boxes:
        try:
            left, top, right, bottom = (int(v) for v in item["box"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValidationError(
                "A box was not understood; reload the page and try again."
            ) from error
        left, right = sorted((max(0, left), min(page.width, right)))
        top, bottom = sorted((max(0, top), min(page.height, bottom)))
        if right - left < 2 or bottom - top < 2:
            continue
        cleaned.append(
            {
                "box": [left, top, right, bottom],
                "kind": str(item.get("kind") or "added by hand")[:40],
                "text": str(item.get("text") or "")[:200],
                "identity": bool(item.get("identity")),
                "source": "coordinator" if item.get("source") != "detector" else "detector",
            }
        )
    return cleaned


def page_review(
    *,
    page: RedactionPage,
    boxes: list,
    no_identifiers: bool,
    by: User,
) -> RedactionPage:
    """Save the coordinator's boxes for one page; the page counts as reviewed."""
    cleaned = _clean_boxes(page, boxes)
    if not cleaned and not no_identifiers:
        raise ValidationError(
            "This page has no boxes. Draw a box over each identifier, or tick “No "
            "identifiers on this page”."
        )
    if cleaned and no_identifiers:
        raise ValidationError(
            "You ticked “No identifiers on this page” but the page has boxes. Remove the "
            "boxes or untick it."
        )
    copy = page.partner_copy
    with transaction.atomic():
        page.boxes = cleaned
        page.no_identifiers = no_identifiers
        page.reviewed = True
        page.save(update_fields=["boxes", "no_identifiers", "reviewed"])
        if copy.state == PartnerCopy.State.APPROVED:
            # A change after approval withdraws it until approved again.
            PartnerCopy.objects.filter(pk=copy.pk).update(state=PartnerCopy.State.REVIEW)
        audit_log(
            action=AuditEvent.Action.REDACTION_REVIEWED,
            actor=by,
            case=copy.record.case,
            target=str(copy.record.public_id),
            page=page.number,
            boxes=len(cleaned),
            added=sum(1 for b in cleaned if b["source"] == "coordinator"),
            no_identifiers=no_identifiers,
        )
    return page


def partner_copy_approve(
    *, partner_copy: PartnerCopy, by: User | None, accept_proposals: bool = False
) -> PartnerCopy:
    """Burn the reviewed boxes into every page and store the image-only PDF.

    ``accept_proposals`` (operator command) takes the proposed boxes as they are, except on
    pages OCR could not read: those always need a person's eyes.
    """
    copy = partner_copy
    record = copy.record
    if copy.state not in {PartnerCopy.State.REVIEW, PartnerCopy.State.APPROVED}:
        raise RedactionRefused("The proposals for this record are not ready yet.")
    if copy.source_sha256 != record.sha256:
        raise RedactionRefused("The record changed since the boxes were proposed; propose again.")
    page_rows = list(copy.pages.all())
    if len(page_rows) != copy.page_count:
        raise RedactionRefused("Not every page has been prepared yet.")
    for page in page_rows:
        if page.reviewed:
            continue
        if page.unreadable:
            raise RedactionRefused(
                f"Page {page.number} could not be read by the computer: review it by eye "
                "before approving."
            )
        if not accept_proposals:
            raise RedactionRefused(f"Page {page.number} has not been reviewed yet.")
        if not page.boxes:
            page.no_identifiers = True
        page.reviewed = True
        page.save(update_fields=["reviewed", "no_identifiers"])

    def burned() -> Iterator[tuple[Image.Image, int]]:
        from cases.records.redaction.partner_copy import burn_boxes

        for page in page_rows:
            with page.picture.open("rb") as handle, Image.open(handle) as picture:
                picture.load()
                yield burn_boxes(picture, [b["box"] for b in page.boxes]), page.dpi

    workdir = Path(tempfile.mkdtemp(prefix="partner-copy-", dir=scratch_dir()))
    try:
        output = workdir / "partner-copy.pdf"
        write_image_pdf(burned(), output)
        with transaction.atomic():
            if copy.file:
                copy.file.delete(save=False)
            with output.open("rb") as handle:
                copy.file.save("partner-copy.pdf", File(handle), save=False)
            copy.state = PartnerCopy.State.APPROVED
            copy.approved_sha256 = record.sha256
            copy.reviewed_by = by
            copy.reviewed_at = timezone.now()
            copy.save()
            audit_log(
                action=AuditEvent.Action.REDACTION_APPROVED,
                actor=by,
                case=record.case,
                target=str(record.public_id),
                pages=len(page_rows),
                boxes=sum(len(p.boxes) for p in page_rows),
                sha256=record.sha256,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return copy
