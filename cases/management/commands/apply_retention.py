"""Apply the retention rules now, or list what they would erase: ``--dry-run``."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases.privacy.retention import retention_apply, retention_due


class Command(BaseCommand):
    help = (
        "Erase ended cases past the retention period, originals of refused uploads past "
        "theirs, and expired data downloads. --dry-run lists them and erases nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run: bool, **options) -> None:
        if dry_run:
            self.stdout.write("Dry run: nothing is erased.")
            self.stdout.write("\n".join(retention_due().lines()))
            return
        self.stdout.write("\n".join(retention_apply().lines()))
        self.stdout.write("Done.")
