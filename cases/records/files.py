"""Local scratch space for work on a copy of a record (checks, combining photos)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def scratch_dir() -> str:
    folder = Path(settings.PRIVATE_STORAGE_ROOT) / ".scratch"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


# Marks a record whose original is a bundle of photos still to be combined into a PDF.
COMBINE_PHOTOS = "combine_photos"
