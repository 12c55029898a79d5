"""Build a case file now, in this process, with the same code the worker runs."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.access import sharing_consent_active
from cases.casefile.identifiers import identifier_scan
from cases.casefile.render import case_file_build
from cases.domain import reference
from cases.models import Case, CaseFile


class Command(BaseCommand):
    help = "Render a case file synchronously and print its path, page count and time."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref")
        parser.add_argument("--variant", choices=list(CaseFile.Variant.values), required=True)
        parser.add_argument("--output", type=Path, help="where to write the PDF")

    def handle(self, *args, ref: str, variant: str, output: Path | None, **options) -> None:
        canonical = reference.normalise(ref)
        case = Case.objects.filter(reference=canonical).first() if canonical else None
        if case is None:
            raise CommandError(f"No case with the reference {ref!r}.")
        if variant == CaseFile.Variant.PARTNER:
            if not sharing_consent_active(case):
                raise CommandError("Refused: the patient has not given consent to sharing.")
            hits = identifier_scan(case)
            if hits:
                raise CommandError(
                    f"Refused: {len(hits)} possible identifier(s) in the summary, e.g. a "
                    f"{hits[0].kind} in {hits[0].section}. Resolve them in the admin first."
                )
        output = output or Path.cwd() / f"{case.reference}-{variant}.pdf"
        started = time.monotonic()
        built = case_file_build(case, variant, output.resolve())
        seconds = time.monotonic() - started
        self.stdout.write(f"{output.resolve()}  {built.page_count} pages  {seconds:.2f} s")
        for item in built.excluded:
            self.stdout.write(f"  not included: record {item['number']}: {item['reason']}")
