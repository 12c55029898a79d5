"""Add a record received by post or e-mail, through the same checks as an upload."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from cases.domain import reference
from cases.models import Case, RecordCategory
from cases.records.processing import record_process
from cases.records.services import record_add


class Command(BaseCommand):
    help = "Import a file into a case as a record, checking it now (not in a worker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", help="the case reference, e.g. MC-7K3Q-9XD2")
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--category", required=True, choices=[value for value, _ in RecordCategory.choices]
        )
        parser.add_argument("--date", type=date.fromisoformat, help="document date, YYYY-MM-DD")
        parser.add_argument("--description", default="")

    def handle(self, *args, ref: str, path: Path, category: str, **options) -> None:
        canonical = reference.normalise(ref)
        case = Case.objects.filter(reference=canonical).first() if canonical else None
        if case is None:
            raise CommandError(f"No case with the reference {ref!r}.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        with path.open("rb") as handle:
            upload = File(handle, name=path.name)
            result = record_add(
                case=case,
                file=upload,
                category=category,
                document_date=options["date"],
                description=options["description"],
                run_checks=False,
            )
        if result.error:
            raise CommandError(result.error)
        if result.duplicate_of is not None:
            raise CommandError(result.message)
        assert result.record is not None  # neither an error nor a duplicate: it was stored
        record = record_process(record_id=result.record.pk)
        if record is None:
            raise CommandError("Someone else is checking this record already.")
        if record.state != record.State.READY:
            raise CommandError(f"Rejected: {record.rejection_reason}")
        pages = f", {record.page_count} pages" if record.page_count else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {record.original_name} to {case.reference} as "
                f"{record.get_category_display()} ({record.sniffed_type}{pages}). "
                f"Record {record.public_id}."
            )
        )
