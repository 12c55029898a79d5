"""Checks on uploaded medical records: what a file really is, and a clean copy safe to keep.

Plain functions, no models and no database. Every problem with the file itself becomes
``RecordRejected`` with a reason the uploader can act on; anything else (a full disk, a bug)
propagates unchanged so the Celery task can retry or fail loudly.

Choices worth knowing:

* Type comes from the content only (libmagic, plus a few magic-byte checks), never the name.
* Images are decoded and re-encoded into a new file: no EXIF, GPS, XMP, comments, text chunks
  or ICC profile (colours are converted to sRGB first), and nothing appended survives.
  PNG stays PNG (and a bilevel fax-style TIFF becomes PNG, which keeps it sharp and small);
  everything else becomes a JPEG.
* A multi-page TIFF (common for scanned letters and faxes) becomes a PDF with every page, so
  no page is silently lost: ``kind`` stays "image", ``derivative_type`` is "application/pdf".
* PDFs are kept as PDFs with active content (scripts, launch actions, attachments, XFA)
  removed. Encrypted PDFs, even ones locked only against editing, are rejected.
* DICOM files are kept byte for byte except the 128-byte preamble, which is zeroed because
  it can smuggle a program (a PE/DICOM polyglot). A DICOM without pixel data, or whose
  compression we cannot decode, or too large to preview, is accepted with a placeholder
  preview (``metadata["preview_available"]`` is False): the file is still useful to the
  doctors' own viewers. A DICOMDIR (a CD's index file, not a scan) is rejected.
"""

from __future__ import annotations

from pathlib import Path

from cases.records.checks.common import CheckedRecord, RecordRejected, _strict_decoding
from cases.records.checks.dicom import _check_dicom
from cases.records.checks.images import _check_image, _images_to_pdf
from cases.records.checks.messages import EMPTY
from cases.records.checks.pdf import _check_pdf
from cases.records.checks.sniff import ALLOWED, _not_accepted, sniff_type

__all__ = [
    "ALLOWED",
    "CheckedRecord",
    "RecordRejected",
    "images_to_pdf",
    "record_check",
    "sniff_type",
]


def record_check(source: Path, workdir: Path) -> CheckedRecord:
    """Check one uploaded file and write its clean copy and thumbnail into ``workdir``.

    Raises ``RecordRejected`` when the file itself is the problem.
    """
    with _strict_decoding():
        return _record_check(Path(source), Path(workdir))


def _record_check(source: Path, workdir: Path) -> CheckedRecord:
    if source.stat().st_size == 0:
        raise RecordRejected(EMPTY)
    sniffed = sniff_type(source)
    if sniffed not in ALLOWED:
        raise RecordRejected(_not_accepted(sniffed))
    workdir.mkdir(parents=True, exist_ok=True)
    if sniffed == "application/pdf":
        return _check_pdf(source, workdir)
    if sniffed == "application/dicom":
        return _check_dicom(source, workdir)
    return _check_image(source, sniffed, workdir)


def images_to_pdf(images: list[Path], output: Path) -> int:
    """Combine photos (e.g. the pages of a letter) into one PDF at ``output``; return its pages.

    Each photo is checked like an upload and turned upright; nothing from its metadata is
    kept. A multi-page TIFF contributes all its pages.
    """
    if not images:
        raise ValueError("images_to_pdf needs at least one image")
    with _strict_decoding():
        return _images_to_pdf(images, output)
