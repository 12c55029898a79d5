"""Page images of a case file, made by the worker so nobody downloads a PDF to look at it."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile

from cases.models import CaseFile

PAGE_WIDTH = 900  # pixels: readable in the page viewer, small enough as a thumbnail
MAX_PREVIEW_PAGES = 400
RENDER_TIMEOUT = 240  # seconds for the whole file


def page_name(case_file: CaseFile, number: int) -> str:
    return f"case-files/{case_file.public_id}/pages/{number:04d}.jpg"


def case_file_pages_render(*, case_file_id: int) -> int:
    """Render the first pages of a ready case file as JPEGs; returns how many.

    Idempotent: a file that already has its pages, or is gone, is left alone.
    """
    case_file = CaseFile.objects.filter(pk=case_file_id, state=CaseFile.State.READY).first()
    if case_file is None or case_file.preview_pages:
        return case_file.preview_pages if case_file else 0
    storage = case_file.file.storage
    with tempfile.TemporaryDirectory(prefix="mc-pages-") as scratch:
        source = Path(scratch) / "file.pdf"
        with case_file.file.open("rb") as handle, source.open("wb") as out:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                out.write(chunk)
        subprocess.run(
            [
                "pdftoppm",
                "-jpeg",
                "-jpegopt",
                "quality=70",
                "-scale-to",
                str(PAGE_WIDTH),
                "-l",
                str(MAX_PREVIEW_PAGES),
                str(source),
                str(Path(scratch) / "p"),
            ],
            check=True,
            capture_output=True,
            timeout=RENDER_TIMEOUT,
        )
        images = sorted(Path(scratch).glob("p-*.jpg"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        for number, image in enumerate(images, 1):
            name = page_name(case_file, number)
            if storage.exists(name):
                storage.delete(name)
            storage.save(name, ContentFile(image.read_bytes()))
    CaseFile.objects.filter(pk=case_file.pk).update(preview_pages=len(images))
    return len(images)
