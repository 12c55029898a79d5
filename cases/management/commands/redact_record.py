"""Propose identifier boxes for one record now, print them, and optionally approve them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cases.domain import reference
from cases.models import Case, PartnerCopy
from cases.records.redaction.selectors import partner_records
from cases.records.redaction.services import (
    RedactionRefused,
    partner_copy_approve,
    partner_copy_prepare,
    partner_copy_propose,
)


class Command(BaseCommand):
    help = (
        "Find identifiers on a record's pages (RECORD_NO as numbered in the partner file) "
        "and print the boxes per page; with --accept, approve the proposed boxes as they are."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", help="the case reference, e.g. MC-7K3Q-9XD2")
        parser.add_argument("record_no", type=int)
        parser.add_argument(
            "--accept",
            action="store_true",
            help="approve the proposals (refused if a page could not be read)",
        )

    def handle(self, *args, ref: str, record_no: int, accept: bool, **options) -> None:
        canonical = reference.normalise(ref)
        case = Case.objects.filter(reference=canonical).first() if canonical else None
        if case is None:
            raise CommandError(f"No case with the reference {ref!r}.")
        records = partner_records(case)
        if not 1 <= record_no <= len(records):
            raise CommandError(
                f"Case {case.reference} has {len(records)} ready record(s); "
                f"choose a number from 1 to {len(records)}."
            )
        record = records[record_no - 1]
        copy = partner_copy_prepare(record=record)
        following: int | None = 1
        while following:
            following = partner_copy_propose(partner_copy_id=copy.pk, first_page=following)
        copy.refresh_from_db()
        if copy.state == PartnerCopy.State.FAILED:
            raise CommandError(copy.last_error)
        self.stdout.write(
            f"Record {record_no}: {record.get_category_display()}, {copy.page_count} page(s)"
        )
        for page in copy.pages.all():
            flag = "  COULD NOT READ: review by eye" if page.unreadable else ""
            self.stdout.write(
                f"  page {page.number} ({page.source}): {len(page.boxes)} box(es){flag}"
            )
            for box in page.boxes:
                self.stdout.write(f"    {box['kind']}: {box['text']!r} at {box['box']}")
        if accept:
            try:
                partner_copy_approve(partner_copy=copy, by=None, accept_proposals=True)
            except RedactionRefused as refused:
                raise CommandError(" ".join(refused.messages)) from refused
            self.stdout.write(f"Approved: {copy.file.name}")
