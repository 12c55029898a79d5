"""``manage.py health``: the container health check, with nothing outside the image.

Runs the same checks as ``/healthz/`` (database, broker, storage) and, with
``--process NAME``, also that a ``celery ... NAME`` process runs in this container (the
slim image has no ``pgrep``, so /proc is read directly). Exit status 0 means healthy.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from medchina.health import run_checks


def celery_process_running(name: str, proc: Path = Path("/proc")) -> bool:
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        words = [word.decode(errors="replace") for word in argv if word]
        if any(Path(word).name == "celery" or word == "celery" for word in words) and (
            name in words
        ):
            return True
    return False


class Command(BaseCommand):
    help = "Exit 0 when the database, broker and storage answer (and --process runs)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--process",
            choices=["beat", "worker"],
            help="also require a running celery process of this kind",
        )

    def handle(self, *args, process: str | None = None, **options) -> None:
        results = run_checks()
        if process:
            results[f"celery {process}"] = "ok" if celery_process_running(process) else "error"
        for name, state in results.items():
            self.stdout.write(f"{name}: {state}")
        failed = [name for name, state in results.items() if state != "ok"]
        if failed:
            raise CommandError("unhealthy: " + ", ".join(failed))
