"""Write a case's data download: ``manage.py export_case REF --output FILE.zip``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.audit import audit_log
from cases.domain.reference import normalise
from cases.models import AuditEvent, Case
from cases.privacy.build import data_export_build_zip


class Command(BaseCommand):
    help = (
        "Write the zip a patient downloads (enquiry, consents, records, released case files, "
        "messages, audit trail) to a file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref", metavar="REF")
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args: Any, ref: str, output: Path, **options: Any) -> None:
        canonical = normalise(ref)
        case = Case.objects.filter(pk=canonical).first() if canonical else None
        if case is None:
            raise CommandError(f"No case with the reference {ref!r}.")
        if output.exists():
            raise CommandError(f"{output} already exists; choose another name.")
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        # Written whole under another name, then moved into place: never half a zip.
        partial = output.with_name(output.name + ".part")
        try:
            count = data_export_build_zip(case, partial)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
        audit_log(action=AuditEvent.Action.EXPORT_REQUESTED, case=case, target="operator")
        self.stdout.write(f"Wrote {output} ({count} files, {output.stat().st_size:,} bytes).")
