"""Build a case file now, in this process, with the same code the worker runs."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.casefile.partner import partner_file_problems
from cases.casefile.render import case_file_build
from cases.casefile.verification import verify_pdf
from cases.domain import reference
from cases.models import Case, CaseFile
from cases.records.redaction.selectors import case_identity


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
            problems = partner_file_problems(case)
            if problems:
                raise CommandError("Refused: " + " ".join(problems))
        output = output or Path.cwd() / f"{case.reference}-{variant}.pdf"
        started = time.monotonic()
        built = case_file_build(case, variant, output.resolve())
        seconds = time.monotonic() - started
        self.stdout.write(f"{output.resolve()}  {built.page_count} pages  {seconds:.2f} s")
        for item in built.excluded:
            self.stdout.write(f"  not included: record {item['number']}: {item['reason']}")
        if variant == CaseFile.Variant.PARTNER:
            # The same independent check the worker runs before a partner file may be approved.
            findings = verify_pdf(output.resolve(), case_identity(case))
            if findings:
                for finding in findings:
                    self.stderr.write(f"  IDENTIFIER FOUND: {finding}")
                raise CommandError(f"Verification found {len(findings)} identifier(s).")
            self.stdout.write("  verified: no identifiers found in the text or the pictures")
