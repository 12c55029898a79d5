"""Erase one case and everything about it: ``manage.py erase_case REF --confirm``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.domain.reference import normalise
from cases.models import Case
from cases.privacy.erasure import Reason, case_erase


class Command(BaseCommand):
    help = (
        "Erase a case: its rows, its stored files, and the accounts only it used "
        "(a tombstone stays in the audit). Prints what it removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref", metavar="REF")
        parser.add_argument(
            "--confirm", action="store_true", help="Really erase (without it, nothing happens)."
        )

    def handle(self, *args: Any, ref: str, confirm: bool, **options: Any) -> None:
        canonical = normalise(ref)
        case = Case.objects.filter(pk=canonical).first() if canonical else None
        if case is None:
            raise CommandError(f"No case with the reference {ref!r}.")
        if not confirm:
            raise CommandError(
                f"Erasing {case.reference} cannot be undone. Run again with --confirm."
            )
        erased = case_erase(case=case, by=None, reason=Reason.OPERATOR)
        self.stdout.write("\n".join(erased.lines()))
