"""What every format's check shares: the refusal, the result, limits and decoding guards."""

from __future__ import annotations

import struct
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ImageFile

MAX_PIXELS = 50_000_000  # explicit decompression-bomb limit, checked before any pixel is decoded
MAX_PDF_PAGES = 2000
THUMBNAIL_SIDE = 400
JPEG_QUALITY = 90
THUMBNAIL_QUALITY = 80


# What decoders raise about bad input. An OSError only counts when it carries no errno:
# decoders raise bare OSErrors, while a full disk or a missing file sets one.
_IMAGE_ERRORS: tuple[type[BaseException], ...] = (
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    NotImplementedError,
)


class RecordRejected(Exception):
    """A file we will not accept; .reason is plain English the uploader can read and act on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class CheckedRecord:
    kind: str  # "pdf" | "image" | "dicom"
    sniffed_type: str  # MIME from content, e.g. "image/heic"
    derivative: Path  # the cleaned file to keep and serve
    derivative_type: str
    thumbnail: Path  # JPEG, longest side at most 400 px
    page_count: int | None = None
    metadata: dict = field(default_factory=dict)  # JSON-safe, never identifying
    preview: Path | None = None  # DICOM only: a JPEG to look at
    # Photos and DICOM: the page-sized JPEG a case file prints, made once here so no case
    # file build decodes the original again.
    page_image: Path | None = None


@contextmanager
def _strict_decoding():
    """Refuse truncated images while checking, whatever other code set.

    WeasyPrint sets ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` when it is imported, and
    the worker imports it for case files; a cut-off photo must still be refused here.
    """
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
